# shellcheck shell=bash
# Traffic for the midolman scenario: a table of generators keyed by name, and the measured
# step (send a burst at a rate; count what left the source and what reached the destination,
# each on its own capture; one-way latency per probe from the two captures' timestamps).
# Sourced, never executed; needs lib/midolman-common.sh, lib/traffic-pcap.sh and the generators.

# Generator table: name -> function prefix. A generator provides PREFIX_available (prints why it
# cannot run, or nothing) and PREFIX_send RATE COUNT OUTDIR (sends COUNT TCP SYNs from
# $MM_SRC_NS to $TOPOLOGY_DEST_HOST:1..COUNT, source port $MM_SPORT, at RATE per second; may
# leave its own report as JSON in OUTDIR/generator.json). The process that sends runs through
# traffic_generator_run, so its PID is recorded for the length of the step and a generator that
# dies (killed, crashed) fails the step instead of yielding one.
declare -A TRAFFIC_GENERATORS=([nmap]=traffic_nmap [pktgen]=traffic_pktgen [trafgen]=traffic_trafgen)

# trafgen's functions (lib/traffic-trafgen.sh), for helpers that source the other generators'
# files themselves but not this one yet.
if ! declare -F traffic_trafgen_send >/dev/null; then
  # shellcheck source-path=SCRIPTDIR source=traffic-trafgen.sh
  . "${BASH_SOURCE[0]%/*}/traffic-trafgen.sh"
fi

# The datapath's per-step reading (lib/midolman-datapath.sh), for helpers that do not source it.
if ! declare -F mm_datapath_step >/dev/null; then
  # shellcheck source-path=SCRIPTDIR source=midolman-datapath.sh
  . "${BASH_SOURCE[0]%/*}/midolman-datapath.sh"
fi

# traffic_generator : print the function prefix of MIDOLMAN_GENERATOR (default nmap).
traffic_generator() {
  local name=${MIDOLMAN_GENERATOR:-nmap}
  [[ -n ${TRAFFIC_GENERATORS[$name]:-} ]] || orch_die "unknown traffic generator '$name' (known: ${!TRAFFIC_GENERATORS[*]})"
  printf '%s' "${TRAFFIC_GENERATORS[$name]}"
}

# traffic_check : fail when the chosen generator or the capture tools cannot run here.
traffic_check() {
  local gen why
  gen=$(traffic_generator)
  why=$("${gen}_available")
  [[ -z $why ]] || orch_die "traffic generator '${MIDOLMAN_GENERATOR:-nmap}' cannot run: $why"
  orch_require_cmd tcpdump od awk sort
}

# traffic_bg NAME CMD... : start CMD in the background (this phase's process group) and record
# it so that the teardown phase can stop it even if this phase is killed.
traffic_bg() {
  local name=$1 start
  shift
  "$@" &
  orch_start_time "$!"
  start=${REPLY:-0}
  printf '%s %s\n' "$!" "$start" >"$MM_STATE/pids/$name"
}

# traffic_generator_run LOG CMD... : run the generator's sending process CMD (stdout and stderr
# to LOG) in a process group of its own, recorded as "PID STARTTIME" in $MM_STATE/pids/generator
# while it runs (teardown stops the group from there if this phase is killed; a generator that
# forks, as trafgen does, is stopped whole). Returns CMD's exit status; a CMD ended by a signal
# fails the phase here: its step would be bogus (a partial burst), and what is left of its group
# is killed first.
traffic_generator_run() {
  local log=$1 pid start rc=0 signal tail
  shift
  # setsid execs CMD (a background job is no group leader): the PID is CMD's and leads the group.
  setsid "$@" </dev/null >"$log" 2>&1 &
  pid=$!
  orch_start_time "$pid"
  start=${REPLY:-0}
  printf '%s %s\n' "$pid" "$start" >"$MM_STATE/pids/generator"
  wait "$pid" || rc=$?
  # Children the generator left behind (its leader was killed, or it exited without them).
  kill -KILL -- "-$pid" 2>/dev/null || true
  rm -f -- "$MM_STATE/pids/generator"
  if ((rc > 128)); then
    signal=$(kill -l "$((rc - 128))" 2>/dev/null) || signal=$((rc - 128))
    tail=$(tail -n 2 -- "$log" 2>/dev/null | paste -sd ' ')
    orch_die "traffic generator '${MIDOLMAN_GENERATOR:-nmap}' (pid $pid) was killed by SIG$signal mid-burst: the step is not recorded${tail:+ (its last output: $tail)}"
  fi
  return "$rc"
}

# traffic_counter NS IF STAT : an interface counter read inside a namespace.
traffic_counter() {
  ip netns exec "$1" cat "/sys/class/net/$2/statistics/$3" 2>/dev/null || printf 'null'
}

# traffic_capture_start NAME NS IF DIRECTION FILE : tcpdump of this job's probes (SYN without
# ACK from the fixed source port), nanosecond timestamps, written per packet. Does not wait:
# traffic_capture_wait FILE... does (both captures of a step start side by side).
traffic_capture_start() {
  local name=$1 ns=$2 dev=$3 direction=$4 file=$5
  traffic_bg "$name" ip netns exec "$ns" tcpdump -i "$dev" -Q "$direction" -n -s 96 -B 8192 -U --immediate-mode \
    --time-stamp-precision=nano -w "$file" \
    "tcp and src port $MM_SPORT and tcp[tcpflags] & (tcp-syn|tcp-ack) == tcp-syn" 2>"$file.log"
}

# traffic_capture_wait FILE... : wait until the captures writing FILEs listen (5 s at most).
traffic_capture_wait() {
  local file i
  for file in "$@"; do
    for ((i = 0; i < 250; i++)); do
      grep -q 'listening on' "$file.log" 2>/dev/null && continue 2
      sleep 0.02
    done
    orch_die "capture $file did not start: $(cat "$file.log")"
  done
}

# traffic_capture_stop NAME... : stop captures (SIGINT: tcpdump flushes and closes the file),
# all at once; KILL after 5 s.
traffic_capture_stop() {
  local name pid i left
  for name in "$@"; do
    if pid=$(mm_proc_pid "$name"); then kill -INT "$pid" 2>/dev/null || true; fi
  done
  for ((i = 0; i < 250; i++)); do
    left=false
    for name in "$@"; do
      mm_proc_pid "$name" >/dev/null && left=true
    done
    [[ $left == true ]] || break
    sleep 0.02
  done
  for name in "$@"; do
    mm_proc_stop "$name" KILL 1
  done
}

# traffic_drain : wait for probes still queued on the way (qdiscs, the agent) to reach the
# destination: until the destination binding's transmit counter holds still for 60 ms
# (0.1 s at least, 2 s at most).
traffic_drain() {
  local file=/sys/class/net/$TOPOLOGY_DEST_BINDING/statistics/tx_packets prev='' now i still=0
  sleep 0.1
  if [[ ! -r $file ]]; then
    # The bindings live in another namespace (a private switch's): the destination's own
    # receive counter, read there, holds still when nothing more arrives.
    file=/sys/class/net/$MM_DST_IF/statistics/rx_packets
    ip netns exec "$MM_DST_NS" test -r "$file" || { sleep 0.2; return 0; }
  fi
  for ((i = 0; i < 100; i++)); do
    if [[ -r $file ]]; then now=$(<"$file"); else now=$(ip netns exec "$MM_DST_NS" cat "$file"); fi
    if [[ $now == "$prev" ]]; then
      still=$((still + 1))
      ((still >= 3)) && return 0
    else
      still=0
    fi
    prev=$now
    sleep 0.02
  done
}

# traffic_datapath_read : the topology's datapath counters now (lib/midolman-datapath.sh), or
# nothing when the topology has no datapath it can read.
traffic_datapath_read() {
  if declare -F mm_datapath_available >/dev/null && mm_datapath_available; then
    topology_datapath_json 2>/dev/null || true
  fi
  return 0
}

# traffic_step PHASE INDEX RATE COUNT : one measured burst. Appends a JSON line to
# $ORCH_ARTIFACTS/steps.jsonl and leaves it in TRAFFIC_LAST_STEP; TRAFFIC_LAST_LOSS is the loss
# fraction (delivered vs sent); TRAFFIC_LAST_{DELIVERED_PPS,ACHIEVED_PPS,T0,T1,LATENCY} the rest of
# what a repetition is judged on. With TRAFFIC_REPETITION set (lib/traffic-repeat.sh), the line
# says which repetition of its step it is.
traffic_step() {
  local phase=$1 index=$2 rate=$3 count=$4 gen dir t0 t1 tx0 rx0 tx1 rx1 summary latency generator_json
  local -a repetition=()
  gen=$(traffic_generator)
  dir=$MM_STATE/steps/$phase-$index${TRAFFIC_REPETITION:+-r$TRAFFIC_REPETITION}
  [[ -z ${TRAFFIC_REPETITION:-} ]] || repetition=(repetition n "$TRAFFIC_REPETITION")
  mkdir -p -- "$dir"
  tx0=$(traffic_counter "$MM_SRC_NS" "$MM_SRC_IF" tx_packets)
  rx0=$(traffic_counter "$MM_DST_NS" "$MM_DST_IF" rx_packets)
  traffic_capture_start capture-src "$MM_SRC_NS" "$MM_SRC_IF" out "$dir/src.pcap"
  traffic_capture_start capture-dst "$MM_DST_NS" "$MM_DST_IF" in "$dir/dst.pcap"
  traffic_capture_wait "$dir/src.pcap" "$dir/dst.pcap"
  # A topology that can empty its datapath does so: every probe of the burst is a new flow.
  if declare -F topology_datapath_reset >/dev/null; then
    topology_datapath_reset || orch_warn "the topology could not empty its datapath's flow table"
  fi
  dp0=$(traffic_datapath_read)
  t0=$(mm_now)
  "${gen}_send" "$rate" "$count" "$dir"
  t1=$(mm_now)
  # Probes still in flight (queues) reach the destination capture.
  traffic_drain
  dp1=$(traffic_datapath_read)
  traffic_capture_stop capture-src capture-dst
  tx1=$(traffic_counter "$MM_SRC_NS" "$MM_SRC_IF" tx_packets)
  rx1=$(traffic_counter "$MM_DST_NS" "$MM_DST_IF" rx_packets)
  # The two captures are read side by side (od | awk: CPU-bound, one core each).
  traffic_pcap_syns "$dir/src.pcap" "$MM_SPORT" >"$dir/src.syns" &
  local parse=$!
  traffic_pcap_syns "$dir/dst.pcap" "$MM_SPORT" >"$dir/dst.syns"
  wait "$parse" || orch_die "reading $dir/src.pcap failed"
  latency=$(traffic_latency_stats "$dir/src.syns" "$dir/dst.syns")
  generator_json=$(cat "$dir/generator.json" 2>/dev/null || printf 'null')
  # Counts and rates from the captures: sent = distinct probes that left the source,
  # delivered = distinct probes that reached the destination; the send window is first to
  # last probe on the source side.
  summary=$(awk 'NR == FNR { if (!($1 in s)) { s[$1] = 1; sent++ }
                             t = $2 + $3 / 1e9; if (first == "" || t < first) first = t; if (t > last) last = t; next }
                 ($1 in s) && !($1 in d) { d[$1] = 1; delivered++ }
                 END {
                   dur = (sent > 1) ? last - first : 0
                   printf "%d %d %.9f %.3f %.3f %.6f", sent, delivered, dur,
                     (dur > 0) ? (sent - 1) / dur : 0, (dur > 0) ? delivered / dur * (sent - 1) / sent : 0,
                     (sent > 0) ? 1 - delivered / sent : 0
                 }' "$dir/src.syns" "$dir/dst.syns")
  local sent delivered duration achieved delivered_pps loss
  read -r sent delivered duration achieved delivered_pps loss <<<"$summary"
  TRAFFIC_LAST_LOSS=$loss
  # shellcheck disable=SC2034 # read by lib/traffic-repeat.sh
  TRAFFIC_LAST_DELIVERED_PPS=$delivered_pps TRAFFIC_LAST_ACHIEVED_PPS=$achieved
  # shellcheck disable=SC2034 # read by lib/traffic-repeat.sh
  TRAFFIC_LAST_T0=$t0 TRAFFIC_LAST_T1=$t1 TRAFFIC_LAST_LATENCY=$latency
  TRAFFIC_LAST_STEP=$(orch_json_object \
    phase s "$phase" index n "$index" "${repetition[@]}" generator s "${MIDOLMAN_GENERATOR:-nmap}" mode s "${TRAFFIC_MODE:-linear}" \
    t_start n "$t0" t_end n "$t1" \
    offered_pps n "$rate" probes n "$count" sent n "$sent" delivered n "$delivered" \
    send_duration_s n "$duration" achieved_pps n "$achieved" delivered_pps n "$delivered_pps" loss n "$loss" \
    latency_ns j "$latency" \
    link j "$(orch_json_object src_tx_packets n "$((tx1 - tx0))" dst_rx_packets n "$((rx1 - rx0))")" \
    generator_report j "$generator_json" \
    datapath j "$(mm_datapath_step "$dp0" "$dp1" "$duration")")
  printf '%s\n' "$TRAFFIC_LAST_STEP" >>"$ORCH_ARTIFACTS/steps.jsonl"
  # The captures are large and fully summarized above.
  rm -f -- "$dir"/*.pcap
}

# traffic_ndr LOW HIGH RESOLUTION MAX_LOSS BURST : RFC 2544-style binary search for the highest
# rate whose loss is at most MAX_LOSS (a fraction); writes $ORCH_ARTIFACTS/ndr.json. With
# repetitions, a trial's loss is the mean over its bursts and best_step its last burst.
traffic_ndr() {
  local low=$1 high=$2 resolution=$3 max_loss=$4 burst=$5 trial=0 mid best=0 best_step=null ok
  TRAFFIC_MODE=ndr
  ndr_try() {
    trial=$((trial + 1))
    orch_progress "NDR trial $trial at $1 pps" "$(awk -v t="$trial" 'BEGIN { printf "%.2f", t / (t + 4) }')"
    # the bisections still to come, at most (each keeps time for one burst; lib/traffic-repeat.sh)
    # shellcheck disable=SC2034 # read by lib/traffic-repeat.sh
    TRAFFIC_REPEAT_STEPS_LEFT=$(awk -v h="$high" -v l="$low" -v r="$resolution" 'BEGIN { n = 0; while (h - l > r && n < 64) { h = (h + l) / 2; n++ } print n }')
    traffic_repeat_step throughput "$trial" "$1" "$burst"
    awk -v l="$TRAFFIC_LAST_LOSS" -v m="$max_loss" 'BEGIN { exit !(l <= m) }'
  }
  if ndr_try "$high"; then
    best=$high best_step=$TRAFFIC_LAST_STEP
  else
    if ndr_try "$low"; then
      best=$low best_step=$TRAFFIC_LAST_STEP
      while ((high - low > resolution)); do
        mid=$(((low + high) / 2))
        if ndr_try "$mid"; then ok=true; else ok=false; fi
        if [[ $ok == true ]]; then
          low=$mid best=$mid best_step=$TRAFFIC_LAST_STEP
        else
          high=$mid
        fi
      done
    fi
  fi
  orch_json_object mode s ndr loss_threshold n "$max_loss" resolution_pps n "$resolution" trials n "$trial" \
    ndr_pps n "$best" found b "$([[ $best_step != null ]] && echo true || echo false)" best_step j "$best_step" |
    orch_atomic_write "$ORCH_ARTIFACTS/ndr.json"
}
