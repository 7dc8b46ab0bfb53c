# shellcheck shell=bash
# Environment provenance of a host: what a result needs beside it to be comparable
# (kernel, command line, CPU, memory, package versions). Sourced, never executed; needs
# lib/json.sh and lib/events.sh (orch_now).
#
# Everything is read from /proc, /sys and /etc with bash builtins: the only process is the
# one package query (one grep of dpkg's status file, else dpkg-query or rpm), and
# provenance_cached_to skips even that while the host's boot, name, package list and package
# database are unchanged. The *_to forms
# assign to a variable (no subshell); the printing forms wrap them for callers that use $(...).

# Packages whose versions every result records; ORCH_PACKAGES (space separated) adds more.
PROVENANCE_PACKAGES=(midolman midonet-api openvswitch-switch openjdk-17-jre-headless
  openjdk-11-jre-headless openjdk-8-jre-headless libvirt-daemon qemu-system-x86 qemu-kvm
  nmap rrdtool qa_testset_automation)

# The cache format: a key line, then the record (one JSON line).
PROVENANCE_CACHE_FORMAT=provenance-cache@1

# provenance_cpu_count_to (shared with the sysinfo helper, which needs only that).
# shellcheck source=remote-scripts/lib/cpu-count.sh
. "${BASH_SOURCE[0]%/*}/cpu-count.sh"

# provenance_read_line_to VAR FILE : VAR = the first line of FILE, or '' when unreadable.
provenance_read_line_to() {
  local -n _prov_line=$1
  _prov_line=''
  [[ -r $2 ]] && { IFS= read -r _prov_line <"$2" || true; }
  return 0
}

# provenance_machine_to VAR : the machine hardware name (uname -m): /proc/sys/kernel/arch
# where the kernel has it (5.19+), else one `uname -m`.
provenance_machine_to() {
  local -n _prov_machine=$1
  provenance_read_line_to _prov_machine /proc/sys/kernel/arch
  [[ -n $_prov_machine ]] || _prov_machine=$(uname -m)
}

# provenance_kernel_to VAR : {"release","version","machine"}
provenance_kernel_to() {
  local release version machine
  provenance_read_line_to release /proc/sys/kernel/osrelease
  provenance_read_line_to version /proc/sys/kernel/version
  provenance_machine_to machine
  orch_json_object_to "$1" release s "$release" version s "$version" machine s "$machine"
}
provenance_kernel() {
  local out
  provenance_kernel_to out
  printf '%s' "$out"
}

# provenance_os_to VAR : the PRETTY_NAME of /etc/os-release (its shell quoting undone), or null.
provenance_os_to() {
  local -n _prov_os=$1
  local line value=''
  if [[ -r /etc/os-release ]]; then
    while IFS= read -r line || [[ -n $line ]]; do
      [[ $line == PRETTY_NAME=* ]] || continue
      value=${line#PRETTY_NAME=}
      if [[ $value == \"*\" ]]; then
        value=${value:1:${#value}-2}
        value=${value//\\\"/\"}
        value=${value//\\\$/\$}
        value=${value//\\\`/\`}
        value=${value//\\\\/\\}
      elif [[ $value == \'*\' ]]; then
        value=${value:1:${#value}-2}
      fi
    done </etc/os-release
  fi
  if [[ -n $value ]]; then orch_json_string_to _prov_os "$value"; else _prov_os=null; fi
}
provenance_os() {
  local out
  provenance_os_to out
  printf '%s' "$out"
}

# provenance_cmdline_to VAR : the kernel command line as a JSON string.
provenance_cmdline_to() {
  local line
  provenance_read_line_to line /proc/cmdline
  orch_json_string_to "$1" "$line"
}
provenance_cmdline() {
  local out
  provenance_cmdline_to out
  printf '%s' "$out"
}

# provenance_cpu_to VAR : {"model","logical_cpus"}
provenance_cpu_to() {
  local key value model='' count
  if [[ -r /proc/cpuinfo ]]; then
    while IFS=: read -r key value; do
      if [[ $key == 'model name'* ]]; then
        model=${value# }
        break
      fi
    done </proc/cpuinfo
  fi
  provenance_cpu_count_to count
  orch_json_object_to "$1" model s "${model:-unknown}" logical_cpus n "$count"
}
provenance_cpu() {
  local out
  provenance_cpu_to out
  printf '%s' "$out"
}

# provenance_memory_kb_to VAR : MemTotal in kB, or null.
provenance_memory_kb_to() {
  local key value _unit kb=''
  if [[ -r /proc/meminfo ]]; then
    while IFS=': ' read -r key value _unit; do
      if [[ $key == MemTotal ]]; then
        kb=$value
        break
      fi
    done </proc/meminfo
  fi
  orch_json_number_to "$1" "$kb"
}
provenance_memory_kb() {
  local out
  provenance_memory_kb_to out
  printf '%s' "$out"
}

# provenance_package_names_to ARRAY : the packages to ask about (the list plus ORCH_PACKAGES).
provenance_package_names_to() {
  local -n _prov_names=$1
  local -a extra=()
  read -r -a extra <<<"${ORCH_PACKAGES:-}"
  _prov_names=("${PROVENANCE_PACKAGES[@]}" "${extra[@]}")
}

# dpkg's database directory (its status file and its journal of updates not yet merged into it).
PROVENANCE_DPKG_DIR=/var/lib/dpkg

# Lines of a status file paragraph up to and including its Version field: dpkg writes the
# fields in a fixed order (Package, Essential, Protected, Status, Priority, Section,
# Installed-Size, Origin, Maintainer, Bugs, Architecture, Multi-Arch, Source, Version), so
# Version is at most the 14th line; a paragraph whose Version is not among them sends the
# query to dpkg-query.
PROVENANCE_DPKG_FIELDS_BEFORE_VERSION=14

# provenance_dpkg_status_to VAR NAME... : VAR = the body of the packages object ("name":"version"
# pairs, comma separated) for the installed ones among NAME..., read from dpkg's status file by
# one grep (dpkg-query takes ~8 ms of CPU to load the whole database; grep ~1 ms to find the
# paragraphs). The same answer as dpkg-query -W: the packages in the file's order (dpkg keeps
# it sorted by name, as dpkg-query sorts its output), each installed instance (Status ... installed)
# with its Version. False (VAR unset) where only dpkg-query can answer: no readable status file,
# updates in dpkg's journal not merged into it yet, a name that is not a plain lower-case name
# (a pattern, an architecture qualifier), or a paragraph not in dpkg's field order.
provenance_dpkg_status_to() {
  local -n _prov_dpkg=$1
  shift
  local status=$PROVENANCE_DPKG_DIR/status name out line pkg='' state='' version='' k v found='' sep='' rc=0 noglob=false
  local -a patterns=() lines=() journal=()
  local -A wanted=()
  [[ -r $status && -d $PROVENANCE_DPKG_DIR/updates ]] || return 1
  [[ $- == *f* ]] && noglob=true
  # dpkg merges its journal into the status file when a run ends; entries left there (an
  # interrupted run) are part of the database only dpkg-query reads. (A glob, not ls: no process.)
  set +f
  journal=("$PROVENANCE_DPKG_DIR"/updates/*)
  [[ $noglob == false ]] || set -f
  [[ ! -e ${journal[0]:-} && ! -L ${journal[0]:-} ]] || return 1
  for name in "$@"; do
    # dpkg-query matches a pattern, an arch-qualified or an upper-case name its own way; a
    # name that cannot be a package's (qa_testset_automation on Debian) matches nothing either way.
    [[ $name =~ ^[a-z0-9][a-z0-9+._-]*$ ]] || return 1
    wanted[$name]=1
    patterns+=(-e "Package: $name")
  done
  ((${#patterns[@]} > 0)) || { _prov_dpkg=''; return 0; }
  # (stderr redirected around the substitution: inside it, bash forks once more before grep)
  { out=$(LC_ALL=C grep -F -x -A "$PROVENANCE_DPKG_FIELDS_BEFORE_VERSION" "${patterns[@]}" -- "$status"); } 2>/dev/null || rc=$?
  ((rc <= 1)) || return 1
  # One line per element, split in memory (no glob expansion of the lines).
  set -f
  local IFS=$'\n'
  # shellcheck disable=SC2206 # word splitting on newlines is the point; globbing is off
  lines=($out)
  IFS=$' \t\n'
  [[ $noglob == true ]] || set +f
  lines+=('--')
  for line in "${lines[@]}"; do
    case $line in
      'Package: '* | --)
        if [[ -n $pkg && $state == installed ]]; then
          [[ -n $version ]] || return 1
          orch_json_string_to k "$pkg"
          orch_json_string_to v "$version"
          found+="$sep$k:$v"
          sep=,
        fi
        pkg=${line#Package: }
        [[ $line != -- && -n ${wanted[$pkg]:-} ]] || pkg=''
        state=''
        version=''
        ;;
      'Status: '*) state=${line##* } ;;
      'Version: '*) version=${line#Version: } ;;
    esac
  done
  _prov_dpkg=$found
}

# provenance_packages_to VAR [NAME...] : {"name":"version",...} for the installed ones
# among the list (or the names given). One query to the package database for the whole
# list (dpkg's status file, dpkg-query, or rpm on SUSE/RHEL), filtered here rather than by
# another process.
provenance_packages_to() {
  local -n _prov_packages=$1
  shift
  local -a names=("$@")
  local name state version k v body='' sep=''
  ((${#names[@]} > 0)) || provenance_package_names_to names
  if provenance_dpkg_status_to body "${names[@]}"; then
    :
  elif orch_have_cmd dpkg-query; then
    while IFS=$'\t' read -r name state version; do
      [[ $state == installed && -n $name && -n $version ]] || continue
      orch_json_string_to k "$name"
      orch_json_string_to v "$version"
      body+="$sep$k:$v"
      sep=,
    done < <(dpkg-query -W -f='${Package}\t${db:Status-Status}\t${Version}\n' "${names[@]}" 2>/dev/null)
  elif orch_have_cmd rpm; then
    while IFS=$'\t' read -r name version; do
      [[ -n $name && -n $version && $name != *' is not installed'* ]] || continue
      orch_json_string_to k "$name"
      orch_json_string_to v "$version"
      body+="$sep$k:$v"
      sep=,
    done < <(rpm -q --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n' "${names[@]}" 2>/dev/null)
  fi
  _prov_packages="{$body}"
}
provenance_packages() {
  local out
  provenance_packages_to out
  printf '%s' "$out"
}

# provenance_json_to VAR : the whole provenance document.
provenance_json_to() {
  local hostname boot_id now os kernel cmdline cpu memory packages
  orch_now
  now=$REPLY
  provenance_read_line_to hostname /proc/sys/kernel/hostname
  provenance_read_line_to boot_id /proc/sys/kernel/random/boot_id
  provenance_os_to os
  provenance_kernel_to kernel
  provenance_cmdline_to cmdline
  provenance_cpu_to cpu
  provenance_memory_kb_to memory
  provenance_packages_to packages
  orch_json_object_to "$1" \
    hostname s "${hostname:-${HOSTNAME:-unknown}}" \
    boot_id s "$boot_id" \
    collected_at n "$now" \
    os j "$os" \
    kernel j "$kernel" \
    cmdline j "$cmdline" \
    cpu j "$cpu" \
    memory_kb j "$memory" \
    packages j "$packages"
}
provenance_json() {
  local out
  provenance_json_to out
  printf '%s' "$out"
}

# provenance_package_db : print nothing; set REPLY to the package database file whose
# change time says packages changed (dpkg's status file, or rpm's database), or ''.
provenance_package_db() {
  local db
  REPLY=''
  for db in /var/lib/dpkg/status /var/lib/rpm/rpmdb.sqlite /usr/lib/sysimage/rpm/rpmdb.sqlite /var/lib/rpm/Packages; do
    if [[ -e $db ]]; then
      REPLY=$db
      return 0
    fi
  done
}

# provenance_cached_to VAR CACHE_FILE : the provenance record, reused from CACHE_FILE while
# its key (boot id, host name, package list) matches and the cache is newer than the
# package database; else collected afresh and written to CACHE_FILE (temp + rename).
provenance_cached_to() {
  local -n _prov_record=$1
  local cache=$2 boot_id hostname key cached_key='' cached='' db
  local -a names
  provenance_read_line_to boot_id /proc/sys/kernel/random/boot_id
  provenance_read_line_to hostname /proc/sys/kernel/hostname
  provenance_package_names_to names
  key="$PROVENANCE_CACHE_FORMAT $boot_id $hostname ${names[*]}"
  provenance_package_db
  db=$REPLY
  if [[ -n $boot_id && -r $cache && (-z $db || $cache -nt $db) ]]; then
    { IFS= read -r cached_key && IFS= read -r cached; } <"$cache" || true
    if [[ $cached_key == "$key" && $cached == '{'*'}' ]]; then
      _prov_record=$cached
      return 0
    fi
  fi
  provenance_json_to _prov_record
  if [[ -n $boot_id ]]; then
    [[ -d ${cache%/*} ]] || mkdir -p -- "${cache%/*}"
    printf '%s\n%s\n' "$key" "$_prov_record" >"$cache.tmp.$$"
    mv -f -- "$cache.tmp.$$" "$cache"
  fi
}
