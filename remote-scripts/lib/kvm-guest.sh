# shellcheck shell=bash
# Guests of the kvm scenario: libvirt calls, the domain type, a point's disks (the guest's own
# disk from the base image, the test disk on a backing store), QASET's inputs written into the
# guest's disk before boot, and QASET's /var/log/qaset read back out of it. Two ways into a
# guest's filesystem:
#   guestfish (libguestfs) — any image format and layout, as in the seed; seconds per call
#   debugfs   (e2fsprogs)  — a raw image that is one ext4 filesystem; milliseconds per call
# Sourced by remote-scripts/kvm, never executed; needs lib/common.sh, lib/json.sh, lib/events.sh.

# kvm_virsh ARGS... : virsh on the scenario's libvirt URI, quiet.
kvm_virsh() {
  virsh -q -c "${KVM_LIBVIRT_URI:-qemu:///system}" "$@"
}

# kvm_now_ms : milliseconds since the epoch.
kvm_now_ms() {
  local now=${EPOCHREALTIME/./}
  printf '%s' "${now:0:13}"
}

# kvm_safe_name TEXT : TEXT with every character outside [A-Za-z0-9_.-] turned into "_".
kvm_safe_name() {
  printf '%s' "${1//[^A-Za-z0-9_.-]/_}"
}

# kvm_xml_escape_to VAR TEXT : set VAR to TEXT escaped for an XML attribute or element.
kvm_xml_escape_to() {
  local -n _kvm_out=$1
  local s=$2
  s=${s//&/&amp;}
  s=${s//</&lt;}
  s=${s//>/&gt;}
  s=${s//\"/&quot;}
  s=${s//\'/&apos;}
  _kvm_out=$s
}

# kvm_kernel_for_probe : print a kernel to boot for the /dev/kvm probe (the guest's, else the host's).
kvm_kernel_for_probe() {
  local k
  if [[ -n ${KVM_KERNEL:-} && -r $KVM_KERNEL ]]; then
    printf '%s' "$KVM_KERNEL"
    return 0
  fi
  for k in /boot/vmlinuz-*; do
    [[ -r $k ]] && { printf '%s' "$k"; return 0; }
  done
  return 1
}

# kvm_dev_kvm_usable : true when hardware virtualization really runs a guest: /dev/kvm opens, and
# a kernel booted with -accel kvm prints its banner within a few seconds (a nested host without
# the CPU feature accepts the accelerator, then never runs a guest instruction).
kvm_dev_kvm_usable() {
  local kernel out rc=0
  [[ -c /dev/kvm && -r /dev/kvm && -w /dev/kvm ]] || return 1
  orch_have_cmd qemu-system-x86_64 || return 1
  kernel=$(kvm_kernel_for_probe) || return 0 # nothing to boot: trust the device
  out=$(mktemp)
  timeout 8 qemu-system-x86_64 -accel kvm -m 128 -nodefaults -display none -no-reboot \
    -kernel "$kernel" -append 'console=ttyS0 panic=-1' -serial "file:$out" >/dev/null 2>&1 || rc=$?
  if grep -q 'Linux version' "$out"; then rc=0; else rc=1; fi
  rm -f -- "$out"
  return "$rc"
}

# kvm_dev_kvm_usable_cached CACHE_DIR : kvm_dev_kvm_usable, remembered per boot in CACHE_DIR (the
# answer does not change while the host runs; the probe costs seconds where KVM does not work).
kvm_dev_kvm_usable_cached() {
  local dir=$1 boot file answer
  boot=$(cat /proc/sys/kernel/random/boot_id 2>/dev/null) || boot=''
  [[ $boot =~ ^[0-9a-f-]+$ ]] || { kvm_dev_kvm_usable; return; }
  file=$dir/kvm-usable.$boot
  if [[ -r $file ]]; then
    read -r answer <"$file" || answer=''
    [[ $answer == yes ]] && return 0
    [[ $answer == no ]] && return 1
  fi
  if kvm_dev_kvm_usable; then answer=yes; else answer=no; fi
  mkdir -p -- "$dir" && printf '%s\n' "$answer" >"$file.$$" && mv -f -- "$file.$$" "$file" || true
  [[ $answer == yes ]]
}

# kvm_resolve_domain_type : print qemu or kvm for KVM_DOMAIN_TYPE (auto|qemu|kvm).
kvm_resolve_domain_type() {
  local cache=${ORCH_CACHE:-$ORCH_JOB_DIR}
  case ${KVM_DOMAIN_TYPE:-auto} in
    qemu) printf qemu ;;
    kvm)
      kvm_dev_kvm_usable_cached "$cache" || orch_die "domain_type kvm, but /dev/kvm does not run a guest on this host (missing, not accessible, or nested without the CPU feature); use domain_type qemu or auto"
      printf kvm
      ;;
    auto) if kvm_dev_kvm_usable_cached "$cache"; then printf kvm; else printf qemu; fi ;;
    *) orch_die "KVM_DOMAIN_TYPE must be auto, qemu or kvm, got '${KVM_DOMAIN_TYPE}'" ;;
  esac
}

# kvm_guestfs_env : libguestfs settings for this host (its own qemu; TCG where KVM does not run).
kvm_guestfs_env() {
  export LIBGUESTFS_BACKEND=direct
  if [[ ${KVM_RESOLVED_TYPE:-qemu} == qemu ]]; then
    export LIBGUESTFS_BACKEND_SETTINGS=force_tcg
  fi
}

# kvm_guestfish MODE IMAGE FORMAT CMD... : guestfish --MODE (rw|ro) on IMAGE with the guest's
# root mounted (inspection or KVM_GUEST_ROOT), then CMD (guestfish commands separated by ":").
kvm_guestfish() {
  local mode=$1 image=$2 format=$3 mount
  shift 3
  kvm_guestfs_env
  if [[ ${KVM_GUEST_ROOT:-inspect} == inspect ]]; then mount=(-i); else mount=(-m "$KVM_GUEST_ROOT"); fi
  guestfish "--$mode" --format="$format" -a "$image" "${mount[@]}" -- "$@"
}

# kvm_make_test_disk FILE FORMAT BYTES : a sparse test disk with a GPT label and one partition
# (the guest's /dev/vdb1, QASET's SQ_ABUILD_PARTITION), raw or converted to qcow2.
kvm_make_test_disk() {
  local file=$1 format=$2 bytes=$3 raw
  raw=$file.raw.tmp
  rm -f -- "$raw"
  truncate -s "$bytes" -- "$raw"
  parted --script -- "$raw" mklabel gpt mkpart qaset 1MiB 100%
  case $format in
    raw) mv -f -- "$raw" "$file" ;;
    qcow2)
      qemu-img convert -q -f raw -O qcow2 -- "$raw" "$file"
      rm -f -- "$raw"
      ;;
    *) orch_die "test disk format must be raw or qcow2, got '$format'" ;;
  esac
  chmod 0644 -- "$file"
}

# kvm_make_guest_disk DIR FILE_VAR FORMAT_VAR : the guest's own disk in DIR from the base image
# (a qcow2 overlay, or a copy in the base image's format); its file name and format go into the
# named variables. The base image itself is never opened for writing.
kvm_make_guest_disk() {
  local dir=$1
  local -n _kvm_file=$2 _kvm_format=$3
  case ${KVM_BASE_COPY:-overlay} in
    overlay)
      _kvm_format=qcow2
      _kvm_file=$dir/guest.qcow2
      qemu-img create -q -f qcow2 -F "${KVM_BASE_FORMAT:-raw}" -b "$KVM_BASE_IMAGE" -- "$_kvm_file"
      ;;
    copy)
      _kvm_format=${KVM_BASE_FORMAT:-raw}
      _kvm_file=$dir/guest.$_kvm_format
      cp --sparse=always --reflink=auto -- "$KVM_BASE_IMAGE" "$_kvm_file"
      ;;
    *) orch_die "KVM_BASE_COPY must be overlay or copy, got '${KVM_BASE_COPY}'" ;;
  esac
  chmod 0644 -- "$_kvm_file"
}

# kvm_check_odirect DIR : fail unless DIR's filesystem takes O_DIRECT (cache=none/directsync need it).
kvm_check_odirect() {
  local probe=$1/.orchestrate-odirect.$$
  if ! dd if=/dev/zero of="$probe" bs=4096 count=1 oflag=direct status=none 2>/dev/null; then
    rm -f -- "$probe"
    return 1
  fi
  rm -f -- "$probe"
}

# kvm_debugfs_cmds IMAGE : run the debugfs commands on stdin against IMAGE (read-write) and
# fail on any error debugfs reports (it exits 0 whatever happens).
kvm_debugfs_cmds() {
  local image=$1 log
  log=$(debugfs -w -f - -- "$image" 2>&1 >/dev/null) || orch_die "debugfs failed on $image: $log"
  # debugfs's banner, directories that exist already and removals of files that are not there
  log=$(printf '%s\n' "$log" | grep -v -e '^debugfs [0-9]' -e 'Ext2 directory already exists' -e '^rm: File not found by ext2_lookup' || true)
  [[ -z $log ]] || orch_die "debugfs on $image: $log"
}

# kvm_inject DISK FORMAT DIR : write DIR/list and DIR/config into the guest as /root/qaset/list
# and /root/qaset/config, and the deployment script (KVM_DEPLOYMENT_SCRIPT) as /<its name>,
# then read them back to be sure they are there.
kvm_inject() {
  local disk=$1 format=$2 dir=$3 script_name='' back
  [[ -n ${KVM_DEPLOYMENT_SCRIPT:-} ]] && script_name=${KVM_DEPLOYMENT_SCRIPT##*/}
  # the tools read these paths from command lines of their own: no whitespace or quotes
  [[ $dir${KVM_DEPLOYMENT_SCRIPT:-} != *[[:space:]\"\'\\]* ]] || orch_die "refusing a path with whitespace or quotes: $dir ${KVM_DEPLOYMENT_SCRIPT:-}"
  case ${KVM_INJECT:-guestfish} in
    debugfs)
      {
        printf 'mkdir /root\nmkdir /root/qaset\n'
        printf 'rm /root/qaset/list\nwrite %s /root/qaset/list\n' "$dir/list"
        printf 'rm /root/qaset/config\nwrite %s /root/qaset/config\n' "$dir/config"
        if [[ -n $script_name ]]; then
          printf 'rm /%s\nwrite %s /%s\nsif /%s mode 0100755\n' "$script_name" "$KVM_DEPLOYMENT_SCRIPT" "$script_name" "$script_name"
        fi
      } | kvm_debugfs_cmds "$disk"
      back=$(debugfs -R 'cat /root/qaset/list' -- "$disk" 2>/dev/null)
      ;;
    guestfish)
      # one appliance launch: write, then read the run list back
      local -a cmds=(mkdir-p /root/qaset : upload "$dir/list" /root/qaset/list : upload "$dir/config" /root/qaset/config)
      [[ -n $script_name ]] && cmds+=(: upload "$KVM_DEPLOYMENT_SCRIPT" "/$script_name" : chmod 0755 "/$script_name")
      back=$(kvm_guestfish rw "$disk" "$format" "${cmds[@]}" : cat /root/qaset/list)
      ;;
    *) orch_die "KVM_INJECT must be guestfish or debugfs, got '${KVM_INJECT}'" ;;
  esac
  [[ $back == "$(<"$dir/list")" ]] || orch_die "the run list read back from the guest's disk differs from the one written"
}

# kvm_guest_control DISK FORMAT DEST : copy the guest's /var/log/qaset/control to DEST/control
# (replacing it); true when it exists. Safe while the guest runs: read-only (debugfs -c,
# guestfish --ro), one call either way.
kvm_guest_control() {
  local disk=$1 format=$2 dest=$3
  rm -rf -- "$dest/control"
  mkdir -p -- "$dest"
  case ${KVM_INJECT:-guestfish} in
    debugfs) debugfs -c -R "rdump /var/log/qaset/control $dest" -- "$disk" >/dev/null 2>&1 || true ;;
    guestfish) kvm_guestfish ro "$disk" "$format" copy-out /var/log/qaset/control "$dest" >/dev/null 2>&1 || true ;;
  esac
  [[ -d $dest/control ]]
}

# kvm_collect DISK FORMAT DEST : copy the guest's /var/log/qaset to DEST/qaset (the guest is off).
# True when something was copied.
kvm_collect() {
  local disk=$1 format=$2 dest=$3
  mkdir -p -- "$dest"
  case ${KVM_INJECT:-guestfish} in
    debugfs) debugfs -R "rdump /var/log/qaset $dest" -- "$disk" >/dev/null 2>&1 || true ;;
    guestfish)
      # a guest that wrote no /var/log/qaset is the caller's to report; a guestfish that could not
      # read the disk at all is reported here, with its own words
      local err
      if ! err=$(kvm_guestfish ro "$disk" "$format" copy-out /var/log/qaset "$dest" 2>&1 >/dev/null); then
        [[ $err == *"is not a file or directory"* ]] || orch_log_event warning "guestfish could not copy /var/log/qaset out: ${err:0:400}"
      fi
      ;;
  esac
  [[ -d $dest/qaset ]]
}

# kvm_domain_gone UUID : destroy (if running) and undefine the domain; true when it is gone.
kvm_domain_gone() {
  local uuid=$1 state
  state=$(kvm_virsh domstate "$uuid" 2>/dev/null) || return 0
  [[ $state == 'shut off' ]] || kvm_virsh destroy "$uuid" >/dev/null 2>&1 || true
  kvm_virsh undefine "$uuid" >/dev/null 2>&1 || true
  ! kvm_virsh domstate "$uuid" >/dev/null 2>&1
}

# kvm_domain_shutdown UUID SECONDS : ask the guest to power off; destroy it after SECONDS.
kvm_domain_shutdown() {
  local uuid=$1 seconds=$2 i state
  kvm_virsh shutdown "$uuid" >/dev/null 2>&1 || true
  for ((i = 0; i < seconds * 2; i++)); do
    state=$(kvm_virsh domstate "$uuid" 2>/dev/null) || return 0
    [[ $state == 'shut off' ]] && return 0
    sleep 0.5
  done
  kvm_virsh destroy "$uuid" >/dev/null 2>&1 || true
}
