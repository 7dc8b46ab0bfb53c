# shellcheck shell=bash
# Host preparation for the kvm scenario: checks that make a test device safe to destroy,
# partitioning + mkfs + mounts, and the state file teardown reads. Sourced by kvm-prepare-host
# (after lib/common.sh, lib/json.sh, lib/events.sh), never executed.

# kvm_host_root_devices : print the device holding / and every device it sits on (one a line).
kvm_host_root_devices() {
  local source
  source=$(findmnt -rno SOURCE / 2>/dev/null) || return 0
  source=${source%%\[*} # btrfs: /dev/sda2[/@] -> /dev/sda2
  [[ -b $source ]] || return 0
  readlink -f -- "$source"
  # -s: the inverse tree (the device, then what it sits on: partition -> disk, dm -> pv...)
  lsblk -nrpso NAME -- "$source" 2>/dev/null | while read -r name; do readlink -f -- "$name"; done
}

# kvm_host_check_device DEVICE : refuse (orch_die) unless DEVICE is a whole, unused block device.
# Nothing is changed by this function.
kvm_host_check_device() {
  local dev=$1 real type name target holders
  [[ -n $dev ]] || orch_die "refusing: no test device named (KVM_TEST_DEVICE is empty)"
  [[ -e $dev ]] || orch_die "refusing: test device $dev does not exist"
  real=$(readlink -f -- "$dev")
  [[ -b $real ]] || orch_die "refusing: $dev is not a block device"
  while read -r name; do
    [[ $name == "$real" ]] && orch_die "refusing: $dev holds the root filesystem (/)"
  done < <(kvm_host_root_devices)
  type=$(lsblk -dnro TYPE -- "$real" 2>/dev/null) || orch_die "refusing: lsblk cannot read $dev"
  case $type in
    disk | loop) ;;
    *) orch_die "refusing: $dev is a '$type', not a whole disk (name the disk; it gets a new partition table)" ;;
  esac
  # the device and everything on it (partitions, dm/md on top): none may be mounted, swap, or held
  while read -r name; do
    [[ -n $name ]] || continue
    target=$(findmnt -rno TARGET --source "$name" 2>/dev/null | head -n 1) || true
    if [[ -n $target ]]; then
      if [[ $name == "$real" ]]; then
        orch_die "refusing: $dev is mounted on $target"
      fi
      orch_die "refusing: $dev holds a mounted filesystem ($name on $target)"
    fi
    if grep -q -- "^${name}[[:space:]]" /proc/swaps 2>/dev/null; then
      orch_die "refusing: $dev holds active swap ($name)"
    fi
  done < <(lsblk -nrpo NAME -- "$real" 2>/dev/null)
  for holders in /sys/class/block/"${real##*/}"/holders/*; do
    [[ -e $holders ]] && orch_die "refusing: $dev is held by ${holders##*/} (device-mapper, md or similar)"
  done
  return 0
}

# kvm_host_parse_filesystems "SPEC..." : validate NAME[:FS] entries; sets KVM_HOST_NAMES and
# KVM_HOST_FS (parallel arrays). FS is xfs, btrfs, ext4 or tmpfs; NAME defaults to FS.
kvm_host_parse_filesystems() {
  local entry name fs seen=' '
  KVM_HOST_NAMES=()
  KVM_HOST_FS=()
  for entry in $1; do
    name=${entry%%:*}
    fs=${entry#*:}
    [[ $name =~ ^[a-z0-9][a-z0-9_.]*$ ]] || orch_die "filesystem entry '$entry': name must match [a-z0-9][a-z0-9_.]*"
    case $fs in
      xfs | btrfs | ext4 | tmpfs) ;;
      *) orch_die "filesystem entry '$entry': filesystem must be xfs, btrfs, ext4 or tmpfs" ;;
    esac
    [[ $seen == *" $name "* ]] && orch_die "filesystem entry '$entry': name '$name' given twice"
    seen+="$name "
    KVM_HOST_NAMES+=("$name")
    KVM_HOST_FS+=("$fs")
  done
  ((${#KVM_HOST_NAMES[@]} > 0)) || orch_die "no filesystems requested (KVM_FILESYSTEMS is empty)"
}

# kvm_host_partitions DEVICE : print the device's partitions in order, one a line.
kvm_host_partitions() {
  lsblk -nrpo NAME,TYPE -- "$1" | while read -r name type; do
    [[ $type == part ]] && printf '%s\n' "$name"
  done
  return 0
}

# kvm_host_wait_partitions DEVICE COUNT : re-read the table until COUNT partition nodes exist.
kvm_host_wait_partitions() {
  local dev=$1 count=$2 try parts
  for ((try = 0; try < 50; try++)); do
    mapfile -t parts < <(kvm_host_partitions "$dev")
    if ((${#parts[@]} == count)); then
      local p ok=1
      for p in "${parts[@]}"; do [[ -b $p ]] || ok=0; done
      ((ok)) && return 0
    fi
    if ((try % 10 == 0)); then
      partx -u -- "$dev" >/dev/null 2>&1 || partx -a -- "$dev" >/dev/null 2>&1 || true
      orch_have_cmd udevadm && udevadm settle --timeout=5 >/dev/null 2>&1 || true
    fi
    sleep 0.2
  done
  orch_die "the kernel did not show $count partitions on $dev (loop device without partition scan? use losetup -P)"
}

# kvm_host_mkfs FS PARTITION LABEL : make a filesystem, forcing over old signatures.
kvm_host_mkfs() {
  local fs=$1 part=$2 label=$3
  case $fs in
    xfs) mkfs.xfs -q -f -L "${label:0:12}" -- "$part" ;;
    btrfs) mkfs.btrfs -q -f -L "$label" -- "$part" >/dev/null ;;
    ext4) mkfs.ext4 -q -F -L "${label:0:16}" -- "$part" ;;
    *) orch_die "kvm_host_mkfs: unknown filesystem $fs" ;;
  esac
}

# kvm_host_state_add KEY VALUE : append "KEY<TAB>VALUE" to the state file teardown reads.
kvm_host_state_add() {
  [[ $2 != *[$'\t\n']* ]] || orch_die "path holds a tab or newline: $2"
  printf '%s\t%s\n' "$1" "$2" >>"$KVM_HOST_STATE"
}

# kvm_host_wipe DEVICE : wipe signatures of every partition, then of the device (GPT, both copies),
# and tell the kernel the partitions are gone.
kvm_host_wipe() {
  local dev=$1 part
  while read -r part; do
    [[ -n $part ]] && wipefs -q -a -- "$part" >/dev/null 2>&1 || true
  done < <(kvm_host_partitions "$dev")
  wipefs -q -a -- "$dev" >/dev/null
  partx -d -- "$dev" >/dev/null 2>&1 || true
  blockdev --rereadpt -- "$dev" >/dev/null 2>&1 || true
}
