# shellcheck shell=bash disable=SC2034 # variables here are read by the sourcing helpers
# ovs_l3: two Open vSwitch bridges on the userspace datapath joined by a patch-port pair, and
# OpenFlow rules that route between the two nets, as l3_basic's MidoNet router does: the source
# (10.25.25.2, on bridge 1) and the destination (10.25.26.2, on bridge 2) each have a default
# route via a gateway (.1) that exists only as rules - an ARP responder for the gateway's address
# on each bridge, and for IPv4 to the other net: source MAC := the gateway's, destination MAC :=
# the host's, TTL decremented, out through the patch port; what comes in through the patch port
# goes to the host's port. Nothing else is forwarded (fail_mode secure, lowest rule drops).
# The switch (the host's, or a private one in a namespace of the job, stopped by PID) and the
# datapath's readings are lib/ovs.sh's, as in ovs_bridge; with the private switch megaflows are
# off, so every probe is a new datapath flow.

# shellcheck source-path=SCRIPTDIR source=../remote-scripts/lib/ovs.sh
. "${ORCH_LIB:-${BASH_SOURCE[0]%/*}/../remote-scripts/lib}/ovs.sh"

TOPOLOGY_SOURCE_HOST=10.25.25.2
TOPOLOGY_DEST_HOST=10.25.26.2
TOPOLOGY_SOURCE_NET=10.25.25.0/24
TOPOLOGY_DEST_NET=10.25.26.0/24
TOPOLOGY_SOURCE_GATEWAY=10.25.25.1
TOPOLOGY_DEST_GATEWAY=10.25.26.1
# The gateways' MAC addresses (locally administered).
OVS_L3_GW1_MAC=02:00:0a:19:19:01
OVS_L3_GW2_MAC=02:00:0a:19:1a:01

# ovs_l3_names : "BRIDGE1 BRIDGE2 PATCH1 PATCH2" of this job (each at most 15 characters).
ovs_l3_names() {
  local p=${TOPOLOGY_PREFIX:?TOPOLOGY_PREFIX is not set}
  printf '%so1 %so2 %sp1 %sp2' "$p" "$p" "$p" "$p"
}

# ovs_l3_mac NS DEV : the MAC address of DEV in namespace NS.
ovs_l3_mac() {
  ip -n "$1" -o link show dev "$2" | grep -o 'link/ether [0-9a-f:]*' | awk '{ print $2 }'
}

# ovs_l3_hex_ip A.B.C.D : 0xAABBCCDD.
ovs_l3_hex_ip() {
  local IFS=.
  # shellcheck disable=SC2086 # split the quad on dots on purpose
  set -- $1
  printf '0x%02x%02x%02x%02x' "$1" "$2" "$3" "$4"
}

# ovs_l3_arp_responder GW_IP GW_MAC IN_PORT : the rule that answers "who has GW_IP" on IN_PORT.
ovs_l3_arp_responder() {
  printf 'table=0,priority=200,in_port=%s,arp,arp_op=1,arp_tpa=%s,actions=move:NXM_OF_ETH_SRC[]->NXM_OF_ETH_DST[],mod_dl_src:%s,load:0x2->NXM_OF_ARP_OP[],move:NXM_NX_ARP_SHA[]->NXM_NX_ARP_THA[],load:0x%s->NXM_NX_ARP_SHA[],move:NXM_OF_ARP_SPA[]->NXM_OF_ARP_TPA[],load:%s->NXM_OF_ARP_SPA[],in_port\n' \
    "$3" "$1" "$2" "${2//:/}" "$(ovs_l3_hex_ip "$1")"
}

# ovs_l3_side_flows GW_IP GW_MAC HOST_PORT OTHER_NET OTHER_GW_MAC OTHER_HOST_MAC : one bridge's
# rules (host port 1, patch port 2).
ovs_l3_side_flows() {
  local gw=$1 gwmac=$2 hostport=$3 other=$4 othergw=$5 othermac=$6
  ovs_l3_arp_responder "$gw" "$gwmac" "$hostport"
  printf 'table=0,priority=100,in_port=%s,ip,nw_dst=%s,actions=mod_dl_src:%s,mod_dl_dst:%s,dec_ttl,output:2\n' "$hostport" "$other" "$othergw" "$othermac"
  printf 'table=0,priority=100,in_port=2,ip,actions=output:%s\n' "$hostport"
  printf 'table=0,priority=0,actions=drop\n'
}

setup_topology() {
  local br1 br2 p1 p2 srcmac dstmac
  read -r br1 br2 p1 p2 <<<"$(ovs_l3_names)"
  ovs_switch_up
  ovs_topology_ports_prepare
  ovs_add_bridge "$br1" secure
  ovs_add_bridge "$br2" secure
  ovs_add_port "$br1" "$TOPOLOGY_SOURCE_BINDING" 1
  ovs_add_port "$br2" "$TOPOLOGY_DEST_BINDING" 1
  ovs_vsctl -- add-port "$br1" "$p1" -- set interface "$p1" type=patch options:peer="$p2" ofport_request=2 \
    -- add-port "$br2" "$p2" -- set interface "$p2" type=patch options:peer="$p1" ofport_request=2
  srcmac=$(ovs_l3_mac "${TOPOLOGY_SOURCE_NS:?}" "${TOPOLOGY_SOURCE_IF:?}")
  dstmac=$(ovs_l3_mac "${TOPOLOGY_DEST_NS:?}" "${TOPOLOGY_DEST_IF:?}")
  [[ -n $srcmac && -n $dstmac ]] || { printf 'ovs_l3: cannot read the hosts'"'"' MAC addresses\n' >&2; return 1; }
  ovs_ofctl del-flows "$br1"
  ovs_l3_side_flows "$TOPOLOGY_SOURCE_GATEWAY" "$OVS_L3_GW1_MAC" 1 "$TOPOLOGY_DEST_NET" "$OVS_L3_GW2_MAC" "$dstmac" |
    ovs_ofctl add-flows "$br1" -
  ovs_ofctl del-flows "$br2"
  ovs_l3_side_flows "$TOPOLOGY_DEST_GATEWAY" "$OVS_L3_GW2_MAC" 1 "$TOPOLOGY_SOURCE_NET" "$OVS_L3_GW1_MAC" "$srcmac" |
    ovs_ofctl add-flows "$br2" -
  ovs_exact_flows_when_private
}

tear_down_topology() {
  local rc=0
  ovs_del_job_bridges || rc=1
  ovs_switch_down || rc=1
  return "$rc"
}

print_topology() {
  local br1 br2 p1 p2
  read -r br1 br2 p1 p2 <<<"$(ovs_l3_names)"
  printf 'ovs_l3: %s (%s) -- OVS bridge %s -- rules routing %s <-> %s (patch %s/%s) -- OVS bridge %s -- %s (%s); %s switch, userspace datapath\n' \
    "$TOPOLOGY_SOURCE_HOST" "$TOPOLOGY_SOURCE_BINDING" "$br1" "$TOPOLOGY_SOURCE_NET" "$TOPOLOGY_DEST_NET" "$p1" "$p2" "$br2" \
    "$TOPOLOGY_DEST_HOST" "$TOPOLOGY_DEST_BINDING" "$(ovs_mode)"
  ovs_print_switch "$br1" "$br2"
}
