# shellcheck shell=bash
# The datapath of the switch the topology runs (ovs_* topologies: Open vSwitch's userspace
# datapath), read through the topology's topology_datapath_json (one JSON object of counters, see
# lib/ovs.sh ovs_datapath_json):
#  - a collector that samples it every second into $ORCH_ARTIFACTS/collectors/datapath.jsonl
#    ({"kind":"types"...} then {"kind":"sample","t":..,"values":{"dp.flows":..}}), which the
#    collectors' stop turns into RRD series like the others;
#  - per traffic step, the counters before and after the burst: new datapath flows, upcalls
#    (misses), hits and lost packets, and the flow-setup rate (traffic_step puts it in steps.jsonl).
# A topology without topology_datapath_json has no datapath series and no per-step datapath.
# Sourced, never executed; needs lib/midolman-common.sh.

# The collector's series and their RRD types: counters become per-second rates.
MM_DATAPATH_TYPES='{"dp.flows":"GAUGE","dp.hit":"COUNTER","dp.missed":"COUNTER","dp.lost":"COUNTER","dp.upcall_flows":"GAUGE","dp.dump_duration_ms":"GAUGE","dp.handlers":"GAUGE","dp.revalidators":"GAUGE","dp.flow_put":"COUNTER","dp.flow_del":"COUNTER","dp.upcall_ukey_replace":"COUNTER","dp.revalidate_missed":"COUNTER","dp.socket_drops":"COUNTER"}'

# mm_datapath_available : the sourced topology reads a datapath.
mm_datapath_available() {
  declare -F topology_datapath_json >/dev/null
}

# mm_datapath_values JSON : the object's numeric members as "dp.NAME":VALUE (nulls dropped).
mm_datapath_values() {
  sed -e 's/^{//' -e 's/}$//' <<<"$1" | tr ',' '\n' | awk -F ':' '$2 != "null" && $2 ~ /^-?[0-9.]+$/ { gsub(/"/, "", $1); printf "%s\"dp.%s\":%s", sep, $1, $2; sep = "," }'
}

# mm_sample_datapath OUT : one JSON line a second until TERM; a failed read is an error line.
mm_sample_datapath() {
  local out=$1 json t
  trap 'exit 0' TERM INT
  printf '{"kind":"types","t":%s,"types":%s}\n' "$(mm_now)" "$MM_DATAPATH_TYPES" >>"$out"
  while :; do
    t=$(mm_now)
    if json=$(topology_datapath_json 2>/dev/null) && [[ $json == '{'*'}' ]]; then
      printf '{"kind":"sample","t":%s,"values":{%s}}\n' "$t" "$(mm_datapath_values "$json")" >>"$out"
    else
      printf '{"kind":"error","t":%s,"message":"the datapath did not answer"}\n' "$t" >>"$out"
    fi
    sleep 1 &
    wait $! || true
  done
}

# mm_datapath_field JSON NAME : a numeric member of the datapath's object (nothing when absent/null).
mm_datapath_field() {
  local re="\"$2\":(-?[0-9.]+)"
  [[ $1 =~ $re ]] && printf '%s' "${BASH_REMATCH[1]}"
  return 0
}

# mm_datapath_step BEFORE AFTER SECONDS : the step's datapath object for steps.jsonl: flows before
# and after, the deltas of hits, misses (upcalls) and lost packets, new flows (misses that were not
# lost: each installs a flow), the flow-setup rate over the send window (SECONDS), and packets the
# kernel dropped at the switch's sockets before it read them (null when not known). null when
# either read failed.
mm_datapath_step() {
  local before=$1 after=$2 seconds=$3 f
  [[ $before == '{'* && $after == '{'* ]] || { printf 'null'; return 0; }
  local -A b a
  for f in flows hit missed lost socket_drops; do
    b[$f]=$(mm_datapath_field "$before" "$f")
    a[$f]=$(mm_datapath_field "$after" "$f")
  done
  awk -v fb="${b[flows]:-0}" -v fa="${a[flows]:-0}" -v hb="${b[hit]:-0}" -v ha="${a[hit]:-0}" \
    -v mb="${b[missed]:-0}" -v ma="${a[missed]:-0}" -v lb="${b[lost]:-0}" -v la="${a[lost]:-0}" -v s="$seconds" \
    -v db="${b[socket_drops]:-}" -v da="${a[socket_drops]:-}" '
    BEGIN {
      missed = ma - mb; lost = la - lb; created = missed - lost; if (created < 0) created = 0
      printf "{\"flows_before\":%d,\"flows_after\":%d,\"hit\":%d,\"missed\":%d,\"lost\":%d,\"new_flows\":%d,\"flow_setup_pps\":%s,\"socket_drops\":%s}",
        fb, fa, ha - hb, missed, lost, created, (s > 0) ? sprintf("%.3f", created / s) : "null", (db != "" && da != "") ? da - db : "null"
    }'
}
