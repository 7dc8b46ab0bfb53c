# shellcheck shell=bash
# QASET stand-in: one case: open (its packages, then <case>_open, e.g. mkfs + mount /abuild),
# the run script's check, the call inside `screen -L` (logged in runs/), close (<case>_close) and
# the results (sq-result.sh). Sourced by qaset.

# sq_execute_open NAME : the packages the set names for NAME, then NAME_open if the set has one.
sq_execute_open() {
  local name=$1 packages=() pkg
  sq_info "[EXE] $name: starting ..."
  if declare -p "${name}_packages" >/dev/null 2>&1; then
    eval "packages=(\"\${${name}_packages[@]}\")"
  fi
  for pkg in "${packages[@]}"; do
    sq_prep_install_package "$pkg" || return 1
  done
  if [[ $(type -t "${name}_open") == function ]]; then
    "${name}_open" "$ARCH" "$SLE_BUILD" || return 1
  fi
  return 0
}

# sq_execute_check_script NAME : SQ_EXE_RUN_SCRIPT, the set's NAME_run or
# /usr/share/qa/tools/test_NAME-run; fails when it is not an executable file.
sq_execute_check_script() {
  local name=$1 var="${1}_run" script
  script=${!var:-/usr/share/qa/tools/test_${name}-run}
  script=$SQ_ROOT$script
  if [[ ! -x $script ]]; then
    sq_error "[EXE] $name: $script does not exist!!!"
    return 1
  fi
  SQ_EXE_RUN_SCRIPT=$script
}

# sq_operator_stop_hook NAME : TEST HOOK (STANDIN_OPERATOR_STOP_DURING=<case> in the config): an
# operator runs `qaset stop` while that case runs (STANDIN_OPERATOR_STOP_DELAY seconds after its
# start, default 1). Prints the PID of the background stop, or nothing.
sq_operator_stop_hook() {
  [[ -n ${STANDIN_OPERATOR_STOP_DURING:-} && $STANDIN_OPERATOR_STOP_DURING == "$1" ]] || return 0
  sq_warn "[EXE] $1: TEST HOOK: the operator runs 'qaset stop' during this case"
  (sleep "${STANDIN_OPERATOR_STOP_DELAY:-1}" && "$QASET_ROOT/qaset" stop) >/dev/null 2>&1 &
  printf '%s\n' "$!"
}

# sq_execute_call NAME : the run script in a screen session that logs to runs/NAME-%m%dT%H%M.screenlog;
# its exit status is screen's (a benchmark failing inside the script does not fail the case).
sq_execute_call() {
  local name=$1 stop_pid rc=0 dir=$SQ_TEST_RUN_DIR
  # QASET creates runs/ only with a new /var/log/qaset; without it the screen log lands in the
  # current directory (as the real one's failed pushd leaves it)
  if [[ ! -d $dir ]]; then
    sq_error "[EXE] $name: $dir does not exist: the screen log goes to $PWD"
    dir=$PWD
  fi
  printf 'logfile %s-%s.screenlog\n' "$name" "$(date +%m%dT%H%M)" >"$dir/$name.screenrc"
  logger "[QA_SET] starting $name" 2>/dev/null || true
  sq_info "[EXE] $name: running"
  stop_pid=$(sq_operator_stop_hook "$name")
  (cd "$dir" && screen -L -S "$name" -t "$name" -c "$name.screenrc" -D -m "$SQ_EXE_RUN_SCRIPT") || rc=$?
  [[ -z $stop_pid ]] || wait "$stop_pid" || true
  logger "[QA_SET] finished $name" 2>/dev/null || true
  sq_info "[EXE] $name: finished"
  return "$rc"
}

# sq_execute_close NAME STATUS : NAME_close if the set has one, then the results (also after a failure).
sq_execute_close() {
  local name=$1
  if [[ $(type -t "${name}_close") == function ]]; then
    "${name}_close" "$ARCH" "$SLE_BUILD" || true
  fi
  sq_result_one_run "$name" "$2"
}

# sq_execute_run NAME : one case; 0 when open, the script check and the call all succeeded.
sq_execute_run() {
  local name=$1 ok=0
  SQ_EXE_RUN_SCRIPT=''
  if sq_execute_open "$name" && sq_execute_check_script "$name" && sq_execute_call "$name"; then
    sq_execute_close "$name" SUCCEEDED
  else
    ok=1
    sq_execute_close "$name" FAILED
  fi
  return "$ok"
}
