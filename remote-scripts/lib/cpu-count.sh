# shellcheck shell=bash
# The number of CPUs this process may run on, read with bash builtins (no nproc). Sourced, never
# executed: by lib/provenance.sh (the provenance record's logical_cpus) and by the sysinfo helper,
# which needs only this and so does not parse the whole provenance library on every job.

# provenance_cpu_count_to VAR : CPUs this process may run on (what nproc prints), from the
# Cpus_allowed_list of /proc/self/status ("0-3,6"), or null.
provenance_cpu_count_to() {
  local -n _prov_count=$1
  local key list="" range _pcc_total=0
  local -a ranges
  if [[ -r /proc/self/status ]]; then
    while IFS=$':\t ' read -r key list; do
      [[ $key == Cpus_allowed_list ]] && break
      list=''
    done </proc/self/status
  fi
  if [[ ! $list =~ ^[0-9,-]+$ ]]; then
    _prov_count=null
    return 0
  fi
  IFS=, read -r -a ranges <<<"$list"
  for range in "${ranges[@]}"; do
    if [[ $range =~ ^([0-9]+)-([0-9]+)$ ]]; then
      _pcc_total=$((_pcc_total + 10#${BASH_REMATCH[2]} - 10#${BASH_REMATCH[1]} + 1))
    elif [[ $range =~ ^[0-9]+$ ]]; then
      _pcc_total=$((_pcc_total + 1))
    fi
  done
  _prov_count=$_pcc_total
}
