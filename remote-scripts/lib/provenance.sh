# shellcheck shell=bash
# Environment provenance of a host: what a result needs beside it to be comparable
# (kernel, command line, CPU, memory, package versions). Each function prints one JSON
# value. Sourced, never executed; needs lib/json.sh.

# Packages whose versions every result records; ORCH_PACKAGES (space separated) adds more.
PROVENANCE_PACKAGES=(midolman midonet-api openvswitch-switch openjdk-17-jre-headless
  openjdk-11-jre-headless openjdk-8-jre-headless libvirt-daemon qemu-system-x86 qemu-kvm
  nmap rrdtool qa_testset_automation)

# provenance_kernel : {"release","version","machine"}
provenance_kernel() {
  orch_json_object release s "$(uname -r)" version s "$(uname -v)" machine s "$(uname -m)"
}

# provenance_os : the PRETTY_NAME of /etc/os-release, or null.
provenance_os() {
  local pretty=''
  if [[ -r /etc/os-release ]]; then
    pretty=$(. /etc/os-release && printf '%s' "${PRETTY_NAME:-}")
  fi
  if [[ -n $pretty ]]; then orch_json_string "$pretty"; else printf 'null'; fi
}

# provenance_cmdline : the kernel command line.
provenance_cmdline() {
  local line=''
  [[ -r /proc/cmdline ]] && line=$(</proc/cmdline)
  orch_json_string "$line"
}

# provenance_cpu : {"model","logical_cpus"}
provenance_cpu() {
  local model
  model=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo 2>/dev/null || true)
  orch_json_object model s "${model:-unknown}" logical_cpus n "$(nproc 2>/dev/null || echo null)"
}

# provenance_memory_kb : MemTotal in kB.
provenance_memory_kb() {
  orch_json_number "$(awk '/^MemTotal:/ {print $2; exit}' /proc/meminfo 2>/dev/null || true)"
}

# provenance_packages : {"name":"version",...} for the installed ones among the list.
# One query to the package database for the whole list (dpkg, or rpm on SUSE/RHEL).
provenance_packages() {
  local -a names=("${PROVENANCE_PACKAGES[@]}") extra
  local name version sep=''
  read -r -a extra <<<"${ORCH_PACKAGES:-}"
  names+=("${extra[@]}")
  printf '{'
  while IFS=$'\t' read -r name version; do
    [[ -n $name && -n $version ]] || continue
    printf '%s' "$sep"
    orch_json_string "$name"
    printf ':'
    orch_json_string "$version"
    sep=,
  done < <(provenance_query_packages "${names[@]}")
  printf '}'
}

# provenance_query_packages NAME... : print "name<TAB>version" for each installed one.
provenance_query_packages() {
  if orch_have_cmd dpkg-query; then
    dpkg-query -W -f='${Package}\t${db:Status-Status}\t${Version}\n' "$@" 2>/dev/null |
      awk -F'\t' '$2 == "installed" { print $1 "\t" $3 }' || true
  elif orch_have_cmd rpm; then
    rpm -q --qf '%{NAME}\t%{VERSION}-%{RELEASE}\n' "$@" 2>/dev/null | grep -v 'is not installed' || true
  fi
}

# provenance_json : the whole provenance document.
provenance_json() {
  orch_json_object \
    hostname s "$(uname -n)" \
    collected_at n "${EPOCHREALTIME:-$(date +%s)}" \
    os j "$(provenance_os)" \
    kernel j "$(provenance_kernel)" \
    cmdline j "$(provenance_cmdline)" \
    cpu j "$(provenance_cpu)" \
    memory_kb j "$(provenance_memory_kb)" \
    packages j "$(provenance_packages)"
}
