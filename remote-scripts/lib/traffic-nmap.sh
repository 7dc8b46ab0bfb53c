# shellcheck shell=bash
# The nmap traffic generator (the seed's): a TCP SYN scan from the source namespace to the
# destination, one probe per destination port 1..N, from one fixed source port, at a fixed rate.
# Each probe is a new flow (a flow-table miss for midolman); the destination kernel answers RST.
# --max-retries 0: a lost probe is not sent again, so sent == N and loss is measurable.
# Sourced, never executed; needs lib/midolman-common.sh and lib/traffic-common.sh.

# traffic_nmap_available : print why nmap cannot run, or nothing.
traffic_nmap_available() {
  orch_have_cmd nmap || printf 'nmap is not installed'
}

# traffic_nmap_send RATE COUNT OUTDIR : send COUNT probes at RATE pps; nmap's XML report goes
# to OUTDIR/nmap.xml and a summary {"elapsed_s","closed","filtered"} to OUTDIR/generator.json.
traffic_nmap_send() {
  local rate=$1 count=$2 out=$3 elapsed closed filtered
  ((count >= 1 && count <= 65535)) || orch_die "nmap: a burst is 1..65535 probes (one per port), got $count"
  # ip netns exec execs nmap: the recorded PID is nmap's.
  traffic_generator_run "$out/nmap.out" ip netns exec "$MM_SRC_NS" nmap "$TOPOLOGY_DEST_HOST" \
    --min-rate "$rate" --max-rate "$rate" --max-retries 0 \
    --initial-rtt-timeout 50ms --max-rtt-timeout 200ms --max-scan-delay 10ms \
    --send-ip -Pn -r -n -sS -p "1-$count" -g "$MM_SPORT" -oX "$out/nmap.xml" ||
    orch_die "nmap failed (rate $rate, $count probes): $(tail -n 3 "$out/nmap.out")"
  # Attributes of nmap's XML report: <finished elapsed=..>, <extraports state=.. count=..>,
  # and single <port> entries.
  elapsed=$(grep -o '<finished [^>]*' "$out/nmap.xml" | grep -o 'elapsed="[0-9.]*"' | grep -o '[0-9.]*' || true)
  closed=$(traffic_nmap_count "$out/nmap.xml" closed)
  filtered=$(traffic_nmap_count "$out/nmap.xml" filtered)
  orch_json_object elapsed_s n "${elapsed:-null}" closed n "$closed" filtered n "$filtered" >"$out/generator.json"
}

# traffic_nmap_count XML STATE : ports nmap reported in STATE (collapsed and listed).
traffic_nmap_count() {
  local xml=$1 state=$2 collapsed listed
  collapsed=$(grep -o "<extraports state=\"$state\" count=\"[0-9]*\"" "$xml" | grep -o '[0-9]*"$' | tr -d '"' | awk '{ s += $1 } END { print s + 0 }')
  listed=$(grep -c "<state state=\"$state\"" "$xml" || true)
  printf '%s' "$((collapsed + listed))"
}
