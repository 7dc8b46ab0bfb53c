# shellcheck shell=bash
# Topologies for the midolman scenario: the contract check, the two namespaces with their veth
# pairs (the seed's add_ns), the connectivity check and the optional shaping of the path to the
# destination. Sourced, never executed; needs lib/midolman-common.sh (mm_init done).

MM_TOPOLOGY_FUNCTIONS=(setup_topology tear_down_topology print_topology)
MM_TOPOLOGY_VARIABLES=(TOPOLOGY_SOURCE_HOST TOPOLOGY_DEST_HOST TOPOLOGY_SOURCE_NET TOPOLOGY_DEST_NET)

# mm_topology_file : print the topology file chosen by MIDOLMAN_TOPOLOGY_PATH (a file on the
# host) or MIDOLMAN_TOPOLOGY (a name in the bundle's topologies/, NAME.sh).
mm_topology_file() {
  local name=${MIDOLMAN_TOPOLOGY:-linux_bridge} file
  if [[ -n ${MIDOLMAN_TOPOLOGY_PATH:-} ]]; then
    file=$MIDOLMAN_TOPOLOGY_PATH
  else
    [[ $name =~ ^[A-Za-z0-9_][A-Za-z0-9_.-]*$ ]] || orch_die "invalid topology name: '$name'"
    file=${ORCH_TOPOLOGIES:?ORCH_TOPOLOGIES is not set}/$name.sh
  fi
  [[ -r $file ]] || orch_die "topology '$name': no such file: $file"
  printf '%s' "$file"
}

# mm_ipv4_ok ADDR : true for a dotted quad.
mm_ipv4_ok() {
  [[ $1 =~ ^([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})\.([0-9]{1,3})$ ]] &&
    ((BASH_REMATCH[1] < 256 && BASH_REMATCH[2] < 256 && BASH_REMATCH[3] < 256 && BASH_REMATCH[4] < 256))
}

# mm_topology_check FILE : source FILE in a subshell and print what its contract lacks, one
# problem a line; exit status 1 when anything is missing.
mm_topology_check() {
  local file=$1
  (
    set +eu
    # shellcheck source=/dev/null
    . "$file" >/dev/null 2>&1 || printf 'sourcing %s failed (status %s)\n' "$file" "$?"
    bad=0
    for fn in "${MM_TOPOLOGY_FUNCTIONS[@]}"; do
      declare -F "$fn" >/dev/null || { printf 'function %s is not defined\n' "$fn"; bad=1; }
    done
    for var in "${MM_TOPOLOGY_VARIABLES[@]}"; do
      if [[ -z ${!var:-} ]]; then
        printf 'variable %s is not set\n' "$var"
        bad=1
      fi
    done
    for var in TOPOLOGY_SOURCE_HOST TOPOLOGY_DEST_HOST; do
      [[ -z ${!var:-} ]] || mm_ipv4_ok "${!var}" || { printf '%s=%s is not an IPv4 address\n' "$var" "${!var}"; bad=1; }
    done
    for var in TOPOLOGY_SOURCE_NET TOPOLOGY_DEST_NET; do
      [[ -z ${!var:-} || ${!var} =~ ^[0-9.]+/[0-9]{1,2}$ ]] || { printf '%s=%s is not an IPv4 prefix (a.b.c.d/len)\n' "$var" "${!var}"; bad=1; }
    done
    exit "$bad"
  )
}

# mm_topology_source FILE : source the topology into this shell (after a passed check).
mm_topology_source() {
  # shellcheck source=/dev/null
  . "$1"
}

# mm_prefix_len NET : print the length of a.b.c.d/len.
mm_prefix_len() {
  printf '%s' "${1#*/}"
}

# mm_add_ns NS IF BINDING ADDR NET [GATEWAY] : namespace NS with veth IF (inside, ADDR/len of
# NET) paired with BINDING (root namespace, up, left for the topology to bind).
mm_add_ns() {
  local ns=$1 inner=$2 outer=$3 addr=$4 net=$5 gw=${6:-}
  ip netns add "$ns"
  ip link add "$outer" type veth peer name "$inner"
  ip link set "$inner" netns "$ns"
  ip -n "$ns" link set lo up
  ip -n "$ns" addr add "$addr/$(mm_prefix_len "$net")" dev "$inner"
  ip -n "$ns" link set "$inner" up
  ip link set "$outer" up
  if [[ -n $gw ]]; then
    ip -n "$ns" route add default via "$gw" dev "$inner"
  fi
}

# mm_namespaces_up : both namespaces for the sourced topology.
mm_namespaces_up() {
  mm_add_ns "$MM_SRC_NS" "$MM_SRC_IF" "$TOPOLOGY_SOURCE_BINDING" "$TOPOLOGY_SOURCE_HOST" "$TOPOLOGY_SOURCE_NET" "${TOPOLOGY_SOURCE_GATEWAY:-}"
  mm_add_ns "$MM_DST_NS" "$MM_DST_IF" "$TOPOLOGY_DEST_BINDING" "$TOPOLOGY_DEST_HOST" "$TOPOLOGY_DEST_NET" "${TOPOLOGY_DEST_GATEWAY:-}"
}

# mm_binding_ns : the namespace the topology keeps its bindings in after setup (topology_binding_ns:
# the ovs_* topologies move them to their private switch's namespace), or nothing: the root one.
mm_binding_ns() {
  if declare -F topology_binding_ns >/dev/null; then
    topology_binding_ns 2>/dev/null || true
  fi
}

# mm_in_binding_ns CMD... : run CMD in the bindings' namespace.
mm_in_binding_ns() {
  local ns
  ns=$(mm_binding_ns)
  if [[ -n $ns ]]; then
    ip netns exec "$ns" "$@"
  else
    "$@"
  fi
}

# mm_topology_sourced : source the job's topology into this shell (quietly, for phases that only
# ask it questions: the agent's PID, the datapath's counters, where the bindings are).
mm_topology_sourced() {
  local file
  file=$(mm_topology_file 2>/dev/null) || return 0
  mm_topology_check "$file" >/dev/null 2>&1 || return 0
  mkdir -p -- "$TOPOLOGY_STATE_DIR"
  mm_topology_source "$file"
}

# mm_namespaces_down : remove this job's namespaces and root-side links; quiet when absent.
mm_namespaces_down() {
  local ns link
  for ns in "$MM_SRC_NS" "$MM_DST_NS"; do
    if [[ -e /run/netns/$ns ]]; then
      ip netns del "$ns" || orch_warn "could not delete namespace $ns"
    fi
  done
  for link in "$TOPOLOGY_SOURCE_BINDING" "$TOPOLOGY_DEST_BINDING"; do
    if [[ -e /sys/class/net/$link ]]; then
      ip link del "$link" 2>/dev/null || true
    fi
  done
}

# mm_leftover_links : print root-namespace interfaces whose names start with this job's prefix.
mm_leftover_links() {
  local dev
  for dev in /sys/class/net/"$MM_PREFIX"*; do
    [[ -e $dev ]] && printf '%s\n' "${dev##*/}"
  done
  return 0
}

# mm_leftover_namespaces : print network namespaces whose names start with this job's prefix.
mm_leftover_namespaces() {
  local ns
  for ns in /run/netns/"$MM_PREFIX"*; do
    [[ -e $ns ]] && printf '%s\n' "${ns##*/}"
  done
  return 0
}

# mm_connectivity_check : ICMP echo to the destination from the source namespace (ping, or
# nmap's echo probe where ping is not installed); fail loudly.
mm_connectivity_check() {
  local out ok=false
  if orch_have_cmd ping; then
    out=$(ip netns exec "$MM_SRC_NS" ping -c 5 -i 0.2 -W 1 -w 5 "$TOPOLOGY_DEST_HOST" 2>&1) && ok=true
  else
    out=$(ip netns exec "$MM_SRC_NS" nmap -sn -PE -n --send-ip --max-retries 5 -oX - "$TOPOLOGY_DEST_HOST" 2>&1) &&
      grep -q '<status state="up"' <<<"$out" && ok=true
  fi
  if [[ $ok != true ]]; then
    printf '%s\n' "$out" >&2
    orch_die "connectivity check failed: $TOPOLOGY_SOURCE_HOST ($MM_SRC_NS) cannot reach $TOPOLOGY_DEST_HOST ($MM_DST_NS) through topology '${MIDOLMAN_TOPOLOGY:-linux_bridge}'"
  fi
}

# mm_shape_apply : optional shaping of the path to the destination, on the root end of the
# destination's veth (its egress carries every probe into the destination namespace), for
# calibrating the measurement chain against a known answer. Built from what every kernel with
# CONFIG_NET_SCH_HTB and CONFIG_NET_CLS_U32 has (sch_netem and act_police are often missing):
#  - MIDOLMAN_SHAPE_RATE_PPS: an HTB class that passes that many packets per second (mpu 1000:
#    every small frame costs 1000 bytes of the rate) with a 50-packet queue; the excess is dropped.
#  - MIDOLMAN_SHAPE_DROP_ONE_IN (a power of two N): probes to destination ports that are
#    multiples of N go to a class of 8 bit/s with a 1-packet queue: a loss of 1/N of the probes.
mm_shape_apply() {
  local dev=$TOPOLOGY_DEST_BINDING rate=${MIDOLMAN_SHAPE_RATE_PPS:-} one_in=${MIDOLMAN_SHAPE_DROP_ONE_IN:-} bits
  [[ -n $rate || -n $one_in ]] || return 0
  orch_require_cmd tc
  local -a tc=(mm_in_binding_ns tc)
  if [[ -n $rate ]]; then
    mm_need_uint MIDOLMAN_SHAPE_RATE_PPS "$rate"
    bits=$((rate * 8000))
  else
    bits=10000000000 # 10 Gbit/s: no rate limit
  fi
  "${tc[@]}" qdisc add dev "$dev" root handle 1: htb default 10
  "${tc[@]}" class add dev "$dev" parent 1: classid 1:10 htb rate "${bits}bit" ceil "${bits}bit" mpu 1000 burst 20k cburst 20k quantum 1514
  "${tc[@]}" qdisc add dev "$dev" parent 1:10 handle 10: pfifo limit 50
  if [[ -n $one_in ]]; then
    mm_need_uint MIDOLMAN_SHAPE_DROP_ONE_IN "$one_in"
    ((one_in >= 2 && (one_in & (one_in - 1)) == 0)) || orch_die "MIDOLMAN_SHAPE_DROP_ONE_IN must be a power of two >= 2, got $one_in"
    "${tc[@]}" class add dev "$dev" parent 1: classid 1:20 htb rate 8bit ceil 8bit quantum 1514
    "${tc[@]}" qdisc add dev "$dev" parent 1:20 handle 20: pfifo limit 1
    "${tc[@]}" filter add dev "$dev" parent 1: protocol ip prio 1 u32 \
      match ip protocol 6 0xff match ip dport 0 "$(printf '0x%04x' $((one_in - 1)))" flowid 1:20
  fi
  orch_log_event info "shaping $dev: ${rate:-unlimited} pps, dropping 1 in ${one_in:-none} probes"
}
