# shellcheck shell=bash
# Adaptive repetitions of the midolman scenario's throughput steps (its `repeat` params): a step's
# burst is sent again at the same rate until the 95% confidence interval of the mean of the
# judged measurement (MIDOLMAN_REPEAT_METRIC) over its bursts is at most MIDOLMAN_REPEAT_TARGET_CI
# of that mean (once MIDOLMAN_REPEAT_MIN ran), MIDOLMAN_REPEAT_MAX bursts ran, or one more burst
# (leaving every step still to come one burst) would end past the phase's deadline
# (MIDOLMAN_REPEAT_BUDGET_S after the phase started). Each burst is a line of steps.jsonl with its
# "repetition"; each step's loop is a line of $ORCH_ARTIFACTS/repeats.jsonl. Without
# MIDOLMAN_REPEAT_MAX above 1 a step is one burst, as it always was.
# Sourced, never executed; needs lib/repeat.sh, lib/midolman-common.sh and lib/traffic-common.sh.

# traffic_repeat_on : true when the orchestrator asked for repetitions.
traffic_repeat_on() {
  ((${MIDOLMAN_REPEAT_MAX:-1} > 1))
}

# traffic_repeat_start : start the phase's repetition clock (TRAFFIC_REPEAT_DEADLINE, seconds since
# the epoch after which no burst may end).
traffic_repeat_start() {
  TRAFFIC_REPEAT_DEADLINE=$(awk -v now="$(mm_now)" -v budget="${MIDOLMAN_REPEAT_BUDGET_S:-86400}" 'BEGIN { printf "%.3f", now + budget }')
}

# traffic_agent_cpu T0 T1 : the agent's mean CPU (% of one CPU) over a burst, from the /proc
# sampler's samples stamped after T0 up to one interval (1 s) past T1, as the RRD window of the
# step's agent.cpu sample; nothing when there is none.
traffic_agent_cpu() {
  [[ -r $ORCH_ARTIFACTS/collectors/proc.jsonl ]] || return 0
  awk -v a="$1" -v b="$2" '
    match($0, /"kind":"sample","t":[0-9.]+/) {
      t = substr($0, RSTART + 20, RLENGTH - 20) + 0
      if (t > a && t < b + 1 && match($0, /"agent\.cpu_percent":[0-9.]+/)) { s += substr($0, RSTART + 20, RLENGTH - 20); n++ }
    }
    END { if (n) printf "%.6f", s / n }' "$ORCH_ARTIFACTS/collectors/proc.jsonl"
}

# traffic_step_value METRIC : the judged measurement of the last burst (lib/traffic-common.sh's
# TRAFFIC_LAST_*); nothing when the burst has none (no probe delivered: no latency).
traffic_step_value() {
  local field
  case $1 in
    delivered_pps) printf '%s' "$TRAFFIC_LAST_DELIVERED_PPS" ;;
    achieved_pps) printf '%s' "$TRAFFIC_LAST_ACHIEVED_PPS" ;;
    loss) printf '%s' "$TRAFFIC_LAST_LOSS" ;;
    latency_p50_ns | latency_p99_ns)
      field=${1#latency_}
      field=${field%_ns}
      [[ $TRAFFIC_LAST_LATENCY =~ \"$field\":([0-9]+) ]] && printf '%s' "${BASH_REMATCH[1]}"
      ;;
    agent_cpu_percent) traffic_agent_cpu "$TRAFFIC_LAST_T0" "$TRAFFIC_LAST_T1" ;;
    *) orch_die "MIDOLMAN_REPEAT_METRIC: unknown measurement '$1'" ;;
  esac
  return 0
}

# traffic_repeat_step PHASE INDEX RATE COUNT : the step, repeated as the orchestrator asked (or
# once). Afterwards TRAFFIC_LAST_STEP is the last burst's line and TRAFFIC_LAST_LOSS the mean
# loss over the step's bursts (what an NDR trial is judged on). TRAFFIC_REPEAT_STEPS_LEFT: steps
# the phase still has after this one (each keeps time for one burst).
traffic_repeat_step() {
  local phase=$1 index=$2 rate=$3 count=$4 k=0 t_rep t_start seconds value verdict stop need left record
  local mean rel min=${MIDOLMAN_REPEAT_MIN:-1} max=${MIDOLMAN_REPEAT_MAX:-1} target=${MIDOLMAN_REPEAT_TARGET_CI:-0.02}
  local metric=${MIDOLMAN_REPEAT_METRIC:-delivered_pps} pause=${THROUGHPUT_SCAN_PAUSE_SECONDS:-0}
  local -a values=() losses=()
  if ! traffic_repeat_on; then
    traffic_step "$phase" "$index" "$rate" "$count"
    return 0
  fi
  [[ -n ${TRAFFIC_REPEAT_DEADLINE:-} ]] || traffic_repeat_start
  t_start=$(mm_now)
  while :; do
    k=$((k + 1))
    t_rep=$(mm_now)
    # shellcheck disable=SC2034 # read by traffic_step (lib/traffic-common.sh)
    TRAFFIC_REPETITION=$k
    traffic_step "$phase" "$index" "$rate" "$count"
    unset TRAFFIC_REPETITION
    seconds=$(mm_seconds "$t_rep" "$(mm_now)")
    losses+=("$TRAFFIC_LAST_LOSS")
    value=$(traffic_step_value "$metric")
    if [[ -z $value ]]; then
      orch_log_event warning "$phase step $index at $rate pps: burst $k has no $metric: its repetitions end"
      stop=no-value
      break
    fi
    values+=("$value")
    read -r _ mean _ _ rel <<<"$(repeat_stats "${values[@]}")"
    # one more burst, a pause before it, and one burst (and pause) for each step still to come
    need=$(awk -v s="$seconds" -v p="$pause" -v left="${TRAFFIC_REPEAT_STEPS_LEFT:-0}" 'BEGIN { printf "%.3f", (s + p) * (1 + left) }')
    left=$(awk -v d="$TRAFFIC_REPEAT_DEADLINE" -v now="$(mm_now)" 'BEGIN { printf "%.3f", d - now }')
    verdict=$(repeat_verdict "$min" "$max" "$target" "$k" "$rel" "$left" "$need")
    if [[ $verdict != continue ]]; then
      stop=$verdict
      break
    fi
    orch_progress "$phase step $index at $rate pps: burst $k of at most $max, $metric $mean +- $(awk -v r="$rel" 'BEGIN { if (r == "inf") print "?"; else printf "%.1f", r * 100 }')% (target $(awk -v t="$target" 'BEGIN { printf "%.1f", t * 100 }')%)"
    if ((pause > 0)); then sleep "$pause"; fi
  done
  [[ $stop == deadline ]] && orch_log_event warning "$phase step $index at $rate pps: repetitions stopped at the phase's deadline after $k burst(s)"
  record=$(repeat_record_json "$min" "$max" "$target" "$stop" "$(mm_seconds "$t_start" "$(mm_now)")" "${values[@]}")
  printf '{"phase":%s,"index":%s,"offered_pps":%s,"metric":%s,"repetitions":%s,%s\n' \
    "$(orch_json_string "$phase")" "$index" "$rate" "$(orch_json_string "$metric")" "$k" "${record#\{}" >>"$ORCH_ARTIFACTS/repeats.jsonl"
  read -r _ TRAFFIC_LAST_LOSS _ <<<"$(repeat_stats "${losses[@]}")"
}
