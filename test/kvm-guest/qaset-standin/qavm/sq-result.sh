# shellcheck shell=bash
# QASET stand-in: the run id, the QADB comment, and a case's results: the system-information
# files in each ctcs2 result directory, the tarball of /var/log/qa/ctcs2's contents in log/, the
# submission log, then ctcs2 emptied for the next case. Sourced by qaset.

sq_qadb_load_comment() {
  # shellcheck source=/dev/null
  [[ ! -f $SQ_QADB_COMMENT_FILE ]] || . "$SQ_QADB_COMMENT_FILE"
}

# the run id: control/RUN_ID holds SQ_TEST_RUN_ID=...; generated from the date only when empty
sq_qadb_load_run_id() {
  # shellcheck source=/dev/null
  [[ ! -f $SQ_TEST_RUN_ID_FILE ]] || . "$SQ_TEST_RUN_ID_FILE"
}
sq_qadb_is_empty_run_id() { [[ -z $SQ_TEST_RUN_ID ]]; }
sq_qadb_gen_run_id() {
  SQ_TEST_RUN_ID=$(date '+%Y%m%d')
  echo "SQ_TEST_RUN_ID=$SQ_TEST_RUN_ID" >"$SQ_TEST_RUN_ID_FILE"
}

# sq_qadb_update_system_information : the 14 files QASET writes into every result directory
# (names ending -YYYY-MM-DD-HH-MM-SS). Programs Debian lacks (zypper) or the image does not carry
# (cpupower) leave their file empty, as a shell redirection does.
sq_qadb_update_system_information() {
  local dir d
  for dir in "$SQ_CTCS2_DIR"/*; do
    [[ -d $dir && ${dir##*/} =~ [0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}$ ]] || continue
    d=$dir
    journalctl --no-pager >"$d/syslog-journalctl.txt" 2>/dev/null || true
    zypper -n --no-refresh pt -i >"$d/installed-pattern.txt" 2>/dev/null || true
    lsscsi >"$d/lsscsi.txt" 2>/dev/null || true
    lspci -k >"$d/lspci-k.txt" 2>/dev/null || true
    lsmod >"$d/lsmod.txt" 2>/dev/null || true
    lscpu >"$d/lscpu.txt" 2>/dev/null || true
    cpupower frequency-info >"$d/cpu-frequency-info.txt" 2>/dev/null || true
    { mount | grep '^/dev'; } >"$d/partition-mount.txt" 2>/dev/null || true
    cat /proc/cmdline >"$d/cmdline.txt" 2>/dev/null || true
    cat /proc/meminfo >"$d/meminfo.txt" 2>/dev/null || true
    cat /proc/zoneinfo >"$d/zoneinfo.txt" 2>/dev/null || true
    systemctl list-units --no-pager >"$d/systemctl-list-units.txt" 2>/dev/null || true
    { env | grep '^_QASET'; } >"$d/tenv.txt" 2>/dev/null || true
    if [[ ! -f $d/messages.shortlog ]]; then
      awk '/error/ { e++ } /calltrace/ { c++ } END { print "error have " e + 0; print "calltrace have " c + 0 }' \
        /var/log/messages >>"$d/messages.shortlog" 2>/dev/null || true
    fi
  done
}

# sq_result_save_locally NAME : log/NAME-%Y%m%dT%H%M%S.tar.bz2 of the CONTENTS of ctcs2 (no ctcs2/
# prefix). `*` is not expanded when ctcs2 is empty (a failed case): tar then fails, as the real
# one's does, and leaves an empty archive.
sq_result_save_locally() {
  local name=$1 serial rc=0
  serial=$(date '+%Y%m%dT%H%M%S')
  if [[ -d $SQ_CTCS2_DIR ]]; then
    (cd "$SQ_CTCS2_DIR" && shopt -u nullglob && tar -c -j -f "$SQ_TEST_LOG_DIR/$name-$serial.tar.bz2" -- *) || rc=$?
  else
    rc=1
  fi
  if ((rc != 0)); then
    sq_error "[result] Failed to save $name-$serial"
  else
    sq_info "[result] Succeeded to save $name-$serial"
  fi
  return "$rc"
}

# sq_result_one_run CASE STATUS : the results of one case (after success and failure alike).
# Tarball name: CASE-ACAP2-RUNID[-COMMENT] (CASE-ACAP2 without a run id); with
# SQ_TEST_USER_APAC2=YES just CASE; none when SQ_LOG_SUBMISSION_DISABLE is set to anything but NO.
sq_result_one_run() {
  local run=$1 result submission
  if [[ ${SQ_TEST_USER_APAC2:-} == YES ]]; then
    result=$run
  elif sq_qadb_is_empty_run_id; then
    result=$run-ACAP2
  else
    result=$run-ACAP2-$SQ_TEST_RUN_ID
  fi
  [[ -z $SQ_QADB_COMMENT ]] || result=$result-$SQ_QADB_COMMENT
  sq_info "[result] $run: $2"
  mkdir -p "$SQ_CTCS2_DIR"
  sq_qadb_update_system_information
  if [[ -z ${SQ_LOG_SUBMISSION_DISABLE:-} || $SQ_LOG_SUBMISSION_DISABLE == NO ]]; then
    sq_result_save_locally "$result" || true
  fi
  # QADB: QASET runs /usr/share/qa/tools/remote_qa_db_report.pl and keeps its output; the stand-in
  # has no QADB (and no network), so the log says so and the submission counts as failed. Like
  # log/, submission/ must exist (QASET creates both only with a new /var/log/qaset).
  submission="qaset stand-in: no QADB here; $run's results are in ${SQ_TEST_LOG_DIR#"$SQ_ROOT"}/ ($2)"
  printf '%s\n' "$submission" >>"$SQ_TEST_SUBMISSION_DIR/submission-$run.log" ||
    sq_error "[qadb] cannot write $SQ_TEST_SUBMISSION_DIR/submission-$run.log"
  sq_warn "[qadb] $run submit qa_db_report failed!"
  echo "$run-Nuremberg" >>"$SQ_USER_CONFIG_SUBMIT_FAILURE"
  rm -rf "${SQ_CTCS2_DIR:?}"/*
}
