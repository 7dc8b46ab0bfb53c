# shellcheck shell=bash
# QASET STAND-IN: what the stand-in's run scripts share: the config (STANDIN_* keys from
# /root/qaset/config) and a ctcs2-like result directory, as QASET's tests leave in
# /var/log/qa/ctcs2/<tcf>-YYYY-MM-DD-HH-MM-SS/: one raw output file per test (several runs each,
# as the benchmark prints them), test_results (per test: its name, then
# "fail succeed count time interr skipped") and done. Sourced by the run scripts.

CTCS2_ROOT=${QASET_STANDIN_TEST_ROOT:-}
CTCS2_DIR=$CTCS2_ROOT/var/log/qa/ctcs2
CTCS2_RESULT=''
if [[ -f $CTCS2_ROOT/root/qaset/config ]]; then
  set +u
  # shellcheck source=/dev/null
  . "$CTCS2_ROOT/root/qaset/config"
  set -u
fi

# ctcs2_open TCF : the result directory of this run (CTCS2_RESULT), its environment file.
ctcs2_open() {
  CTCS2_RESULT=$CTCS2_DIR/$1-$(date +%Y-%m-%d-%H-%M-%S)
  mkdir -p "$CTCS2_RESULT"
  { uname -a; printf 'tcf: %s\nhost: %s\n' "$1" "$(hostname)"; } >"$CTCS2_RESULT/environment"
  echo "ctcs2 (qaset stand-in): $1 -> $CTCS2_RESULT"
}

# ctcs2_test NAME COMMAND... : COMMAND's output into NAME (and the screen log); its status and
# whole seconds into test_results.
ctcs2_test() {
  local name=$1 t0 t1 rc=0
  shift
  t0=$(date +%s)
  "$@" > >(tee "$CTCS2_RESULT/$name") 2>&1 || rc=$?
  t1=$(date +%s)
  if ((rc == 0)); then
    printf '%s\n0 1 1 %d 0 0\n' "$name" $((t1 - t0)) >>"$CTCS2_RESULT/test_results"
  else
    printf '%s\n1 0 1 %d 0 0\n' "$name" $((t1 - t0)) >>"$CTCS2_RESULT/test_results"
  fi
  echo "ctcs2 (qaset stand-in): $name rc=$rc"
}

# ctcs2_close : done (the UTC end time).
ctcs2_close() {
  sync
  date -u >"$CTCS2_RESULT/done"
}

# standin_variant SCRIPT PREFIX SUFFIX : the part of SCRIPT's name between PREFIX and SUFFIX
# (test_dbench-4_0_async-run -> async).
standin_variant() {
  local base=${1##*/}
  base=${base#"$2"}
  printf '%s\n' "${base%"$3"}"
}

# standin_abuild : the directory the filesystem cases work in (/abuild, mounted by the case's open).
standin_abuild() { printf '%s\n' "$CTCS2_ROOT/abuild"; }
