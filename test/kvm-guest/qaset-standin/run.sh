#!/bin/sh
# shellcheck shell=dash
# QASET STAND-IN (test only). A tiny busybox-sh stand-in for SUSE's qa_testset_automation
# (QASET, /usr/share/qa/qaset/qaset), which is not installable here. It is NOT QASET: it
# follows QASET's file conventions so the orchestrator's collector/walker can read its output,
# and it runs real programs as its "benchmarks" (busybox ones, and fio/sysbench from the base image):
#   dd_seqio        dd-seq-write / dd-seq-read: O_DIRECT sequential write then read of the test
#                   target (see "Test target" below)
#   cpu_loop        sh-arith-loop (busybox sh arithmetic loop), bzip2-compress (bzip2 -9 of zeroes)
#   numa_nodes      numa-nodes: the NUMA nodes the guest sees (/sys/devices/system/node)
#   fio_seqio       fio-seq-write / fio-seq-read: fio sequential 1 MiB write then read of the test
#                   target (STANDIN_FIO_MB MiB, psync, --output-format=json); direct=1, rerun with
#                   direct=0 (and a "standin: ... failed" note first) when fio fails with O_DIRECT
#   sysbench_cpu    sysbench-cpu: sysbench cpu --cpu-max-prime=2000, one thread per CPU
#   sysbench_memory sysbench-memory: sysbench memory (1 KiB blocks, up to 1 GiB), one thread per CPU
# Entries starting with "_" (_reboot_off, _monitor_*...) are QASET specials: accepted, nothing run.
# Test target: SQ_ABUILD_PARTITION (default /dev/vdb1) once it is a block device (waited for up to
# ~3 s); else, for a partition node (/dev/vdb1, /dev/nvme0n1p1), its whole disk when that is one;
# else a file under /var/tmp (standin-dd.img, standin-fio.img). Chosen once per case.
# fio and sysbench: the base image carries them with every shared library they need, loader
# included, under <base disk>/opt/bench/{bin,lib} (test/kvm-guest/base-image.ts); the guest has no
# libc, so they run as <lib>/ld-linux-x86-64.so.2 --library-path <lib> <bin>/PROG (bench()). The
# base disk is found from this script's location (<base disk>/qaset-standin/run.sh; /mnt in the
# test guest). Without /opt/bench, PROG from PATH is run.
# Inputs:  /root/qaset/list   (SQ_TEST_RUN_LIST=( a b c ), may span lines)
#          /root/qaset/config (KEY=value: _QASET_RUNID, SQ_ABUILD_PARTITION, STANDIN_DD_MB,
#                              STANDIN_LOOP_N, STANDIN_FIO_MB, STANDIN_SYSBENCH_TIME)
# Outputs: /var/log/qaset/control/{NEXT_RUN "<1-based index> <name>", RUN_ID, DONE}
#          /var/log/qaset/runs/<case>-%m%dT%H%M.screenlog
#          /var/log/qaset/log/<case>[-ACAP2-<RUNID>]-%Y%m%dT%H%M%S.tar.bz2 of
#              ctcs2/<tcf>-%Y-%m-%d-%H-%M-%S/{test_results, done, cmdline.txt, meminfo.txt, <test>...}
#          test_results: pairs of lines: "<test>" then "fail succeed count time interr skipped".
# Elapsed times come from /proc/uptime (centisecond resolution).

QASET=/var/log/qaset
CTL=$QASET/control
CTCS2=/var/log/qa/ctcs2
mkdir -p "$CTL" "$QASET/runs" "$QASET/log" "$CTCS2" || exit 1

conf() { # conf KEY [default]: last KEY=value of the config, quotes removed
  v=$(sed -n "s/^[[:space:]]*$1=[\"']\{0,1\}\([^\"']*\)[\"']\{0,1\}[[:space:]]*\$/\1/p" /root/qaset/config 2>/dev/null | tail -n 1)
  [ -n "$v" ] && printf '%s\n' "$v" || printf '%s\n' "$2"
}
now() { cut -d' ' -f1 /proc/uptime; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.2f", b - a }'; }

RUNID=$(conf _QASET_RUNID "")
ABUILD=$(conf SQ_ABUILD_PARTITION /dev/vdb1)
DD_MB=$(conf STANDIN_DD_MB 32)
LOOP_N=$(conf STANDIN_LOOP_N 100000)
FIO_MB=$(conf STANDIN_FIO_MB 16)
SB_TIME=$(conf STANDIN_SYSBENCH_TIME 3)
HERE=$(cd "$(dirname "$0")" && pwd)
BENCH=${HERE%/*}/opt/bench
echo "SQ_TEST_RUN_ID=${RUNID:-$(date +%Y%m%d)}" > "$CTL/RUN_ID"
rm -f "$CTL/DONE"

# run_test DIR NAME CMD...: runs CMD, output to DIR/NAME (and the screen), appends to test_results
run_test() {
  local d n t0 t1 rc el counts
  d=$1; n=$2; shift 2
  t0=$(now)
  "$@" > "$d/$n" 2>&1
  rc=$?
  t1=$(now)
  cat "$d/$n"
  el=$(elapsed "$t0" "$t1")
  if [ "$rc" -eq 0 ]; then counts="0 1 1 $el 0 0"; else counts="1 0 1 $el 0 0"; fi
  printf '%s\n%s\n' "$n" "$counts" >> "$d/test_results"
  echo "standin: $n rc=$rc time=${el}s"
}

# pick_target: sets TARGET (a block device, or "" for "use a file") once per shell; cases run in a
# pipeline subshell, so at most once per case
TARGET_PICKED=""
TARGET=""
pick_target() {
  local i disk
  [ -n "$TARGET_PICKED" ] && return 0
  TARGET_PICKED=1
  i=0
  while [ ! -b "$ABUILD" ] && [ $i -lt 30 ]; do sleep 0.1; i=$((i + 1)); done
  if [ -b "$ABUILD" ]; then TARGET=$ABUILD; return 0; fi
  case "$ABUILD" in
    /dev/*[0-9]p[0-9]*) disk=${ABUILD%p*} ;;
    /dev/*[a-z][0-9]*) disk=$(printf '%s\n' "$ABUILD" | sed 's/[0-9]*$//') ;;
    *) disk="" ;;
  esac
  if [ -n "$disk" ] && [ -b "$disk" ]; then
    echo "standin: $ABUILD is no block device; using the whole disk $disk" >&2
    TARGET=$disk
  else
    echo "standin: $ABUILD is no block device; using a file under /var/tmp" >&2
  fi
}
# target_or FILE: sets tgt to the test target, FILE under /var/tmp when there is no block device
target_or() {
  pick_target
  if [ -n "$TARGET" ]; then tgt=$TARGET; else mkdir -p /var/tmp; tgt=/var/tmp/$1; fi
}
# busybox dd here prints no rate line: the stand-in times dd itself (/proc/uptime) and prints the rate
dd_timed() { # dd_timed ARGS...: runs dd, then "dd: <bytes> bytes in <s> s, <rate> MB/s"
  local a b rc
  a=$(now); dd "$@"; rc=$?; b=$(now)
  awk -v n=$((DD_MB * 1048576)) -v a="$a" -v b="$b" 'BEGIN { t = b - a; if (t <= 0) t = 0.01; printf "dd: %d bytes in %.2f s, %.1f MB/s\n", n, t, n / 1048576 / t }'
  return $rc
}
t_dd_write() { target_or standin-dd.img; echo "target: $tgt"; dd_timed if=/dev/zero of="$tgt" bs=1M count="$DD_MB" oflag=direct; }
t_dd_read() { target_or standin-dd.img; echo "target: $tgt"; dd_timed if="$tgt" of=/dev/null bs=1M count="$DD_MB" iflag=direct; }
t_loop() { echo "iterations: $LOOP_N"; time sh -c 'i=0; while [ $i -lt '"$LOOP_N"' ]; do i=$((i + 1)); done; echo "counted: $i"'; }
t_bzip2() { echo "input: 16 MiB of zeroes"; time sh -c 'dd if=/dev/zero bs=1M count=16 2>/dev/null | bzip2 -9 | wc -c'; }
t_numa() {
  local nodes node
  nodes=0
  for node in /sys/devices/system/node/node[0-9]*; do
    [ -d "$node" ] || continue
    nodes=$((nodes + 1))
    echo "$(basename "$node") cpus=$(cat "$node/cpulist") $(grep MemTotal "$node/meminfo" | awk '{print $3 "=" $4 $5}')"
  done
  echo "nodes: $nodes"
  echo "cpus: $(grep -c ^processor /proc/cpuinfo)"
  [ "$nodes" -ge 1 ]
}

# bench PROG ARGS...: PROG from the base image's /opt/bench through the loader shipped with its
# libraries (the guest has no libc); PROG from PATH when the base image has none
bench() {
  local p
  p=$1; shift
  if [ -f "$BENCH/bin/$p" ] && [ -x "$BENCH/lib/ld-linux-x86-64.so.2" ]; then
    "$BENCH/lib/ld-linux-x86-64.so.2" --library-path "$BENCH/lib" "$BENCH/bin/$p" "$@"
  else
    "$p" "$@"
  fi
}
ncpu() { nproc 2>/dev/null || grep -c ^processor /proc/cpuinfo; }
# fio_seq RW: one sequential fio job on the test target; JSON report on stdout
fio_seq() {
  local rw out rc
  rw=$1
  target_or standin-fio.img
  echo "target: $tgt"
  out=$(bench fio --name="seq-$rw" --filename="$tgt" --rw="$rw" --bs=1M --size="${FIO_MB}M" \
    --ioengine=psync --direct=1 --output-format=json 2>&1)
  rc=$?
  if [ "$rc" -ne 0 ]; then
    printf '%s\n' "$out" | grep -v '^[[:space:]]*[]{}"[]' | head -n 5 | sed "s/^/standin: fio direct=1 failed (rc=$rc): /"
    out=$(bench fio --name="seq-$rw" --filename="$tgt" --rw="$rw" --bs=1M --size="${FIO_MB}M" \
      --ioengine=psync --direct=0 --end_fsync=1 --output-format=json 2>&1)
    rc=$?
  fi
  printf '%s\n' "$out"
  return "$rc"
}
t_fio_write() { fio_seq write; }
t_fio_read() { fio_seq read; }
t_sysbench_cpu() { bench sysbench cpu --cpu-max-prime=2000 --time="$SB_TIME" --threads="$(ncpu)" run; }
t_sysbench_memory() {
  bench sysbench memory --memory-block-size=1K --memory-total-size=1G --time="$SB_TIME" --threads="$(ncpu)" run
}

case_dd_seqio() { run_test "$1" dd-seq-write t_dd_write; run_test "$1" dd-seq-read t_dd_read; }
case_cpu_loop() { run_test "$1" sh-arith-loop t_loop; run_test "$1" bzip2-compress t_bzip2; }
case_numa_nodes() { run_test "$1" numa-nodes t_numa; }
case_fio_seqio() { run_test "$1" fio-seq-write t_fio_write; run_test "$1" fio-seq-read t_fio_read; }
case_sysbench_cpu() { run_test "$1" sysbench-cpu t_sysbench_cpu; }
case_sysbench_memory() { run_test "$1" sysbench-memory t_sysbench_memory; }

run_case() { # run_case NAME TCFDIR
  case "$1" in
    dd_seqio|cpu_loop|numa_nodes|fio_seqio|sysbench_cpu|sysbench_memory) "case_$1" "$2" ;;
    *) echo "standin: unknown test $1 (not in the stand-in's set)"; printf '%s\n%s\n' "$1" "0 0 1 0 1 0" >> "$2/test_results" ;;
  esac
}

LIST=$(tr '\n' ' ' < /root/qaset/list | sed -n 's/.*SQ_TEST_RUN_LIST=([[:space:]]*\([^)]*\)).*/\1/p')
echo "standin: run list: $LIST"
idx=0
for c in $LIST; do
  idx=$((idx + 1))
  echo "$idx $c" > "$CTL/NEXT_RUN"
  case "$c" in
    _*) echo "standin: special entry $c: nothing to run in the stand-in"; continue ;;
    *[!A-Za-z0-9_.-]*) echo "standin: refusing odd test name $c"; continue ;;
  esac
  tcf="qa_standin_$c-$(date +%Y-%m-%d-%H-%M-%S)"
  mkdir -p "$CTCS2/$tcf"
  screen="$QASET/runs/$c-$(date +%m%dT%H%M).screenlog"
  {
    echo "standin: [$idx] $c -> $CTCS2/$tcf"
    cat /proc/cmdline > "$CTCS2/$tcf/cmdline.txt"
    cat /proc/meminfo > "$CTCS2/$tcf/meminfo.txt"
    run_case "$c" "$CTCS2/$tcf"
    date -u > "$CTCS2/$tcf/done"
  } 2>&1 | tee "$screen"
  tarname="$c${RUNID:+-ACAP2-$RUNID}-$(date +%Y%m%dT%H%M%S).tar.bz2"
  (cd /var/log/qa && tar -cjf "$QASET/log/$tarname" "ctcs2/$tcf") && rm -rf "${CTCS2:?}/$tcf"
  sync
done
date +%Y-%m-%d-%H-%M-%S > "$CTL/DONE"
sync
echo "standin: done"
