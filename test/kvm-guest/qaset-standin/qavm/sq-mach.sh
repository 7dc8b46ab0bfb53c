# shellcheck shell=bash disable=SC2034 # globals shared by the files qaset sources
# QASET stand-in: the machine layer: the run lock, the default-route wait, the first run's
# preparation, and the reboot when a case left the system dirty. Sourced by qaset.

# sq_mach_open : takes lock.d (refuses when it exists: "There is already a qaset running"), waits
# for a default route, then prepares the machine unless control/PREPARED exists.
sq_mach_open() {
  if ! mkdir "$SQ_TEST_RUN_LOCK" 2>/dev/null; then
    sq_error "There is already a qaset running"
    return 1
  fi
  sq_wait_default_route
  SQ_REPO_NAMES=()
  SQ_LIBS=()
  # shellcheck source=/dev/null
  [[ ! -f $QASET_ROOT/conf/$SLE_RELEASE.conf ]] || . "$QASET_ROOT/conf/$SLE_RELEASE.conf"
  if [[ -f $SQ_TEST_CONTROL_FILE_PREPARED ]]; then
    sq_info "[MACH] Preparation: NOT NEED."
  else
    sq_info "[MACH] Preparation: is doing"
    sq_prep_repos_and_packages
    sq_info "[MACH] Preparation: set hostname in /etc/hosts"
    sq_in_test_root || printf '127.0.0.100    %s\n' "$(hostname)" >>/etc/hosts
    date >"$SQ_TEST_CONTROL_FILE_PREPARED"
  fi
  SQ_TEST_MACH_FLAG_REBOOT=NO
}

# sq_mach_close : gives lock.d up (even when open refused: the next start finds no stale lock),
# then reboots when the control layer asked for it.
sq_mach_close() {
  [[ ! -d $SQ_TEST_RUN_LOCK ]] || rmdir "$SQ_TEST_RUN_LOCK"
  if [[ $SQ_TEST_MACH_FLAG_REBOOT == YES ]]; then
    sq_os_reboot
  fi
}

# sq_mach_run : one qaset process's run.
sq_mach_run() {
  if sq_mach_open; then
    sq_control_run || true
  fi
  sq_mach_close
}
