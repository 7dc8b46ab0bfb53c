# shellcheck shell=bash
# The trafgen traffic generator (netsniff-ng's trafgen, Debian package netsniff-ng): a packet
# socket in the source namespace writes the burst's frames, far past what nmap's scan engine
# reaches from user space.
#
# Probes: TCP SYN, built like nmap's (58-byte frames: IPv4, TCP with an MSS option, window 1024),
# from one fixed source port ($MM_SPORT) to destination ports 1..COUNT in order, each probe once:
# every probe is a new flow (a flow-table miss for midolman) and the destination kernel answers
# RST, so the reply path carries what it carries under nmap. TCP rather than UDP so that one
# measurement chain serves every generator: the captures' filter, the pcap reader, the latency
# matching and the calibration's drop filter (mm_shape_apply) all key on TCP SYNs from the job's
# source port; a step with trafgen compares with a step with nmap.
#
# Rate: an HTB class on the source interface (inside the source namespace, for the burst only)
# releases exactly RATE packets per second (mpu 1000: every probe costs 1000 bytes of a RATE x 8000
# bit/s class); trafgen writes through the qdisc path (--qdisc-path) with blocking sendto (--gap 0)
# and waits on its socket's send buffer while the queue drains. trafgen's own pacing does not hold
# a rate (measured on a 2-core VM, 0.6.8): --rate is a per-second quota sent at full speed then a
# sleep to the end of the second (2000 probes at 1000 pps left in two bursts 1.04 s apart), and
# --gap sleeps after every packet on top of the send (a 1000 us gap gave 895 pps, a 20 us gap
# 11,500 pps instead of 50,000). The pacer's bucket holds 10 ms of probes (2 at least): the first
# ones leave at once, then the rate holds; a late timer (a busy machine) costs no tokens up to
# those 10 ms.
#
# Counts: --num COUNT with one sending process (--cpus 1: one counter, so no port twice); the
# FIFO holds the whole burst, so no probe is dropped before the wire; trafgen's report
# ("N packets outgoing") must say COUNT. What left and what arrived are still counted from the
# captures (traffic_step), never from trafgen's word.
# Sourced, never executed; needs lib/midolman-common.sh, lib/midolman-topology.sh (mm_ipv4_ok) and
# lib/traffic-common.sh.

# Seconds of probes the pacer may release at once (its bucket), and its floor in probes.
TRAFFIC_TRAFGEN_BUCKET_DIVISOR=100
TRAFFIC_TRAFGEN_BUCKET_MIN=2

# traffic_trafgen_available : print why trafgen cannot run here, or nothing.
traffic_trafgen_available() {
  if ! orch_have_cmd trafgen; then
    printf 'trafgen is not installed (Debian/Ubuntu package netsniff-ng)'
  elif ! orch_have_cmd tc; then
    printf 'tc is not installed (iproute2): it paces trafgen'
  elif ! orch_have_cmd unshare; then
    printf 'unshare is not installed (util-linux): the check sends its probe in a private network namespace'
  else
    traffic_trafgen_selftest
  fi
}

# traffic_trafgen_selftest : send one probe of the real kind (this helper's configuration,
# through an HTB qdisc, with the options of a burst) on the loopback of a private network
# namespace that ends with the command: trafgen runs, opens an interface and sends. Prints why
# not, or nothing. Nothing outside the private namespace sees the probe.
traffic_trafgen_selftest() {
  local dir out rc=0
  dir=$(mktemp -d "${TMPDIR:-/tmp}/trafgen-check.XXXXXX") || {
    printf 'cannot make a temporary directory for the trafgen check'
    return 0
  }
  traffic_trafgen_config "$dir/probe.cfg" 00:00:00:00:00:00 127.0.0.1 127.0.0.1 "${MM_SPORT:-40000}" 1
  # shellcheck disable=SC2016 # the script is for the private namespace's bash, with its arguments
  out=$(cd "$dir" && unshare --net -- bash -c '
    set -euo pipefail
    ip link set lo up
    tc qdisc add dev lo root handle 1: htb default 1
    tc class add dev lo parent 1: classid 1:1 htb rate 8000000bit ceil 8000000bit mpu 1000 burst 2000 cburst 2000 quantum 1514
    tc qdisc add dev lo parent 1:1 handle 10: pfifo limit 64
    exec trafgen --dev lo --conf "$1" --num 1 --cpus 1 --gap 0 --qdisc-path --no-sock-mem --notouch-irq
  ' traffic-trafgen-check "$dir/probe.cfg" 2>&1) || rc=$?
  rm -rf -- "$dir"
  if ((rc != 0)); then
    printf 'trafgen cannot send here (one probe on the loopback of a private network namespace, status %s): %s' \
      "$rc" "$(printf '%s\n' "$out" | tr -d '\r' | grep -v '^[[:space:]]*$' | tail -n 2 | paste -sd ' ')"
  elif [[ $(traffic_trafgen_report_field packets <<<"$out") != 1 ]]; then
    printf 'trafgen ran but did not report its one probe sent: %s' "$(printf '%s\n' "$out" | tr -d '\r' | tail -n 3 | paste -sd ' ')"
  fi
  return 0
}

# traffic_trafgen_config FILE DST_MAC SRC_IP DST_IP SPORT COUNT : write trafgen's packet
# configuration: one TCP SYN whose destination port counts 1..COUNT at run time (trafgen updates
# the checksums of a field it changes). Every value was validated by the caller (a MAC, dotted
# quads from the topology contract, numbers); trafgen gets no C preprocessor (--cpp is not used).
traffic_trafgen_config() {
  local file=$1 mac=$2 src=$3 dst=$4 sport=$5 count=$6 dport
  # dinc() needs a range of two values at least
  if ((count > 1)); then dport="dinc(1, $count)"; else dport=1; fi
  {
    printf '# %s TCP SYN probes, destination ports 1..%s in order (each a new flow), source port %s\n' "$count" "$count" "$sport"
    printf '{\n'
    printf '  eth(da=%s),\n' "$mac"
    printf '  ipv4(sa=%s, da=%s, ttl=64),\n' "$src" "$dst"
    printf '  tcp(sp=%s, dp=%s, seq=%s, win=1024, syn, doff=6),\n' "$sport" "$dport" "$((RANDOM * 32768 + RANDOM))"
    printf '  # TCP option: MSS 1460 (as nmap sends)\n'
    printf '  0x02, 0x04, 0x05, 0xb4\n'
    printf '}\n'
  } >"$file"
}

# traffic_trafgen_next_hop : the IPv4 address the source namespace sends the destination's
# packets to (the gateway of its route to TOPOLOGY_DEST_HOST, else the destination itself).
traffic_trafgen_next_hop() {
  local -a words
  local i via=''
  read -r -a words <<<"$(ip -o -n "$MM_SRC_NS" route get "$TOPOLOGY_DEST_HOST" 2>/dev/null | head -n 1)" || true
  for ((i = 0; i + 1 < ${#words[@]}; i++)); do
    [[ ${words[i]} == via ]] && via=${words[i + 1]}
  done
  if [[ -n $via ]] && mm_ipv4_ok "$via"; then
    printf '%s' "$via"
  else
    printf '%s' "$TOPOLOGY_DEST_HOST"
  fi
}

# traffic_trafgen_neighbour ADDR : the link-layer address of ADDR on the source interface, from
# the source namespace's ARP table (/proc/net/arp: complete entries only), or nothing.
traffic_trafgen_neighbour() {
  ip netns exec "$MM_SRC_NS" cat /proc/net/arp 2>/dev/null |
    awk -v ip="$1" -v dev="$MM_SRC_IF" 'NR > 1 && $1 == ip && $6 == dev && tolower($3) ~ /^0x[0-9a-f]*[2367abef]$/ &&
      tolower($4) ~ /^([0-9a-f][0-9a-f]:){5}[0-9a-f][0-9a-f]$/ && $4 != "00:00:00:00:00:00" { print tolower($4); exit }'
}

# traffic_trafgen_mac HOP : the link-layer address trafgen's frames go to. The connectivity check
# resolved it; when the entry is gone, one TCP connection attempt from the source namespace to the
# destination's port 9 (an ephemeral source port: outside the captures' filter) makes the kernel
# resolve it again. Fails when it stays unresolved for 2 s.
traffic_trafgen_mac() {
  local hop=$1 mac i
  mac=$(traffic_trafgen_neighbour "$hop")
  if [[ -z $mac ]]; then
    # shellcheck disable=SC2016 # the address is an argument of the namespace's bash
    ip netns exec "$MM_SRC_NS" timeout 2 bash -c 'exec 3<>"/dev/tcp/$1/9"' traffic-trafgen-resolve "$TOPOLOGY_DEST_HOST" >/dev/null 2>&1 || true
    for ((i = 0; i < 20 && ${#mac} == 0; i++)); do
      mac=$(traffic_trafgen_neighbour "$hop")
      [[ -n $mac ]] || sleep 0.1
    done
  fi
  [[ -n $mac ]] || return 1
  printf '%s' "$mac"
}

# traffic_trafgen_pace RATE COUNT : the pacer on the source interface (see the top of this file).
traffic_trafgen_pace() {
  local rate=$1 count=$2 bucket bits
  bucket=$(((rate + TRAFFIC_TRAFGEN_BUCKET_DIVISOR - 1) / TRAFFIC_TRAFGEN_BUCKET_DIVISOR))
  ((bucket >= TRAFFIC_TRAFGEN_BUCKET_MIN)) || bucket=$TRAFFIC_TRAFGEN_BUCKET_MIN
  bits=$((rate * 8000))
  if ! tc -n "$MM_SRC_NS" qdisc replace dev "$MM_SRC_IF" root handle 1: htb default 1 ||
    ! tc -n "$MM_SRC_NS" class replace dev "$MM_SRC_IF" parent 1: classid 1:1 htb rate "${bits}bit" ceil "${bits}bit" \
      mpu 1000 burst "$((bucket * 1000))" cburst "$((bucket * 1000))" quantum 1514 ||
    ! tc -n "$MM_SRC_NS" qdisc replace dev "$MM_SRC_IF" parent 1:1 handle 10: pfifo limit "$((count + 64))"; then
    orch_die "trafgen: the pacer (HTB, $rate pps) could not be set on $MM_SRC_IF in $MM_SRC_NS"
  fi
  TRAFFIC_TRAFGEN_BUCKET=$bucket
}

# traffic_trafgen_pacer_stats : the pacer's qdiscs' counters as "QUEUED DROPS" (the largest of
# each over the HTB and its FIFO; tc -j prints JSON), or nothing when tc cannot say.
traffic_trafgen_pacer_stats() {
  local json
  json=$(tc -j -s -n "$MM_SRC_NS" qdisc show dev "$MM_SRC_IF" 2>/dev/null) || return 0
  awk -v s="$json" 'BEGIN {
    q = -1; d = -1; n = split(s, parts, ",")
    for (i = 1; i <= n; i++) {
      if (parts[i] ~ /^"qlen":[0-9]+/) { v = parts[i]; sub(/^"qlen":/, "", v); v += 0; if (v > q) q = v }
      if (parts[i] ~ /^"drops":[0-9]+/) { v = parts[i]; sub(/^"drops":/, "", v); v += 0; if (v > d) d = v }
    }
    if (q >= 0 && d >= 0) print q, d
  }'
}

# traffic_trafgen_wait_sent RATE COUNT : trafgen returns once the pacer holds the rest of the
# burst (its socket's send buffer worth); wait until the pacer has released every probe (its
# queue empty), at most the burst's time at RATE plus 2 s. Prints the pacer's drops.
traffic_trafgen_wait_sent() {
  local rate=$1 count=$2 stats queued=-1 drops='' i limit
  limit=$((count * 100 / rate + 200))
  for ((i = 0; i <= limit; i++)); do
    stats=$(traffic_trafgen_pacer_stats)
    [[ -n $stats ]] || orch_die "trafgen: cannot read the pacer's counters on $MM_SRC_IF in $MM_SRC_NS (tc -j -s qdisc show)"
    read -r queued drops <<<"$stats"
    ((queued > 0)) || break
    sleep 0.01
  done
  ((queued == 0)) || orch_die "trafgen: $queued probes still queued in the pacer $((limit / 100)) s after trafgen ended"
  printf '%s' "$drops"
}

# traffic_trafgen_unpace : the source interface back to its own qdisc.
traffic_trafgen_unpace() {
  tc -n "$MM_SRC_NS" qdisc del dev "$MM_SRC_IF" root 2>/dev/null || true
}

# traffic_trafgen_report_field FIELD : from trafgen's output on stdin, the number of its report
# line: packets ("N packets outgoing"), bytes ("N bytes outgoing") or seconds ("S sec, U usec on
# CPU0 (N packets)", the sending process's own timer). Prints nothing when the line is absent.
traffic_trafgen_report_field() {
  tr -d '\r' | awk -v want="$1" '
    want == "packets" && NF == 3 && $2 == "packets" && $3 == "outgoing" && $1 ~ /^[0-9]+$/ { v = $1 }
    want == "bytes" && NF == 3 && $2 == "bytes" && $3 == "outgoing" && $1 ~ /^[0-9]+$/ { v = $1 }
    want == "seconds" && $2 == "sec," && $4 == "usec" && $5 == "on" && $1 ~ /^[0-9]+$/ && $3 ~ /^[0-9]+$/ { v = sprintf("%.6f", $1 + $3 / 1e6) }
    END { if (v != "") print v }'
}

# traffic_trafgen_send RATE COUNT OUTDIR : send COUNT probes at RATE pps; trafgen's packet
# configuration goes to OUTDIR/probes.cfg, its output to OUTDIR/trafgen.out and its report
# {"packets","bytes","duration_s",...} to OUTDIR/generator.json.
traffic_trafgen_send() {
  local rate=$1 count=$2 out=$3 hop mac packets bytes seconds drops='' rc=0
  [[ $rate =~ ^[1-9][0-9]*$ ]] || orch_die "trafgen: the rate must be a positive whole number of probes per second, got '$rate'"
  if [[ ! $count =~ ^[1-9][0-9]*$ ]] || ((count > 65535)); then
    orch_die "trafgen: a burst is 1..65535 probes (one per port), got '$count'"
  fi
  hop=$(traffic_trafgen_next_hop)
  mac=$(traffic_trafgen_mac "$hop") ||
    orch_die "trafgen: no link-layer address for $hop (next hop to $TOPOLOGY_DEST_HOST) on $MM_SRC_IF in $MM_SRC_NS: the destination does not answer ARP"
  traffic_trafgen_config "$out/probes.cfg" "$mac" "$TOPOLOGY_SOURCE_HOST" "$TOPOLOGY_DEST_HOST" "$MM_SPORT" "$count"
  traffic_trafgen_pace "$rate" "$count"
  # env -C: trafgen keeps a scratch file in its working directory. ip netns exec and env exec
  # trafgen: the recorded PID is trafgen's.
  traffic_generator_run "$out/trafgen.out" env -C "$out" ip netns exec "$MM_SRC_NS" \
    trafgen --dev "$MM_SRC_IF" --conf "$out/probes.cfg" --num "$count" --cpus 1 \
    --gap 0 --qdisc-path --no-sock-mem --notouch-irq || rc=$?
  if ((rc == 0)); then
    drops=$(traffic_trafgen_wait_sent "$rate" "$count")
  fi
  traffic_trafgen_unpace
  ((rc == 0)) || orch_die "trafgen failed (status $rc, rate $rate, $count probes on $MM_SRC_IF): $(tr -d '\r' <"$out/trafgen.out" | grep -v '^[[:space:]]*$' | tail -n 3 | paste -sd ' ')"
  packets=$(traffic_trafgen_report_field packets <"$out/trafgen.out")
  bytes=$(traffic_trafgen_report_field bytes <"$out/trafgen.out")
  seconds=$(traffic_trafgen_report_field seconds <"$out/trafgen.out")
  [[ -n $packets ]] || orch_die "trafgen ended without its report ('N packets outgoing'): $(tr -d '\r' <"$out/trafgen.out" | tail -n 3 | paste -sd ' ')"
  ((packets == count)) || orch_die "trafgen sent $packets probes, not the $count asked for"
  ((drops == 0)) || orch_die "trafgen: the pacer dropped $drops probes (its FIFO holds $((count + 64)))"
  orch_json_object tool s trafgen version s "$(traffic_trafgen_version)" \
    packets n "$packets" bytes n "$bytes" duration_s n "$seconds" \
    probe j "$(orch_json_object kind s tcp-syn source_port n "$MM_SPORT" first_port n 1 last_port n "$count" next_hop s "$hop" next_hop_mac s "$mac")" \
    pacer j "$(orch_json_object qdisc s htb rate_pps n "$rate" bucket_probes n "$TRAFFIC_TRAFGEN_BUCKET" drops n "$drops")" >"$out/generator.json"
}

# traffic_trafgen_version : trafgen's version (e.g. 0.6.8), or nothing.
traffic_trafgen_version() {
  trafgen --version 2>/dev/null | awk 'NR == 1 && $1 == "trafgen" { print $2; exit }' | tr -d ','
}
