# shellcheck shell=bash
# Metric collectors of the midolman scenario, running on the host for the length of the test:
#  - jmx:  remote-scripts/jmx/JmxCollector.java reading the agent's MBeans over JMX every second
#  - proc: the agent's CPU and RSS from /proc/PID, the host's CPU and memory, and packet
#          counters of the topology's interfaces, every second.
# Both print JSON lines {"kind":"sample","t":..,"values":{..}} (and {"kind":"types",..}) into
# $ORCH_ARTIFACTS/collectors/; at stop every series becomes an RRD (lib/rrd.sh) plus its JSON
# export. Sourced, never executed; needs lib/midolman-common.sh, lib/rrd.sh and
# lib/host-sampler.sh (hs_cpu_jiffies, hs_proc_stat).

MM_COLLECTORS=(jmx proc datapath)

# mm_collectors_start : start the collectors (JMX only when MIDOLMAN_JMX_URL is set).
mm_collectors_start() {
  local dir=$ORCH_ARTIFACTS/collectors agent i classes
  mkdir -p -- "$dir"
  agent=$(mm_agent_pid) || agent=''
  if [[ -n ${MIDOLMAN_JMX_URL:-} ]]; then
    orch_require_cmd java
    local -a launch
    if classes=$(mm_jmx_classes); then
      launch=(-cp "$classes" JmxCollector)
    else
      orch_log_event warning "could not compile the JMX collector into the bundle ($classes): running it from source (slower start)"
      launch=("$ORCH_BUNDLE/remote-scripts/jmx/JmxCollector.java")
    fi
    mm_proc_start jmx "$dir/jmx.log" \
      bash -c 'out=$1; shift; exec java -Xmx64m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -Xshare:auto "$@" >>"$out"' _ \
      "$dir/jmx.jsonl" "${launch[@]}" --url "$MIDOLMAN_JMX_URL" --config "$MM_STATE/jmx-mbeans.conf" --interval-ms 1000
  else
    orch_log_event warning "no JMX URL (param jmx_url): agent MBeans are not collected"
  fi
  if [[ -z $agent ]]; then
    orch_log_event warning "agent process not found (agent.pid_file, agent.process_name, agent.main_class or the topology's): no agent CPU or RSS"
  fi
  mm_proc_start proc "$dir/proc.log" bash "$ORCH_BUNDLE/remote-scripts/midolman" _sample-proc "${agent:-0}" "$dir/proc.jsonl"
  # The topology's datapath (ovs_*: Open vSwitch's), when it has one it can read.
  if mm_datapath_available; then
    mm_proc_start datapath "$dir/datapath.log" bash "$ORCH_BUNDLE/remote-scripts/midolman" _sample-datapath "$dir/datapath.jsonl"
  fi
  # Wait for the first samples, so that warm-up and scans are covered from their first second.
  for ((i = 0; i < 300; i++)); do
    if [[ -s $dir/proc.jsonl ]] && { [[ -z ${MIDOLMAN_JMX_URL:-} ]] || grep -q '"kind":"\(sample\|error\)"' "$dir/jmx.jsonl" 2>/dev/null; }; then
      break
    fi
    mm_proc_pid jmx >/dev/null || [[ -z ${MIDOLMAN_JMX_URL:-} ]] || orch_die "the JMX collector ended at once: $(tail -n 5 "$dir/jmx.log")"
    sleep 0.1
  done
  if [[ -n ${MIDOLMAN_JMX_URL:-} ]] && grep -q '"kind":"error"' "$dir/jmx.jsonl" 2>/dev/null; then
    orch_log_event warning "JMX collector cannot connect yet to $MIDOLMAN_JMX_URL (it keeps retrying)"
  fi
  if grep -q '"kind":"missing","t":[0-9.]*,"items":\[{' "$dir/jmx.jsonl" 2>/dev/null; then
    orch_log_event warning "some configured MBeans are missing on the agent (see collectors/jmx.jsonl)"
  fi
  orch_json_object started_at n "$(mm_now)" agent_pid n "${agent:-null}" \
    agent_exe s "$([[ -n $agent ]] && readlink "/proc/$agent/exe" 2>/dev/null || true)" \
    datapath b "$(mm_datapath_available && echo true || echo false)" jmx_url s "${MIDOLMAN_JMX_URL:-}" \
    mbean_set s "${MIDOLMAN_MBEAN_SET:-midolman-1.x}" | orch_atomic_write "$ORCH_ARTIFACTS/collectors/collectors.json"
}

# mm_jmx_classes : print the directory of the compiled JMX collector: compiled once per bundle
# (the bundle directory is named by its content hash, so the classes can never be stale), into
# $ORCH_BUNDLE/.build/jmx-classes; concurrent jobs race harmlessly (compile aside, rename in).
# Prints the reason and fails when javac is missing or the compile fails.
mm_jmx_classes() {
  local src=$ORCH_BUNDLE/remote-scripts/jmx/JmxCollector.java out=$ORCH_BUNDLE/.build/jmx-classes tmp
  if [[ -r $out/JmxCollector.class ]]; then
    printf '%s' "$out"
    return 0
  fi
  orch_have_cmd javac || { printf 'javac is not installed'; return 1; }
  mkdir -p -- "${out%/*}"
  tmp=$(mktemp -d -- "$out.tmp.XXXXXX")
  if ! javac -nowarn -d "$tmp" "$src" >"$tmp.log" 2>&1; then
    printf 'javac failed: %s' "$(tail -n 3 "$tmp.log" | paste -sd ' ')"
    rm -rf -- "$tmp" "$tmp.log"
    return 1
  fi
  rm -f -- "$tmp.log"
  # Another job may have won the race: its classes are the same.
  mv -T -- "$tmp" "$out" 2>/dev/null || rm -rf -- "$tmp"
  [[ -r $out/JmxCollector.class ]] || { printf 'no JmxCollector.class in %s' "$out"; return 1; }
  printf '%s' "$out"
}

# mm_proc_agent_ticks PID : utime+stime of PID in clock ticks (nothing when gone).
mm_proc_agent_ticks() {
  local fields utime stime
  fields=$(hs_proc_stat "$1" 12 13) || return 1
  read -r utime stime <<<"$fields"
  printf '%s' "$((utime + stime))"
}

# mm_sample_proc AGENT_PID OUT : one JSON line a second until TERM.
mm_sample_proc() {
  local agent=$1 out=$2 hz busy0 total0 busy1 total1 ticks0='' ticks1 t values rss memavail dev stat
  hz=$(getconf CLK_TCK)
  trap 'exit 0' TERM INT
  printf '{"kind":"types","t":%s,"types":{"agent.cpu_percent":"GAUGE","agent.rss_bytes":"GAUGE","host.cpu_busy_percent":"GAUGE","host.mem_available_bytes":"GAUGE","if.src.tx_packets":"COUNTER","if.src.rx_packets":"COUNTER","if.dst.tx_packets":"COUNTER","if.dst.rx_packets":"COUNTER"}}\n' "$(mm_now)" >>"$out"
  read -r busy0 total0 <<<"$(hs_cpu_jiffies)"
  if ((agent > 0)); then ticks0=$(mm_proc_agent_ticks "$agent") || ticks0=''; fi
  local t0
  t0=$(mm_now)
  while :; do
    sleep 1 &
    wait $! || true
    t=$(mm_now)
    read -r busy1 total1 <<<"$(hs_cpu_jiffies)"
    values=''
    if ((total1 > total0)); then
      values+=$(awk -v b=$((busy1 - busy0)) -v tt=$((total1 - total0)) 'BEGIN { printf "\"host.cpu_busy_percent\":%.2f", b * 100 / tt }')
    fi
    memavail=$(awk '/^MemAvailable:/ { print $2 * 1024; exit }' /proc/meminfo)
    values+=",\"host.mem_available_bytes\":$memavail"
    if [[ -n $ticks0 ]] && ticks1=$(mm_proc_agent_ticks "$agent"); then
      rss=$(awk '/^VmRSS:/ { print $2 * 1024; exit }' "/proc/$agent/status" 2>/dev/null || echo 0)
      values+=$(awk -v d=$((ticks1 - ticks0)) -v hz="$hz" -v a="$t0" -v b="$t" -v rss="$rss" \
        'BEGIN { printf ",\"agent.cpu_percent\":%.2f,\"agent.rss_bytes\":%d", (b > a) ? d * 100 / hz / (b - a) : 0, rss }')
      ticks0=$ticks1
    fi
    for dev in src:"$TOPOLOGY_SOURCE_BINDING" dst:"$TOPOLOGY_DEST_BINDING"; do
      if [[ -e /sys/class/net/${dev#*:} ]]; then
        for stat in tx_packets rx_packets; do
          if [[ -r /sys/class/net/${dev#*:}/statistics/$stat ]]; then
            values+=",\"if.${dev%%:*}.$stat\":$(<"/sys/class/net/${dev#*:}/statistics/$stat")"
          fi
        done
      elif ((agent > 0)) && [[ -r /proc/$agent/net/dev ]]; then
        # The topology moved its bindings into the agent's namespace (a private switch): the
        # agent's view of /proc/net/dev has them (field 3: rx packets, field 11: tx packets).
        values+=$(awk -v d="${dev#*:}:" -v k="${dev%%:*}" '{ sub(/^[[:space:]]+/, "") } $1 == d { printf ",\"if.%s.rx_packets\":%s,\"if.%s.tx_packets\":%s", k, $3, k, $11 }' "/proc/$agent/net/dev")
      fi
    done
    printf '{"kind":"sample","t":%s,"values":{%s}}\n' "$t" "${values#,}" >>"$out"
    busy0=$busy1 total0=$total1 t0=$t
  done
}

# mm_collectors_stop : stop the collectors and turn their series into RRD files + JSON exports
# under $ORCH_ARTIFACTS/rrd/ (index.json lists them; lib/rrd.sh). Safe to run twice.
mm_collectors_stop() {
  local name tsvdir=$MM_STATE/series pid
  for name in "${MM_COLLECTORS[@]}"; do
    if pid=$(mm_proc_pid "$name"); then kill -TERM -- "-$pid" 2>/dev/null || kill -TERM "$pid" 2>/dev/null || true; fi
  done
  for name in "${MM_COLLECTORS[@]}"; do
    mm_proc_stop "$name" TERM 5
  done
  [[ -e $MM_STATE/rrd.done ]] && return 0
  orch_require_cmd rrdtool
  rm -rf -- "$tsvdir"
  for name in "${MM_COLLECTORS[@]}"; do
    [[ -s $ORCH_ARTIFACTS/collectors/$name.jsonl ]] || continue
    rrd_jsonl_to_tsv "$ORCH_ARTIFACTS/collectors/$name.jsonl" "$tsvdir/$name"
  done
  rrd_build_dir "$tsvdir" "$ORCH_ARTIFACTS/rrd" rrd || return 1
  : >"$MM_STATE/rrd.done"
  orch_log_event info "wrote $RRD_BUILD_COUNT RRD series"
}
