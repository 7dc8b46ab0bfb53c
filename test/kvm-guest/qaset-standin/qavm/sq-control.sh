# shellcheck shell=bash disable=SC2034 # globals shared by the files qaset sources
# QASET stand-in: the control of all executions: the run list, NEXT_RUN, the special forms
# (_reboot_off/_reboot_on), SYSTEM_DIRTY, STOP, DONE and list.failed. Sourced by qaset.

# sq_control_open : a clean start: SYSTEM_DIRTY removed, the set and the run list loaded.
sq_control_open() {
  rm -f "$SQ_TEST_CONTROL_FILE_SYSTEM_DIRTY"
  SQ_TEST_CONTROL_IGNORE_SYSTEM_DIRTY=NO
  SQ_TEST_CONTROL_MAKE_SYSTEM_PURE=NO
  if [[ -z $SQ_TEST_RUN_SET ]]; then
    sq_error "No test set" "Check the configure file!!"
    return 5
  fi
  if [[ ! -f $QASET_ROOT/set/$SQ_TEST_RUN_SET.set ]]; then
    sq_error "set dose NOT exist"
    return 5
  fi
  # shellcheck source=/dev/null
  . "$QASET_ROOT/set/$SQ_TEST_RUN_SET.set"
  SQ_TEST_RUN_LIST=()
  # shellcheck source=/dev/null
  [[ ! -f $SQ_USER_CONFIG_LIST ]] || . "$SQ_USER_CONFIG_LIST"
  if ((${#SQ_TEST_RUN_LIST[@]} > 0)); then
    sq_info "[CONTROL] use customized run list"
  else
    sq_info "[CONTROL] use default run list for $SQ_TEST_RUN_SET"
    # shellcheck source=/dev/null
    [[ ! -f $QASET_ROOT/list/$SQ_TEST_RUN_SET-$SLE_RELEASE.list ]] || . "$QASET_ROOT/list/$SQ_TEST_RUN_SET-$SLE_RELEASE.list"
  fi
  sq_qadb_load_comment
  return 0
}

# sq_control_close : no reboot after STOP or DONE; else one when a case left the system dirty.
sq_control_close() {
  if [[ -f $SQ_TEST_CONTROL_FILE_STOP ]]; then
    sq_info "[CONTROL]: runs stopped"
    return 0
  fi
  if [[ -f $SQ_TEST_CONTROL_FILE_DONE ]]; then
    sq_info "[CONTROL]: runs done. NO reboot"
    return 0
  fi
  if [[ $SQ_TEST_CONTROL_MAKE_SYSTEM_PURE == YES ]]; then
    SQ_TEST_MACH_FLAG_REBOOT=YES
    sq_info "[CONTROL]: NEED to reboot system."
  fi
}

# sq_control_get_next_run : the entry to run now (SQ_THIS_RUN, SQ_THIS_RUN_INDEX) from NEXT_RUN,
# and NEXT_RUN rewritten to the one after it ("<index> <name>"; " " while the last one runs).
# Fails (ends the loop) on STOP (1), a dirty system unless reboots are off (2), DONE (3), an empty
# list (4); an index past the list exits qaset (255), as the real one does.
sq_control_get_next_run() {
  local next_index next_name
  if [[ -f $SQ_TEST_CONTROL_FILE_STOP ]]; then
    sq_info "[CONTROL]: this run is manually stopped!"
    return 1
  fi
  if [[ -f $SQ_TEST_CONTROL_FILE_SYSTEM_DIRTY ]]; then
    SQ_TEST_CONTROL_MAKE_SYSTEM_PURE=YES
    [[ $SQ_TEST_CONTROL_IGNORE_SYSTEM_DIRTY != NO ]] || return 2
  fi
  if [[ -f $SQ_TEST_CONTROL_FILE_DONE ]]; then
    sq_info "[CONTROL]: This round of runs was already finished at $(cat "$SQ_TEST_CONTROL_FILE_DONE")"
    return 3
  fi
  if ((${#SQ_TEST_RUN_LIST[@]} == 0)); then
    sq_error "SQ_TEST_RUN_LIST is none" "Plase check the list file."
    return 4
  fi
  SQ_THIS_RUN_INDEX=''
  if [[ -f $SQ_TEST_CONTROL_FILE_NEXT_RUN ]]; then
    read -r SQ_THIS_RUN_INDEX _ <"$SQ_TEST_CONTROL_FILE_NEXT_RUN" || true
  fi
  [[ -n $SQ_THIS_RUN_INDEX ]] || SQ_THIS_RUN_INDEX=0
  if [[ ! $SQ_THIS_RUN_INDEX =~ ^[0-9]+$ ]] || ((SQ_THIS_RUN_INDEX >= ${#SQ_TEST_RUN_LIST[@]})); then
    sq_error "the run list is out of SQ_TEST_RUN_LIST"
    exit 255
  fi
  SQ_THIS_RUN=${SQ_TEST_RUN_LIST[SQ_THIS_RUN_INDEX]}
  next_index=$((SQ_THIS_RUN_INDEX + 1))
  if ((next_index >= ${#SQ_TEST_RUN_LIST[@]})); then
    next_index=''
    next_name=''
  else
    next_name=${SQ_TEST_RUN_LIST[next_index]}
  fi
  echo "$next_index" "$next_name" >"$SQ_TEST_CONTROL_FILE_NEXT_RUN"
}

# sq_control_get_run_status RC NAME : SYSTEM_DIRTY after a case that succeeded; a failed one is
# appended to /root/qaset/list.failed as QASET writes it: `date %Y%m%dT%H%M%S` lacks its "+", so
# date fails and the line is " <case>".
sq_control_get_run_status() {
  if (($1 == 0)); then
    date '+%Y-%m-%d-%H-%M-%S' >"$SQ_TEST_CONTROL_FILE_SYSTEM_DIRTY"
  else
    sq_info "[CONTROL]: Save the failed $2"
    echo "$(date %Y%m%dT%H%M%S 2>/dev/null) $2" >>"$SQ_USER_CONFIG_LIST_FAILURE"
  fi
}

# sq_control_check_run_queue : after the last entry: DONE, and the boot service disabled.
sq_control_check_run_queue() {
  if ((SQ_THIS_RUN_INDEX + 1 >= ${#SQ_TEST_RUN_LIST[@]})); then
    date '+%Y-%m-%d-%H-%M-%S' >"$SQ_TEST_CONTROL_FILE_DONE"
    sq_remove_service
  fi
}

# sq_control_run : the loop over the run list, from NEXT_RUN.
sq_control_run() {
  local rc
  sq_control_open || return 5
  while sq_control_get_next_run; do
    case $SQ_THIS_RUN in
      _reboot_off)
        SQ_TEST_CONTROL_IGNORE_SYSTEM_DIRTY=YES
        sq_info "[CONTROL] reboot is disable"
        ;;
      _reboot_on)
        SQ_TEST_CONTROL_IGNORE_SYSTEM_DIRTY=NO
        sq_info "[CONTROL] reboot is enable"
        ;;
      _*) sq_debug "[CONTROL] Unknown special form $SQ_THIS_RUN" ;;
      *)
        rc=0
        sq_execute_run "$SQ_THIS_RUN" || rc=$?
        sq_control_get_run_status "$rc" "$SQ_THIS_RUN"
        ;;
    esac
    sq_control_check_run_queue
  done
  sq_control_close
}
