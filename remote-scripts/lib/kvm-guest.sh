# shellcheck shell=bash
# shellcheck disable=SC2034 # KVM_W_*, KVM_Q_* and KVM_P_* set here are read by remote-scripts/kvm
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
  local now=${EPOCHREALTIME//[!0-9]/}
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

# kvm_guestfish_mounts : print guestfish's mount options for the guest's root, one a line:
# "-i" (inspection: the guest's own fstab, btrfs subvolumes included) or "-m" "DEV[:PATH[:OPTIONS]]"
# pairs from KVM_GUEST_MOUNTS (space-separated DEV:PATH[:OPTIONS], root first, e.g.
# "/dev/sda2:/:subvol=@ /dev/sda2:/var/log:subvol=@/var/log"), else from KVM_GUEST_ROOT.
kvm_guestfish_mounts() {
  local m
  if [[ -n ${KVM_GUEST_MOUNTS:-} ]]; then
    for m in $KVM_GUEST_MOUNTS; do printf -- '-m\n%s\n' "$m"; done
  elif [[ ${KVM_GUEST_ROOT:-inspect} == inspect ]]; then
    printf -- '-i\n'
  else
    printf -- '-m\n%s\n' "$KVM_GUEST_ROOT"
  fi
}

# kvm_guestfish MODE IMAGE FORMAT CMD... : guestfish --MODE (rw|ro) on IMAGE with the guest's
# filesystems mounted (kvm_guestfish_mounts), then CMD (guestfish commands separated by ":").
kvm_guestfish() {
  local mode=$1 image=$2 format=$3
  local -a mount
  shift 3
  kvm_guestfs_env
  mapfile -t mount < <(kvm_guestfish_mounts)
  guestfish "--$mode" --format="$format" -a "$image" "${mount[@]}" -- "$@"
}

# A guestfish session for several commands with decisions between them, one appliance launch:
# kvm_gf_start MODE IMAGE FORMAT, then kvm_gf CMD ARGS... (one guestfish command each; its output
# on stdout, its failure as the status), then kvm_gf_stop (also safe when nothing was started).
# kvm_gf_start fails with KVM_GF_ERROR set when guestfish cannot open the image.
KVM_GF_PID=''
KVM_GF_ERROR=''
kvm_gf_start() {
  local mode=$1 image=$2 format=$3 out
  local -a mount
  kvm_guestfs_env
  mapfile -t mount < <(kvm_guestfish_mounts)
  local err
  err=$(mktemp)
  # the server guestfish leaves behind keeps its stderr: a file, not the pipe $(...) waits on
  if ! out=$(guestfish --listen "--$mode" --format="$format" -a "$image" "${mount[@]}" 2>"$err"); then
    KVM_GF_ERROR="guestfish could not open $image: $(tr '\n' ' ' <"$err" | cut -c1-400)"
    rm -f -- "$err"
    return 1
  fi
  rm -f -- "$err"
  if ! [[ $out =~ GUESTFISH_PID=([0-9]+) ]]; then
    KVM_GF_ERROR="guestfish --listen did not say its PID: ${out:0:200}"
    return 1
  fi
  KVM_GF_PID=${BASH_REMATCH[1]}
}
kvm_gf() {
  guestfish --remote="$KVM_GF_PID" -- "$@"
}
kvm_gf_stop() {
  [[ -n $KVM_GF_PID ]] || return 0
  local pid=$KVM_GF_PID i
  KVM_GF_PID=''
  guestfish --remote="$pid" -- exit >/dev/null 2>&1 || true
  for ((i = 0; i < 50; i++)); do
    kill -0 "$pid" 2>/dev/null || return 0
    sleep 0.2
  done
  kill "$pid" 2>/dev/null || true
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

# --- QASET's inputs into the guest ----------------------------------------------------------
# The injection is one list of operations (an "ops" file, one per line, fields separated by tabs),
# planned once (kvm_inject_plan) and carried out by debugfs or guestfish (kvm_inject_debugfs,
# kvm_inject_guestfish):
#   rmrf PATH                  remove PATH and everything under it (nothing there is fine)
#   rm PATH                    remove the file PATH (nothing there is fine)
#   mkdir PATH                 create PATH and its parents
#   put LOCAL PATH MODE        write the host's file LOCAL as PATH (owner root, octal MODE)
#   ln TARGET LINK             LINK becomes a symbolic link to TARGET
# Guest paths hold only [A-Za-z0-9_.+@,:=/-]; the caller's files live in a directory without
# whitespace or quotes (the tools read their own command lines).

# Where QASET keeps its state, as sq-global.sh names it.
KVM_QASET_LOG=/var/log/qaset
KVM_QASET_ROOT=/root/qaset
# Where systemd looks for the boot service QASET's package installs (first match wins).
KVM_QASET_UNIT_PATHS=(/usr/lib/systemd/system/qaperf.service /lib/systemd/system/qaperf.service /etc/systemd/system/qaperf.service)
# Our guest-side files (remote-scripts/guest/) and where they go in the guest.
KVM_GUEST_LIB=/usr/local/lib/orchestrate
KVM_GUEST_UNITS=/etc/systemd/system
KVM_GUEST_WANTS=/etc/systemd/system/multi-user.target.wants

# kvm_safe_guest_path PATH : fail unless PATH is absolute and holds only safe characters.
kvm_safe_guest_path() {
  [[ $1 =~ ^/[A-Za-z0-9_.+@,:=/-]*$ && $1 != *..* ]] || orch_die "refusing a guest path with unsafe characters: $1"
}

# kvm_inject_plan DIR : DIR/inject.ops for this point from the files the caller wrote in DIR
# (list, config) and the environment:
#   KVM_QASET_START     service (enable QASET's boot service KVM_QASET_UNIT, as
#                       `systemctl enable qaperf.service` would) or deploy (the deployment
#                       script KVM_DEPLOYMENT_SCRIPT becomes a first-boot unit that runs once)
#   KVM_QASET_UNIT      the boot service's unit file in the guest (service mode)
#   KVM_QASET_RUN_ID    control/RUN_ID becomes SQ_TEST_RUN_ID=<it>; empty: a stale one is removed
#                       and QASET makes one from the date
#   KVM_QASET_PREPARED  yes: control/PREPARED is written (QASET skips its repository setup)
#   KVM_GUEST_FILES     the directory of our guest-side files (remote-scripts/guest)
#   KVM_GUEST_NET_FILES the guest's network configuration (systemd-networkd .network files the
#                       point wrote, kvm_net_guest_files; one path a line): laid into /etc/systemd/network
# Control state is reset as `qaset reset` does (STOP, DONE, SYSTEM_DIRTY and lock.d removed,
# NEXT_RUN blank), and the results of an earlier run a golden image may carry (list.failed,
# log/, runs/, calls/, submission/, set/, /var/log/qa) are removed from the point's copy, so
# nothing of them is taken for this point's.
kvm_inject_plan() {
  local dir=$1 ops=$1/inject.ops d files=${KVM_GUEST_FILES:?KVM_GUEST_FILES is not set}
  local start=${KVM_QASET_START:-service} name=''
  [[ $dir != *[[:space:]\"\'\\]* ]] || orch_die "refusing a directory with whitespace or quotes: $dir"
  : >"$ops"
  kvm_op() {
    local IFS=$'\t'
    printf '%s\n' "$*" >>"$ops"
  }
  # reset, as `qaset reset`; then what an earlier run left
  kvm_op rm "$KVM_QASET_LOG/control/STOP"
  kvm_op rm "$KVM_QASET_LOG/control/DONE"
  kvm_op rm "$KVM_QASET_LOG/control/SYSTEM_DIRTY"
  kvm_op rmrf "$KVM_QASET_LOG/lock.d"
  kvm_op rm "$KVM_QASET_LOG/control/RUN_ID"
  kvm_op rm "$KVM_QASET_ROOT/list.failed"
  for d in runs calls log set submission; do kvm_op rmrf "$KVM_QASET_LOG/$d"; done
  kvm_op rmrf /var/log/qa
  kvm_op rm /var/log/orchestrate-qaset-watch.jsonl
  kvm_op rmrf /var/lib/orchestrate
  # the directories QASET expects (it makes them only when /var/log/qaset does not exist yet)
  for d in "$KVM_QASET_ROOT" "$KVM_QASET_LOG/control" "$KVM_QASET_LOG/runs" "$KVM_QASET_LOG/calls" "$KVM_QASET_LOG/log" "$KVM_QASET_LOG/set" "$KVM_QASET_LOG/submission" /var/log/qa "$KVM_GUEST_LIB" "$KVM_GUEST_WANTS"; do
    kvm_op mkdir "$d"
  done
  kvm_op put "$dir/list" "$KVM_QASET_ROOT/list" 0644
  kvm_op put "$dir/config" "$KVM_QASET_ROOT/config" 0644
  printf '\n' >"$dir/NEXT_RUN"
  kvm_op put "$dir/NEXT_RUN" "$KVM_QASET_LOG/control/NEXT_RUN" 0644
  if [[ -n ${KVM_QASET_RUN_ID:-} ]]; then
    [[ $KVM_QASET_RUN_ID =~ ^[A-Za-z0-9]+$ ]] || orch_die "KVM_QASET_RUN_ID must be letters and digits, got '$KVM_QASET_RUN_ID'"
    printf 'SQ_TEST_RUN_ID=%s\n' "$KVM_QASET_RUN_ID" >"$dir/RUN_ID"
    kvm_op put "$dir/RUN_ID" "$KVM_QASET_LOG/control/RUN_ID" 0644
  fi
  if [[ ${KVM_QASET_PREPARED:-no} == yes ]]; then
    printf '%s\n' "$(date)" >"$dir/PREPARED"
    kvm_op put "$dir/PREPARED" "$KVM_QASET_LOG/control/PREPARED" 0644
  fi
  # the guest's addresses and default routes, one file per NIC
  if [[ -n ${KVM_GUEST_NET_FILES:-} ]]; then
    kvm_op mkdir /etc/systemd/network
    local -a net_paths
    # one path a line (kvm_net_guest_files): no word splitting, no globbing
    mapfile -t net_paths <<<"$KVM_GUEST_NET_FILES"
    for d in "${net_paths[@]}"; do
      [[ -n $d ]] || continue
      [[ $d != *[[:space:]\"\'\\]* && -f $d ]] || orch_die "refusing a network file path with whitespace or quotes, or one that is not there: $d"
      kvm_safe_guest_path "/etc/systemd/network/${d##*/}"
      kvm_op put "$d" "/etc/systemd/network/${d##*/}" 0644
    done
  fi
  # the watcher, at every boot
  kvm_op put "$files/qaset-watch" "$KVM_GUEST_LIB/qaset-watch" 0755
  kvm_op put "$files/orchestrate-qaset-watch.service" "$KVM_GUEST_UNITS/orchestrate-qaset-watch.service" 0644
  kvm_op ln "$KVM_GUEST_UNITS/orchestrate-qaset-watch.service" "$KVM_GUEST_WANTS/orchestrate-qaset-watch.service"
  case $start in
    service)
      kvm_safe_guest_path "${KVM_QASET_UNIT:?KVM_QASET_UNIT is not set}"
      # what `systemctl enable qaperf.service` makes from its [Install] section
      kvm_op ln "$KVM_QASET_UNIT" "$KVM_GUEST_WANTS/qaperf.service"
      kvm_op ln "$KVM_QASET_UNIT" "$KVM_GUEST_UNITS/sqperf.service"
      ;;
    deploy)
      name=${KVM_DEPLOYMENT_SCRIPT:?KVM_DEPLOYMENT_SCRIPT is not set}
      name=/${name##*/}
      kvm_safe_guest_path "$name"
      kvm_op put "$KVM_DEPLOYMENT_SCRIPT" "$name" 0755
      printf 'DEPLOY_SCRIPT=%s\n' "$name" >"$dir/deploy.conf"
      kvm_op mkdir /etc/orchestrate
      kvm_op put "$dir/deploy.conf" /etc/orchestrate/deploy.conf 0644
      kvm_op put "$files/deploy-once" "$KVM_GUEST_LIB/deploy-once" 0755
      kvm_op put "$files/orchestrate-deploy.service" "$KVM_GUEST_UNITS/orchestrate-deploy.service" 0644
      kvm_op ln "$KVM_GUEST_UNITS/orchestrate-deploy.service" "$KVM_GUEST_WANTS/orchestrate-deploy.service"
      ;;
    *) orch_die "KVM_QASET_START must be service or deploy, got '$start'" ;;
  esac
  unset -f kvm_op
}

# kvm_debugfs_ls IMAGE DIR : print "KIND NAME" for each entry of DIR (KIND d, l or f; . and ..
# left out); nothing when DIR does not exist. Names with characters outside the safe set are refused.
kvm_debugfs_ls() {
  local image=$1 dir=$2 line mode name
  while IFS= read -r line; do
    # ls -p: /inode/mode/uid/gid/name/size/
    [[ $line =~ ^/[0-9]+/([0-7]+)/[0-9]+/[0-9]+/(.*)/[0-9]*/$ ]] || continue
    mode=${BASH_REMATCH[1]} name=${BASH_REMATCH[2]}
    [[ $name == . || $name == .. || -z $name ]] && continue
    [[ $name =~ ^[A-Za-z0-9_.+@,:=-]+$ ]] || orch_die "refusing to remove $dir/$name from the guest's disk: unsafe characters in its name"
    case $mode in
      04*) printf 'd %s\n' "$name" ;;
      12*) printf 'l %s\n' "$name" ;;
      *) printf 'f %s\n' "$name" ;;
    esac
  done < <(debugfs -R "ls -p $dir" -- "$image" 2>/dev/null)
}

# kvm_debugfs_rmrf_cmds IMAGE PATH [DEPTH] : print the debugfs commands removing PATH's tree,
# deepest first (debugfs has no recursive remove).
kvm_debugfs_rmrf_cmds() {
  local image=$1 path=$2 depth=${3:-0} kind name kind_of=''
  ((depth <= 12)) || orch_die "refusing to remove $path from the guest's disk: nested too deep"
  kind_of=$(debugfs -R "stat $path" -- "$image" 2>/dev/null | sed -n 's/^Inode: [0-9]*[[:space:]]*Type: \([a-z]*\).*/\1/p' | head -n 1)
  case $kind_of in
    '') return 0 ;;
    directory)
      while read -r kind name; do
        if [[ $kind == d ]]; then
          kvm_debugfs_rmrf_cmds "$image" "$path/$name" $((depth + 1))
        else
          printf 'rm %s\n' "$path/$name"
        fi
      done < <(kvm_debugfs_ls "$image" "$path")
      printf 'rmdir %s\n' "$path"
      ;;
    *) printf 'rm %s\n' "$path" ;;
  esac
}

# kvm_debugfs_mkdir_cmds PATH : print debugfs mkdir commands for PATH and each of its parents.
kvm_debugfs_mkdir_cmds() {
  local path=$1 prefix='' part
  local IFS=/
  for part in ${path#/}; do
    prefix+=/$part
    printf 'mkdir %s\n' "$prefix"
  done
}

# kvm_inject_debugfs_cmds IMAGE OPS : print the debugfs commands carrying out OPS on IMAGE.
kvm_inject_debugfs_cmds() {
  local image=$1 ops=$2 op a b c
  while IFS=$'\t' read -r op a b c; do
    case $op in
      rmrf) kvm_debugfs_rmrf_cmds "$image" "$a" ;;
      rm) printf 'rm %s\n' "$a" ;;
      mkdir) kvm_debugfs_mkdir_cmds "$a" ;;
      put) printf 'rm %s\nwrite %s %s\nsif %s mode 0100%s\nsif %s uid 0\nsif %s gid 0\n' "$b" "$a" "$b" "$b" "${c#0}" "$b" "$b" ;;
      ln) printf 'rm %s\nsymlink %s %s\n' "$b" "$b" "$a" ;;
      *) orch_die "unknown inject operation '$op'" ;;
    esac
  done <"$ops"
}

# kvm_inject_guestfish_args OPS : print guestfish commands for OPS, one word a line, ":" between.
kvm_inject_guestfish_args() {
  local ops=$1 op a b c sep=''
  while IFS=$'\t' read -r op a b c; do
    printf '%s' "$sep"
    case $op in
      rmrf) printf 'rm-rf\n%s\n' "$a" ;;
      rm) printf 'rm-f\n%s\n' "$a" ;;
      mkdir) printf 'mkdir-p\n%s\n' "$a" ;;
      put) printf 'upload\n%s\n%s\n:\nchmod\n%s\n%s\n:\nchown\n0\n0\n%s\n' "$a" "$b" "$c" "$b" "$b" ;;
      ln) printf 'ln-sf\n%s\n%s\n' "$a" "$b" ;;
      *) orch_die "unknown inject operation '$op'" ;;
    esac
    sep=$':\n'
  done <"$ops"
}

# kvm_guest_exists_debugfs IMAGE PATH : true when PATH exists in the ext4 IMAGE (a link counts).
kvm_guest_exists_debugfs() {
  debugfs -R "stat $2" -- "$1" 2>/dev/null | grep -q '^Inode:'
}

# kvm_qaset_unit_of EXISTS_FN : print the first of KVM_QASET_UNIT_PATHS for which EXISTS_FN PATH
# is true; fail when none.
kvm_qaset_unit_of() {
  local p
  for p in "${KVM_QASET_UNIT_PATHS[@]}"; do
    if "$@" "$p"; then
      printf '%s' "$p"
      return 0
    fi
  done
  return 1
}

kvm_gf_exists() {
  [[ $(kvm_gf exists "$1") == true ]]
}

# kvm_inject DISK FORMAT DIR : QASET's inputs (DIR/list, DIR/config) and our guest-side files into
# the guest (kvm_inject_plan), then the run list read back to be sure it is there.
# Needs KVM_GUEST_FILES; KVM_QASET_START is "deploy" when KVM_DEPLOYMENT_SCRIPT is set, else "service".
kvm_inject() {
  local disk=$1 format=$2 dir=$3 back unit='' what
  [[ $dir${KVM_DEPLOYMENT_SCRIPT:-} != *[[:space:]\"\'\\]* ]] || orch_die "refusing a path with whitespace or quotes: $dir ${KVM_DEPLOYMENT_SCRIPT:-}"
  if [[ -n ${KVM_DEPLOYMENT_SCRIPT:-} ]]; then KVM_QASET_START=deploy; else KVM_QASET_START=service; fi
  what="QASET's boot service is not in the base image (none of ${KVM_QASET_UNIT_PATHS[*]}): install qa_testset_automation in the image, or give guest.deployment_script to install it at first boot"
  case ${KVM_INJECT:-guestfish} in
    debugfs)
      if [[ $KVM_QASET_START == service ]]; then
        unit=$(kvm_qaset_unit_of kvm_guest_exists_debugfs "$disk") || { KVM_P_ERROR=$what; orch_die "$what"; }
      fi
      KVM_QASET_UNIT=$unit kvm_inject_plan "$dir"
      kvm_inject_debugfs_cmds "$disk" "$dir/inject.ops" >"$dir/inject.debugfs"
      kvm_debugfs_cmds "$disk" <"$dir/inject.debugfs"
      back=$(debugfs -R 'cat /root/qaset/list' -- "$disk" 2>/dev/null)
      ;;
    guestfish)
      # one appliance for the check, the writes and the read-back
      kvm_gf_start rw "$disk" "$format" || { KVM_P_ERROR=$KVM_GF_ERROR; orch_die "$KVM_P_ERROR"; }
      if [[ $KVM_QASET_START == service ]]; then
        unit=$(kvm_qaset_unit_of kvm_gf_exists) || { kvm_gf_stop; KVM_P_ERROR=$what; orch_die "$what"; }
      fi
      KVM_QASET_UNIT=$unit kvm_inject_plan "$dir"
      local -a cmds
      mapfile -t cmds < <(kvm_inject_guestfish_args "$dir/inject.ops")
      # guestfish --remote takes one command per call: split at ":"
      local -a one=()
      local word out
      for word in "${cmds[@]}" :; do
        if [[ $word == : ]]; then
          ((${#one[@]} == 0)) && continue
          if ! out=$(kvm_gf "${one[@]}" 2>&1); then
            kvm_gf_stop
            KVM_P_ERROR="guestfish ${one[*]}: ${out:0:300}"
            orch_die "$KVM_P_ERROR"
          fi
          one=()
        else
          one+=("$word")
        fi
      done
      back=$(kvm_gf cat /root/qaset/list) || back=''
      kvm_gf sync >/dev/null 2>&1 || true
      kvm_gf_stop
      ;;
    *) orch_die "KVM_INJECT must be guestfish or debugfs, got '${KVM_INJECT}'" ;;
  esac
  [[ $back == "$(<"$dir/list")" ]] || orch_die "the run list read back from the guest's disk differs from the one written"
  KVM_P_QASET_UNIT=$unit
}

# kvm_guest_control DISK FORMAT DEST : copy the guest's /var/log/qaset/control to DEST/control and
# /root/qaset/list.failed to DEST/list.failed (replacing them); true when control exists. Safe
# while the guest runs: read-only (debugfs -c, guestfish --ro), one call either way.
kvm_guest_control() {
  local disk=$1 format=$2 dest=$3
  rm -rf -- "$dest/control" "$dest/list.failed"
  mkdir -p -- "$dest"
  case ${KVM_INJECT:-guestfish} in
    debugfs)
      printf 'rdump /var/log/qaset/control %s\n' "$dest" | debugfs -c -f - -- "$disk" >/dev/null 2>&1 || true
      if kvm_guest_exists_debugfs "$disk" /root/qaset/list.failed; then
        debugfs -c -R "dump /root/qaset/list.failed $dest/list.failed" -- "$disk" >/dev/null 2>&1 || true
      fi
      ;;
    guestfish)
      # control first: a missing list.failed ends the script after it
      kvm_guestfish ro "$disk" "$format" copy-out /var/log/qaset/control "$dest" : download /root/qaset/list.failed "$dest/list.failed" >/dev/null 2>&1 || true
      ;;
  esac
  [[ -d $dest/control ]]
}

# The guest's files a point collects: guest path, then where it goes under DEST.
KVM_COLLECT=(
  /var/log/qaset qaset
  /var/log/qa qa
  /root/qaset/list.failed list.failed
  /var/log/orchestrate-deploy.log deploy.log
)

# kvm_collect DISK FORMAT DEST : copy the guest's /var/log/qaset, /var/log/qa, list.failed and the
# deployment script's log (those that exist) into DEST (the guest is off). True when
# DEST/qaset was copied.
kvm_collect() {
  local disk=$1 format=$2 dest=$3 i from to kind
  mkdir -p -- "$dest"
  case ${KVM_INJECT:-guestfish} in
    debugfs)
      for ((i = 0; i < ${#KVM_COLLECT[@]}; i += 2)); do
        from=${KVM_COLLECT[i]} to=${KVM_COLLECT[i + 1]}
        kind=$(debugfs -R "stat $from" -- "$disk" 2>/dev/null | sed -n 's/^Inode: [0-9]*[[:space:]]*Type: \([a-z]*\).*/\1/p' | head -n 1)
        case $kind in
          directory) debugfs -R "rdump $from $dest" -- "$disk" >/dev/null 2>&1 || true ;;
          regular) debugfs -R "dump $from $dest/$to" -- "$disk" >/dev/null 2>&1 || true ;;
        esac
      done
      ;;
    guestfish)
      # one appliance for all of them; a guestfish that cannot read the disk at all says so
      if ! kvm_gf_start ro "$disk" "$format"; then
        orch_log_event warning "could not collect: $KVM_GF_ERROR"
        return 1
      fi
      for ((i = 0; i < ${#KVM_COLLECT[@]}; i += 2)); do
        from=${KVM_COLLECT[i]} to=${KVM_COLLECT[i + 1]}
        if [[ $(kvm_gf is-dir "$from" 2>/dev/null) == true ]]; then
          kvm_gf copy-out "$from" "$dest" >/dev/null 2>&1 || orch_log_event warning "guestfish could not copy $from out"
        elif [[ $(kvm_gf is-file "$from" 2>/dev/null) == true ]]; then
          kvm_gf download "$from" "$dest/$to" >/dev/null 2>&1 || orch_log_event warning "guestfish could not copy $from out"
        fi
      done
      kvm_gf_stop
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

# --- Following QASET while the guest runs ----------------------------------------------------
# The guest's watcher (remote-scripts/guest/qaset-watch) writes JSON lines to a virtio-serial
# port whose host side is a file (the domain's <channel>). That file is hostile input: it is read
# in bounded chunks from the last offset, only lines of the exact shape below are taken (others
# are counted as rejected), and past KVM_WATCH_MAX_BYTES nothing more is read.

KVM_WATCH_MAX_BYTES=${KVM_WATCH_MAX_BYTES:-16777216}
KVM_WATCH_S='[^"\\[:cntrl:]]'
KVM_WATCH_RE='^\{"v":1,"boot":"([A-Za-z0-9-]{1,40})","seq":([0-9]{1,9}),"uptime":[0-9]{1,10}(\.[0-9]{1,3})?,"event":"(start|change|heartbeat|stop)",'
KVM_WATCH_RE+="\"next_run\":\"($KVM_WATCH_S{0,200})\",\"done\":\"($KVM_WATCH_S{0,64})\",\"stop\":(true|false),\"dirty\":(true|false),\"lock\":(true|false),"
KVM_WATCH_RE+="\"run_id\":\"($KVM_WATCH_S{0,100})\",\"prepared\":(true|false),\"failed\":\"([A-Za-z0-9_.+ -]{0,2200})\",\"failed_count\":([0-9]{1,6}),"
KVM_WATCH_RE+="\"tarballs\":([0-9]{1,6}),\"screenlog\":\"($KVM_WATCH_S{0,120})\",\"screenlog_bytes\":([0-9]{1,15}),\"qaset_running\":(true|false),"
KVM_WATCH_RE+="\"service\":\"($KVM_WATCH_S{0,60})\",\"service_exit\":([0-9]{1,3}),\"deploy\":\"($KVM_WATCH_S{0,40})\",\"route\":(true|false)\}$"

# kvm_watch_reset : forget every line (a new point).
kvm_watch_reset() {
  KVM_W_OFFSET=0 KVM_W_LINES=0 KVM_W_REJECTED=0 KVM_W_BOOTS=0 KVM_W_BOOT='' KVM_W_EVENT='' KVM_W_FULL=0
  KVM_W_NEXT_RUN='' KVM_W_DONE='' KVM_W_STOP=false KVM_W_DIRTY=false KVM_W_LOCK=false KVM_W_RUN_ID=''
  KVM_W_PREPARED=false KVM_W_FAILED='' KVM_W_FAILED_COUNT=0 KVM_W_TARBALLS=0 KVM_W_SCREENLOG=''
  KVM_W_SCREENLOG_BYTES=0 KVM_W_RUNNING=false KVM_W_SERVICE='' KVM_W_SERVICE_EXIT=0 KVM_W_DEPLOY='' KVM_W_ROUTE=false
  KVM_W_PROGRESS='' KVM_W_PROGRESS_MS=0 KVM_W_FIRST_MS=0 KVM_W_LAST_MS=0
  KVM_W_REBOOTS_MS=()
}
kvm_watch_reset

# kvm_watch_line LINE NOW_MS : take one line; false (and counted) when it is not a watcher line.
kvm_watch_line() {
  local line=$1 now=$2 boot key
  if ((${#line} > 4096)) || ! [[ $line =~ $KVM_WATCH_RE ]]; then
    KVM_W_REJECTED=$((KVM_W_REJECTED + 1))
    return 1
  fi
  local -a m=("${BASH_REMATCH[@]}")
  boot=${m[1]}
  KVM_W_EVENT=${m[4]} KVM_W_NEXT_RUN=${m[5]} KVM_W_DONE=${m[6]} KVM_W_STOP=${m[7]} KVM_W_DIRTY=${m[8]} KVM_W_LOCK=${m[9]}
  KVM_W_RUN_ID=${m[10]} KVM_W_PREPARED=${m[11]} KVM_W_FAILED=${m[12]} KVM_W_FAILED_COUNT=${m[13]} KVM_W_TARBALLS=${m[14]}
  KVM_W_SCREENLOG=${m[15]} KVM_W_SCREENLOG_BYTES=${m[16]} KVM_W_RUNNING=${m[17]} KVM_W_SERVICE=${m[18]}
  KVM_W_SERVICE_EXIT=${m[19]} KVM_W_DEPLOY=${m[20]} KVM_W_ROUTE=${m[21]}
  if [[ $boot != "$KVM_W_BOOT" ]]; then
    # a new boot: the time since the last line of the one before is the reboot's
    ((KVM_W_BOOTS > 0)) && KVM_W_REBOOTS_MS+=($((now - KVM_W_LAST_MS)))
    KVM_W_BOOTS=$((KVM_W_BOOTS + 1))
    KVM_W_BOOT=$boot
  fi
  ((KVM_W_LINES == 0)) && KVM_W_FIRST_MS=$now
  KVM_W_LINES=$((KVM_W_LINES + 1))
  KVM_W_LAST_MS=$now
  # progress: anything that moves while QASET works (not the heartbeat's uptime)
  key="$boot|$KVM_W_NEXT_RUN|$KVM_W_DONE|$KVM_W_STOP|$KVM_W_DIRTY|$KVM_W_FAILED_COUNT|$KVM_W_TARBALLS|$KVM_W_SCREENLOG|$KVM_W_SCREENLOG_BYTES|$KVM_W_DEPLOY"
  if [[ $key != "$KVM_W_PROGRESS" ]]; then
    KVM_W_PROGRESS=$key
    KVM_W_PROGRESS_MS=$now
  fi
  return 0
}

# kvm_watch_read FILE NOW_MS : take the complete lines FILE gained since the last call (at most
# 64 KiB a call; a partial last line waits for the next call).
kvm_watch_read() {
  local file=$1 now=$2 size chunk body line
  local LC_ALL=C
  ((KVM_W_FULL)) && return 0
  [[ -f $file ]] || return 0
  size=$(stat -c %s -- "$file" 2>/dev/null) || return 0
  ((size > KVM_W_OFFSET)) || return 0
  if ((size > KVM_WATCH_MAX_BYTES)); then
    KVM_W_FULL=1
    orch_log_event warning "the guest's watcher channel passed $KVM_WATCH_MAX_BYTES bytes: no more of it is read"
    return 0
  fi
  # NUL bytes would vanish in a shell variable and shift the offset: they become "?"
  chunk=$(tail -c "+$((KVM_W_OFFSET + 1))" -- "$file" | head -c 65536 | tr '\000' '?'; printf x)
  chunk=${chunk%x}
  if [[ $chunk != *$'\n'* ]]; then
    # a "line" of 64 KiB without an end is no watcher line: skip it
    if ((${#chunk} >= 65536)); then
      KVM_W_OFFSET=$((KVM_W_OFFSET + ${#chunk}))
      KVM_W_REJECTED=$((KVM_W_REJECTED + 1))
    fi
    return 0
  fi
  body=${chunk%$'\n'*}$'\n'
  KVM_W_OFFSET=$((KVM_W_OFFSET + ${#body}))
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    kvm_watch_line "$line" "$now" || true
  done <<<"${body%$'\n'}"
  return 0
}

# kvm_qaset_reboots_after INDEX ENTRIES... : true when QASET reboots after a successful case at
# INDEX: the last of _reboot_off/_reboot_on before it is not _reboot_off (QASET keeps that switch
# for the rest of its process; a reboot can only happen while it is on, so the entries tell).
kvm_qaset_reboots_after() {
  local index=$1 i on=1
  shift
  for ((i = 0; i < index && i < $#; i++)); do
    case ${*:i+1:1} in
      _reboot_off) on=0 ;;
      _reboot_on) on=1 ;;
    esac
  done
  ((on))
}

# kvm_qaset_current NEXT_RUN COUNT : print the 0-based index of the case running now (QASET's
# NEXT_RUN names the NEXT one: "<index> <name>", " " while the last runs, "" before the first);
# nothing when no case has started.
kvm_qaset_current() {
  local next=$1 count=$2 index
  if [[ -z $next ]]; then return 0; fi
  if [[ $next =~ ^[[:space:]]+$ ]]; then
    ((count > 0)) && printf '%s' $((count - 1))
    return 0
  fi
  index=${next%% *}
  [[ $index =~ ^[0-9]+$ ]] && ((index >= 1)) && printf '%s' $((index - 1))
  return 0
}

# kvm_qaset_cases DONE DIRTY NEXT_RUN FAILED ENTRY... : KVM_Q_FINISHED (case names that ran to
# their end, in order), KVM_Q_FAILED (names QASET recorded as failed), KVM_Q_PASSED (finished
# minus failed) and KVM_Q_UNFINISHED (the case that was running when the point ended, or "").
# Entries starting with "_" are QASET's special forms, not cases.
kvm_qaset_cases() {
  local done_at=$1 dirty=$2 next=$3 failed=$4
  shift 4
  local -a entries=("$@") failed_list
  local n=${#entries[@]} cur last=-1 i name
  read -ra failed_list <<<"$failed"
  KVM_Q_FINISHED=() KVM_Q_FAILED=("${failed_list[@]}") KVM_Q_PASSED=() KVM_Q_UNFINISHED=''
  if [[ -n $done_at ]]; then
    last=$((n - 1))
  else
    cur=$(kvm_qaset_current "$next" "$n")
    if [[ -n $cur ]]; then
      last=$((cur - 1))
      # the current one ended when it left its mark: list.failed after a failure; SYSTEM_DIRTY after a
      # success - but only where QASET reboots after it: under _reboot_off the SYSTEM_DIRTY an earlier
      # case wrote stays while the later ones run (only a starting qaset removes it)
      if [[ (${#failed_list[@]} -gt 0 && ${failed_list[-1]} == "${entries[cur]}") ]] ||
        { [[ $dirty == true ]] && kvm_qaset_reboots_after "$cur" "${entries[@]}"; }; then
        last=$cur
      elif [[ ${entries[cur]} != _* ]]; then
        KVM_Q_UNFINISHED=${entries[cur]}
      fi
    fi
  fi
  for ((i = 0; i <= last && i < n; i++)); do
    [[ ${entries[i]} == _* ]] || KVM_Q_FINISHED+=("${entries[i]}")
  done
  # passed: finished, less one occurrence per failure recorded
  local -a pending=("${failed_list[@]}")
  local j hit
  for name in "${KVM_Q_FINISHED[@]}"; do
    hit=0
    for j in "${!pending[@]}"; do
      if [[ ${pending[j]} == "$name" ]]; then
        unset 'pending[j]'
        hit=1
        break
      fi
    done
    ((hit)) || KVM_Q_PASSED+=("$name")
  done
  return 0
}

# kvm_json_names NAME... : print a JSON array of the names (case names: safe characters only).
kvm_json_names() {
  local out='' sep='' name
  for name in "$@"; do
    out+="$sep\"${name//[^A-Za-z0-9_.+-]/_}\""
    sep=,
  done
  printf '[%s]' "$out"
}

# kvm_watch_stall_reason SECONDS : print why QASET made no progress, from the last watcher line.
kvm_watch_stall_reason() {
  local s=$1 cur name='' n entries
  read -ra entries <<<"${KVM_RUN_LIST:-}"
  n=${#entries[@]}
  cur=$(kvm_qaset_current "$KVM_W_NEXT_RUN" "$n")
  [[ -n $cur ]] && name=${entries[cur]:-}
  if ((KVM_W_LINES == 0)); then
    printf 'no progress for %s s and no line from the guest'"'"'s QASET watcher (is systemd the guest'"'"'s init, and virtio_console there?); control files unchanged' "$s"
  elif [[ $KVM_W_DEPLOY == running ]]; then
    printf 'the deployment script has been running for more than %s s without any QASET progress' "$s"
  elif [[ $KVM_W_DEPLOY =~ ^exit=([0-9]+)$ && ${BASH_REMATCH[1]} != 0 && $KVM_W_RUNNING == false && -z $cur ]]; then
    printf 'the deployment script exited %s and QASET did not start (see /var/log/orchestrate-deploy.log in the guest)' "${BASH_REMATCH[1]}"
  elif [[ $KVM_W_ROUTE == false && -z $cur && $KVM_W_TARBALLS == 0 ]]; then
    printf 'QASET waits for a default route and the guest has none (give the guest a network, or a default route in the image)'
  elif [[ $KVM_W_SERVICE == not-found/* ]]; then
    printf 'qaperf.service is not installed in the guest (QASET did not start)'
  elif [[ $KVM_W_SERVICE == */failed/* ]]; then
    printf 'qaperf.service failed (exit %s)' "$KVM_W_SERVICE_EXIT"
  elif [[ $KVM_W_RUNNING == false && $KVM_W_SERVICE_EXIT != 0 ]]; then
    printf 'qaperf.service exited %s (QASET is not running)' "$KVM_W_SERVICE_EXIT"
  elif [[ $KVM_W_RUNNING == false && -z $cur ]]; then
    printf 'QASET is not running and started no case (service %s, exit %s): a stale lock, a release qaset-service does not know, or repository setup failing without control/PREPARED' "$KVM_W_SERVICE" "$KVM_W_SERVICE_EXIT"
  elif [[ $KVM_W_RUNNING == false ]]; then
    printf 'QASET is not running and wrote neither DONE nor STOP (NEXT_RUN %s; service %s, exit %s)' "'$KVM_W_NEXT_RUN'" "$KVM_W_SERVICE" "$KVM_W_SERVICE_EXIT"
  else
    printf 'no progress in case %s for %s s (its screenlog %s did not grow)' "${name:-?}" "$s" "${KVM_W_SCREENLOG:-none}"
  fi
}

# kvm_point_decide NOW_MS DOMSTATE DEADLINE_MS STALL_MS START_MS [BOOT_MS] : how the point ends,
# from what the host knows (the watcher's last line, else the control files read from the disk):
# prints done, stopped, guest-down, timed-out or stalled, or nothing while it should go on. The
# stall clock runs from the last progress; the guest's first report is progress. Until anything
# came, the guest is booting: stalled only after the longer of STALL_MS and BOOT_MS (default 300 s).
kvm_point_decide() {
  local now=$1 state=$2 deadline=$3 stall=$4 start=$5 boot=${6:-300000} since
  if [[ -n $KVM_W_DONE ]]; then printf 'done'; return 0; fi
  # QASET checks STOP before the next case: the running case ends first
  if [[ $KVM_W_STOP == true && $KVM_W_RUNNING == false ]]; then printf 'stopped'; return 0; fi
  case $state in
    'shut off'* | gone* | crashed* | pmsuspended*) printf 'guest-down'; return 0 ;;
  esac
  ((now >= deadline)) && { printf 'timed-out'; return 0; }
  since=$KVM_W_PROGRESS_MS
  if ((since <= 0)); then
    since=$start
    ((boot > stall)) && stall=$boot
  fi
  ((now - since >= stall)) && { printf 'stalled'; return 0; }
  return 0
}
