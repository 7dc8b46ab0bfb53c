# shellcheck shell=bash
# The optional cluster check before the agent starts (the original started ZooKeeper, Cassandra and
# the API first): every endpoint (MIDOLMAN_CLUSTER_ENDPOINTS, host:port lines) must accept a TCP
# connection and every command (MIDOLMAN_CLUSTER_COMMANDS: one word per line, commands separated
# by an empty line; run as words, never through a shell) must exit 0, each within
# MIDOLMAN_CLUSTER_TIMEOUT seconds. -> $ORCH_ARTIFACTS/cluster-check.json; a clear error naming
# everything that is down. Sourced, never executed; needs lib/json.sh, lib/events.sh.

# mm_cluster_endpoint HOST:PORT LIMIT : connect once; prints why not when it fails.
mm_cluster_endpoint() {
  local host=${1%:*} port=${1##*:} out rc=0
  host=${host#[} host=${host%]}
  out=$(timeout "$2" bash -c 'exec 3<>"/dev/tcp/$0/$1"' "$host" "$port" 2>&1) || rc=$?
  ((rc == 0)) && return 0
  if ((rc == 124)); then printf 'no answer within %s s' "$2"; else printf '%s' "${out##*: }"; fi
  return 1
}

# mm_cluster_command LIMIT WORD... : run the command; prints its status and last output line when it fails.
mm_cluster_command() {
  local limit=$1 out rc=0
  shift
  out=$(timeout --kill-after=5 "$limit" "$@" </dev/null 2>&1) || rc=$?
  ((rc == 0)) && return 0
  out=$(printf '%s' "$out" | tail -n 1 | LC_ALL=C tr -d '\000-\037\177' | cut -c1-200)
  if ((rc == 124)); then printf 'no answer within %s s' "$limit"; else printf 'exit %s%s' "$rc" "${out:+: $out}"; fi
  return 1
}

# mm_cluster_check : check everything; fail naming what is down.
mm_cluster_check() {
  local limit=${MIDOLMAN_CLUSTER_TIMEOUT:-10} endpoint line why results='[' sep='' ok
  local -a down=() argv=()
  local -a endpoints=()
  mm_lines_to_array endpoints "${MIDOLMAN_CLUSTER_ENDPOINTS:-}"
  for endpoint in "${endpoints[@]}"; do
    orch_progress "cluster: $endpoint" 0.3
    if why=$(mm_cluster_endpoint "$endpoint" "$limit"); then ok=true; else ok=false down+=("$endpoint ($why)"); fi
    results+=$sep$(orch_json_object kind s endpoint target s "$endpoint" ok b "$ok" detail s "$why")
    sep=,
  done
  # Commands: words one per line, an empty line ends a command.
  while IFS= read -r line || ((${#argv[@]} > 0)); do
    if [[ -n $line ]]; then
      argv+=("$line")
      continue
    fi
    ((${#argv[@]} > 0)) || continue
    orch_progress "cluster: ${argv[*]}" 0.6
    if why=$(mm_cluster_command "$limit" "${argv[@]}"); then ok=true; else ok=false down+=("'${argv[*]}' ($why)"); fi
    results+=$sep$(orch_json_object kind s command target s "${argv[*]}" ok b "$ok" detail s "$why")
    sep=,
    argv=()
  done <<<"${MIDOLMAN_CLUSTER_COMMANDS:-}"
  results+=']'
  orch_json_object ok b "$([[ ${#down[@]} -eq 0 ]] && echo true || echo false)" checks j "$results" |
    orch_atomic_write "$ORCH_ARTIFACTS/cluster-check.json"
  if ((${#down[@]} > 0)); then
    orch_log_event error "cluster check: ${#down[@]} down: $(printf '%s; ' "${down[@]}" | sed 's/; $//')"
    orch_die "cluster check: ${#down[@]} down: $(printf '%s; ' "${down[@]}" | sed 's/; $//')"
  fi
  orch_progress "cluster: everything answers" 1
}
