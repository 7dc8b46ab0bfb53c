# shellcheck shell=bash disable=SC2034 # variables here are read by the sourcing helpers
# linux_bridge: the reference topology made of plain Linux parts. The two namespaces' root-side
# veth ends (TOPOLOGY_SOURCE_BINDING, TOPOLOGY_DEST_BINDING, given by the helpers) are enslaved to
# one kernel bridge, so traffic is switched by the kernel instead of by MidoNet. Runs anywhere
# (no midolman needed); the local lab and CI use it. Names come from TOPOLOGY_PREFIX (per job).

TOPOLOGY_SOURCE_HOST=10.25.25.1
TOPOLOGY_DEST_HOST=10.25.25.2
TOPOLOGY_SOURCE_NET=10.25.25.0/24
TOPOLOGY_DEST_NET=10.25.25.0/24

# The bridge's name: per job, at most 15 characters.
linux_bridge_name() {
  printf '%sbr' "${TOPOLOGY_PREFIX:?TOPOLOGY_PREFIX is not set}"
}

setup_topology() {
  local br
  br=$(linux_bridge_name)
  ip link add "$br" type bridge
  # No STP and no forwarding delay: ports forward at once.
  ip link set "$br" type bridge stp_state 0 forward_delay 0
  ip link set "$TOPOLOGY_SOURCE_BINDING" master "$br"
  ip link set "$TOPOLOGY_DEST_BINDING" master "$br"
  ip link set "$br" up
}

tear_down_topology() {
  local br
  br=$(linux_bridge_name)
  if [[ -e /sys/class/net/$br ]]; then
    ip link del "$br"
  fi
}

print_topology() {
  local br
  br=$(linux_bridge_name)
  printf 'linux_bridge: %s (%s) -- %s -- %s (%s)\n' \
    "$TOPOLOGY_SOURCE_HOST" "$TOPOLOGY_SOURCE_BINDING" "$br" "$TOPOLOGY_DEST_HOST" "$TOPOLOGY_DEST_BINDING"
  if [[ -e /sys/class/net/$br ]]; then
    ip -d link show "$br"
    bridge link show | grep -F -- "master $br" || true
  fi
}
