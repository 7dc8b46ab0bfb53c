# shellcheck shell=bash disable=SC2034 # globals shared by the files qaset sources
# QASET stand-in: where everything lives (QASET's real paths). Sourced by qaset.
# QASET_STANDIN_TEST_ROOT (a test hook, never set in a guest) prefixes every path, so the host's
# unit tests can run the stand-in in a directory; see ../README.md.

SQ_ROOT=${QASET_STANDIN_TEST_ROOT:-}
SQ_DEBUG_ON=NO

SQ_TEST_DIR=$SQ_ROOT/var/log/qaset
SQ_TEST_RUN_DIR=$SQ_TEST_DIR/runs
SQ_TEST_RUN_LOCK=$SQ_TEST_DIR/lock.d
SQ_TEST_CALL_DIR=$SQ_TEST_DIR/calls
SQ_TEST_CONTROL_DIR=$SQ_TEST_DIR/control
SQ_TEST_LOG_DIR=$SQ_TEST_DIR/log
SQ_TEST_SET_STATUS_DIR=$SQ_TEST_DIR/set
SQ_TEST_SUBMISSION_DIR=$SQ_TEST_DIR/submission

SQ_TEST_CONTROL_FILE_PREPARED=$SQ_TEST_CONTROL_DIR/PREPARED
SQ_TEST_CONTROL_FILE_STOP=$SQ_TEST_CONTROL_DIR/STOP
SQ_TEST_CONTROL_FILE_DONE=$SQ_TEST_CONTROL_DIR/DONE
SQ_TEST_CONTROL_FILE_NEXT_RUN=$SQ_TEST_CONTROL_DIR/NEXT_RUN
SQ_TEST_CONTROL_FILE_SYSTEM_DIRTY=$SQ_TEST_CONTROL_DIR/SYSTEM_DIRTY
SQ_TEST_RUN_ID_FILE=$SQ_TEST_CONTROL_DIR/RUN_ID
SQ_QADB_COMMENT_FILE=$SQ_TEST_CONTROL_DIR/QADB_COMMENT

SQ_USER_CONFIG_DIR=$SQ_ROOT/root/qaset
SQ_USER_CONFIG_FILE=$SQ_USER_CONFIG_DIR/config
SQ_USER_CONFIG_LIST=$SQ_USER_CONFIG_DIR/list
SQ_USER_CONFIG_LIST_FAILURE=$SQ_USER_CONFIG_DIR/list.failed
SQ_USER_CONFIG_SUBMIT_FAILURE=$SQ_USER_CONFIG_DIR/submit.failed

SQ_CTCS2_DIR=$SQ_ROOT/var/log/qa/ctcs2
SQ_PROC_CMDLINE=$SQ_ROOT/proc/cmdline
SQ_ETC_ISSUE=$SQ_ROOT/etc/issue

# the state of one qaset process (the real one keeps the same in globals)
SQ_TEST_RUN_LIST=()
SQ_TEST_RUN_SET=${SQ_TEST_RUN_SET:-}
SQ_TEST_RUN_ID=''
SQ_QADB_COMMENT=''
SQ_TEST_MACH_FLAG_REBOOT=NO
SQ_TEST_CONTROL_IGNORE_SYSTEM_DIRTY=NO
SQ_TEST_CONTROL_MAKE_SYSTEM_PURE=NO

# sq_global_init : QASET's directories, created only when /var/log/qaset does not exist yet (as the
# real one does: a /var/log/qaset without runs/ or log/ stays so), and /root/qaset.
sq_global_init() {
  if [[ ! -d $SQ_TEST_DIR ]]; then
    mkdir -p "$SQ_TEST_RUN_DIR" "$SQ_TEST_CALL_DIR" "$SQ_TEST_CONTROL_DIR" "$SQ_TEST_LOG_DIR" \
      "$SQ_TEST_SET_STATUS_DIR" "$SQ_TEST_SUBMISSION_DIR"
  fi
  if [[ ! -d $SQ_USER_CONFIG_DIR ]]; then
    mkdir -p "$SQ_USER_CONFIG_DIR"
    : >"$SQ_USER_CONFIG_FILE"
    : >"$SQ_USER_CONFIG_LIST"
  fi
}
