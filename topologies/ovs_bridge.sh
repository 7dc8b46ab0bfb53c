# shellcheck shell=bash disable=SC2034 # variables here are read by the sourcing helpers
# ovs_bridge: one Open vSwitch bridge on the userspace datapath (datapath_type=netdev: no kernel
# module), the source and destination bindings as its two ports, L2 switching by the bridge's
# NORMAL rule. The switch is the host's when the host runs Open vSwitch, else a private
# ovsdb-server + ovs-vswitchd this topology starts in a namespace of the job and stops by PID
# (lib/ovs.sh). With the private switch the datapath's megaflows are off, so every probe (a new
# destination port) is a new exact-match datapath flow - one upcall each, as MidoNet's agent saw
# every probe as a new flow; the host's switch is left as the host configured it.
# The agent under test is that ovs-vswitchd (topology_agent_pid); topology_datapath_json reads
# its datapath's counters (lib/ovs.sh ovs_datapath_json).

# shellcheck source-path=SCRIPTDIR source=../remote-scripts/lib/ovs.sh
. "${ORCH_LIB:-${BASH_SOURCE[0]%/*}/../remote-scripts/lib}/ovs.sh"

TOPOLOGY_SOURCE_HOST=10.25.25.1
TOPOLOGY_DEST_HOST=10.25.25.2
TOPOLOGY_SOURCE_NET=10.25.25.0/24
TOPOLOGY_DEST_NET=10.25.25.0/24

# ovs_bridge_name : the job's bridge (at most 15 characters).
ovs_bridge_name() {
  printf '%sob' "${TOPOLOGY_PREFIX:?TOPOLOGY_PREFIX is not set}"
}

setup_topology() {
  local br
  br=$(ovs_bridge_name)
  ovs_switch_up
  ovs_topology_ports_prepare
  ovs_add_bridge "$br" standalone
  ovs_add_port "$br" "$TOPOLOGY_SOURCE_BINDING" 1
  ovs_add_port "$br" "$TOPOLOGY_DEST_BINDING" 2
  ovs_exact_flows_when_private
}

tear_down_topology() {
  local rc=0
  ovs_del_job_bridges || rc=1
  ovs_switch_down || rc=1
  return "$rc"
}

print_topology() {
  local br
  br=$(ovs_bridge_name)
  printf 'ovs_bridge: %s (%s) -- OVS bridge %s (%s switch, userspace datapath) -- %s (%s)\n' \
    "$TOPOLOGY_SOURCE_HOST" "$TOPOLOGY_SOURCE_BINDING" "$br" "$(ovs_mode)" "$TOPOLOGY_DEST_HOST" "$TOPOLOGY_DEST_BINDING"
  ovs_print_switch "$br"
}
