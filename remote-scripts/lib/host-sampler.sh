# shellcheck shell=bash
# The host sampler shared by the scenarios: the whole host's CPU, memory, disk and network
# throughput and load, as collector JSON lines (lib/rrd.sh's format: a {"kind":"types",..} line,
# then one {"kind":"sample","t":..,"values":{..}} line per interval), started detached for a test
# (or per matrix point) and turned into RRD files + JSON exports at stop. Sourced, never
# executed; needs lib/common.sh, lib/json.sh, lib/events.sh and lib/rrd.sh.
#
# Series (collector "host" under the TSV root; type as the RRD data source):
#   host.cpu_busy_percent     GAUGE    all CPUs, from /proc/stat deltas: (user+nice+system+irq+
#                                      softirq+steal) / (the same + idle+iowait), 0..100; not in
#                                      the first sample (no delta yet)
#   host.mem_available_bytes  GAUGE    MemAvailable of /proc/meminfo
#   host.mem_used_bytes       GAUGE    MemTotal - MemAvailable
#   host.disk.read_bytes      COUNTER  sectors read * 512 (diskstats sectors are always 512 B)
#   host.disk.write_bytes     COUNTER  sectors written * 512
#   host.net.rx_bytes         COUNTER  /sys/class/net/*/statistics/rx_bytes
#   host.net.tx_bytes         COUNTER  /sys/class/net/*/statistics/tx_bytes
#   host.load1                GAUGE    first field of /proc/loadavg
#
# Disks: the whole devices of /proc/diskstats, i.e. every device except partitions (those with
# /sys/class/block/NAME/partition), ram* and zram* (memory, not disks) and sr* (optical).
# Loop and device-mapper devices ARE counted: the kvm scenario's test devices may be either,
# and their I/O must show. The price: I/O through a stacked device is counted twice (a dm volume
# and the disk under it; a loop device and the disk holding its backing file). HS_DISKS="sda vdb"
# (kernel names or /dev paths, resolved once at start; partitions allowed) counts only those.
# Interfaces: every /sys/class/net/* except lo; bridges, veths and taps included, so bridged
# traffic counts once per hop. HS_NET_IFACES="eth0 ..." counts only those.
# The summed counters stay monotonic (a device coming or going must not look like a counter
# wrap to rrdtool): each sample adds every device's increase since the previous sample; a device
# first seen mid-run adds nothing that time, a counter that went back (device re-created) adds
# its new value.

# hs_cpu_jiffies : "busy total" of the host (all CPUs).
hs_cpu_jiffies() {
  local _l user nice system idle iowait irq softirq steal _rest
  read -r _l user nice system idle iowait irq softirq steal _rest </proc/stat
  printf '%s %s' "$((user + nice + system + irq + softirq + steal))" "$((user + nice + system + idle + iowait + irq + softirq + steal))"
}

# hs_proc_stat PID N... : print fields N... of /proc/PID/stat counted after the command name
# (1 = state, 12/13 = utime/stime, 20 = start time), space-separated; fails when PID is gone.
hs_proc_stat() {
  local stat i out=''
  stat=$(cat "/proc/$1/stat" 2>/dev/null) || return 1
  shift
  local -a fields
  read -r -a fields <<<"${stat##*) }"
  for i in "$@"; do
    out+=" ${fields[i - 1]:-}"
  done
  printf '%s' "${out# }"
}

# hs_proc_alive PID START : true when PID still runs (not a zombie) with start time START. No fork
# (lib/common.sh orch_start_time): hs_stop polls it every 0.1 s.
hs_proc_alive() {
  orch_start_time "$1"
  [[ -n $REPLY && $REPLY == "$2" ]]
}

# hs_pid STATE_DIR : print the PID of the sampler recorded in STATE_DIR while it still runs.
hs_pid() {
  local pid start
  [[ -r $1/host-sampler.pid ]] || return 1
  read -r pid start <"$1/host-sampler.pid" || return 1
  hs_proc_alive "$pid" "$start" || return 1
  printf '%s' "$pid"
}

# hs_mem : print "TOTAL AVAILABLE" memory of the host in bytes (AVAILABLE empty when unknown).
hs_mem() {
  local key value _unit total='' avail=''
  while read -r key value _unit; do
    case $key in
      MemTotal:) total=$((value * 1024)) ;;
      MemAvailable:) avail=$((value * 1024)) ;;
    esac
  done </proc/meminfo
  printf '%s %s' "$total" "$avail"
}

# hs_disk_names DEVICE... : print the kernel name of each device (sda, /dev/sda, /dev/mapper/x).
hs_disk_names() {
  local dev path
  for dev in "$@"; do
    path=$dev
    [[ $path == /* ]] || path=/dev/$path
    if [[ -e $path ]]; then
      path=$(readlink -f -- "$path")
      printf '%s\n' "${path##*/}"
    else
      printf '%s\n' "${dev##*/}"
    fi
  done
}

# hs_disk_stats [NAME...] : print "NAME SECTORS_READ SECTORS_WRITTEN" of the sampled disks: the
# named ones, or by default every whole device but ram*, zram* and sr* (see the header).
hs_disk_stats() {
  local _major _minor name _rios _rmerges rsec _rticks _wios _wmerges wsec _rest
  local -A want=()
  for name in "$@"; do want[$name]=1; done
  while read -r _major _minor name _rios _rmerges rsec _rticks _wios _wmerges wsec _rest; do
    if ((${#want[@]} > 0)); then
      [[ -n ${want[$name]:-} ]] || continue
    else
      case $name in ram[0-9]* | zram[0-9]* | sr[0-9]*) continue ;; esac
      [[ -e /sys/class/block/${name//\//!}/partition ]] && continue
    fi
    printf '%s %s %s\n' "$name" "$rsec" "$wsec"
  done </proc/diskstats
}

# hs_net_stats [IFACE...] : print "NAME RX_BYTES TX_BYTES" of the sampled interfaces: the named
# ones, or by default every interface but lo.
hs_net_stats() {
  local dir name rx tx
  local -A want=()
  for name in "$@"; do want[$name]=1; done
  for dir in /sys/class/net/*; do
    name=${dir##*/}
    if ((${#want[@]} > 0)); then
      [[ -n ${want[$name]:-} ]] || continue
    else
      [[ $name != lo ]] || continue
    fi
    read -r rx 2>/dev/null <"$dir/statistics/rx_bytes" || continue
    read -r tx 2>/dev/null <"$dir/statistics/tx_bytes" || continue
    printf '%s %s %s\n' "$name" "$rx" "$tx"
  done
}

# hs_counter_add SERIES DEVICE VALUE : add DEVICE's increase since the previous call to
# HS_TOTAL[SERIES] (kept monotonic as the header says; HS_FIRST=1 takes values as they are).
hs_counter_add() {
  local key=$1/$2 value=$3 prev
  [[ $value =~ ^[0-9]+$ ]] || return 0
  prev=${HS_PREV[$key]:-}
  HS_PREV[$key]=$value
  if [[ -z $prev ]]; then
    ((HS_FIRST == 1)) || value=0
  elif ((value >= prev)); then
    value=$((value - prev))
  fi
  HS_TOTAL[$1]=$((${HS_TOTAL[$1]:-0} + value))
}

# hs_counters_update : read every disk and interface counter into HS_TOTAL (hs_counter_add).
hs_counters_update() {
  local name a b
  while read -r name a b; do
    hs_counter_add disk.read "$name" "$((a * 512))"
    hs_counter_add disk.write "$name" "$((b * 512))"
  done < <(hs_disk_stats "${HS_DISK_NAMES[@]}")
  # HS_NET_IFACES is a space-separated list on purpose
  # shellcheck disable=SC2086
  while read -r name a b; do
    hs_counter_add net.rx "$name" "$a"
    hs_counter_add net.tx "$name" "$b"
  done < <(hs_net_stats ${HS_NET_IFACES:-})
}

# hs_sample_line OUT [CPU_PERCENT] : append one sample line of every series to OUT.
hs_sample_line() {
  local out=$1 cpu=${2:-} t mem memtotal memavail load1 _rest values=''
  hs_counters_update
  mem=$(hs_mem)
  read -r memtotal memavail <<<"$mem"
  read -r load1 _rest </proc/loadavg
  orch_now
  t=$REPLY
  [[ -z $cpu ]] || values+=",\"host.cpu_busy_percent\":$cpu"
  if [[ -n $memavail ]]; then
    values+=",\"host.mem_available_bytes\":$memavail,\"host.mem_used_bytes\":$((memtotal - memavail))"
  fi
  values+=",\"host.disk.read_bytes\":${HS_TOTAL[disk.read]:-0},\"host.disk.write_bytes\":${HS_TOTAL[disk.write]:-0}"
  values+=",\"host.net.rx_bytes\":${HS_TOTAL[net.rx]:-0},\"host.net.tx_bytes\":${HS_TOTAL[net.tx]:-0}"
  values+=",\"host.load1\":$load1"
  printf '{"kind":"sample","t":%s,"values":{%s}}\n' "$t" "${values#,}" >>"$out"
}

# hs_sample OUT [INTERVAL] : append the types line, then one sample line at once and one every
# INTERVAL seconds (default 1; fractions allowed) to OUT, until TERM or INT.
hs_sample() {
  local out=$1 interval=${2:-1} busy0 total0 busy1 total1 jiffies pct t
  [[ $interval =~ ^([0-9]+(\.[0-9]*)?|\.[0-9]+)$ && $interval =~ [1-9] ]] || orch_die "hs_sample: INTERVAL must be a positive number of seconds, got '$interval'"
  declare -gA HS_PREV=() HS_TOTAL=()
  declare -ga HS_DISK_NAMES=()
  # HS_DISKS is a space-separated list on purpose
  # shellcheck disable=SC2086
  [[ -z ${HS_DISKS:-} ]] || mapfile -t HS_DISK_NAMES < <(hs_disk_names $HS_DISKS)
  HS_FIRST=1
  trap 'exit 0' TERM INT
  orch_now
  t=$REPLY
  printf '{"kind":"types","t":%s,"types":{"host.cpu_busy_percent":"GAUGE","host.mem_available_bytes":"GAUGE","host.mem_used_bytes":"GAUGE","host.disk.read_bytes":"COUNTER","host.disk.write_bytes":"COUNTER","host.net.rx_bytes":"COUNTER","host.net.tx_bytes":"COUNTER","host.load1":"GAUGE"}}\n' \
    "$t" >>"$out"
  jiffies=$(hs_cpu_jiffies)
  read -r busy0 total0 <<<"$jiffies"
  hs_sample_line "$out"
  HS_FIRST=0
  while :; do
    sleep "$interval" &
    wait $! || true
    jiffies=$(hs_cpu_jiffies)
    read -r busy1 total1 <<<"$jiffies"
    pct=''
    if ((total1 > total0)); then
      pct=$(((busy1 - busy0) * 10000 / (total1 - total0)))
      ((pct >= 0)) || pct=0
      ((pct <= 10000)) || pct=10000
      printf -v pct '%d.%02d' "$((pct / 100))" "$((pct % 100))"
    fi
    hs_sample_line "$out" "$pct"
    busy0=$busy1 total0=$total1
  done
}

# hs_start STATE_DIR OUT [INTERVAL] : start hs_sample OUT INTERVAL detached, in its own session,
# from the bundle's libs ($ORCH_BUNDLE/remote-scripts/lib); OUT starts afresh. Records
# "PID STARTTIME" in STATE_DIR/host-sampler.pid (log: STATE_DIR/host-sampler.log) and returns
# once the first sample is written (3 s at most).
hs_start() {
  local state=$1 out=$2 interval=${3:-1} lib pid start i
  : "${ORCH_BUNDLE:?ORCH_BUNDLE is not set (run through orchestrate-agent)}"
  lib=$ORCH_BUNDLE/remote-scripts/lib
  [[ -r $lib/host-sampler.sh ]] || orch_die "host sampler: $lib/host-sampler.sh is missing from the bundle"
  if pid=$(hs_pid "$state"); then
    orch_die "host sampler: already running (pid $pid, $state/host-sampler.pid); stop it first"
  fi
  mkdir -p -- "$state"
  [[ $out != */* ]] || mkdir -p -- "${out%/*}"
  : >"$out"
  # shellcheck disable=SC2016 # expanded by the sampler's own bash
  setsid bash -c 'set -euo pipefail; export LC_ALL=C; for f in common json events rrd host-sampler; do . "$1/$f.sh"; done; hs_sample "$2" "$3"' \
    host-sampler "$lib" "$out" "$interval" </dev/null >>"$state/host-sampler.log" 2>&1 3>&- &
  pid=$!
  start=$(hs_proc_stat "$pid" 20) || orch_die "host sampler ended at once: $(tail -n 5 "$state/host-sampler.log")"
  printf '%s %s\n' "$pid" "$start" | orch_atomic_write "$state/host-sampler.pid"
  for ((i = 0; i < 30; i++)); do
    grep -q '"kind":"sample"' "$out" && return 0
    hs_proc_alive "$pid" "$start" || orch_die "host sampler ended: $(tail -n 5 "$state/host-sampler.log")"
    sleep 0.1
  done
  orch_log_event warning "host sampler (pid $pid) wrote no sample within 3 s; it keeps running"
}

# hs_stop STATE_DIR OUT TSVROOT RRDDIR [PREFIX] : TERM the recorded sampler (its session; only
# while /proc/PID still shows the recorded start time), KILL it after 5 s, then OUT's series into
# TSVROOT/host/ and every series of TSVROOT into RRDDIR (rrd_build_dir, index paths PREFIX/<file>,
# default "rrd"). Safe to call twice, and when the sampler never started (an empty index).
hs_stop() {
  local state=$1 out=$2 tsvroot=$3 rrddir=$4 prefix=${5:-rrd} pid start i
  if [[ -r $state/host-sampler.pid ]] && read -r pid start <"$state/host-sampler.pid" && [[ $pid =~ ^[0-9]+$ ]]; then
    if hs_proc_alive "$pid" "$start"; then
      kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true
      for ((i = 0; i < 50; i++)); do
        hs_proc_alive "$pid" "$start" || break
        sleep 0.1
      done
      if hs_proc_alive "$pid" "$start"; then
        orch_log_event warning "host sampler (pid $pid) ignored TERM; killing it"
        kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
      fi
    fi
    # When this shell started the sampler it is our child: reap it (elsewhere its parent does).
    if [[ $(hs_proc_stat "$pid" 20) == "$start" ]]; then
      wait "$pid" 2>/dev/null || true
    fi
  fi
  rm -f -- "$state/host-sampler.pid"
  rm -rf -- "$tsvroot/host"
  [[ ! -s $out ]] || rrd_jsonl_to_tsv "$out" "$tsvroot/host"
  rrd_build_dir "$tsvroot" "$rrddir" "$prefix" || return 1
  orch_log_event info "host sampler: wrote $RRD_BUILD_COUNT RRD series"
}
