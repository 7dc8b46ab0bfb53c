# shellcheck shell=bash disable=SC2034 # variables here are read by the sourcing helpers
# l3_basic: two MidoNet bridges joined by a MidoNet router. The source sits on bridge "left"
# (10.25.25.0/24), the destination on bridge "right" (10.25.26.0/24); the router has one port in
# each network (.1) peered with a port of the matching bridge, and a route to each network.
# The original peered both router ports with the same bridge (so nothing was routed); here each
# router port is peered with its own bridge. The namespaces get a default route via the router
# (TOPOLOGY_SOURCE_GATEWAY/TOPOLOGY_DEST_GATEWAY, read by the helpers).
# Needs midonet-cli and a running midolman; not runnable in the local lab.

TOPOLOGY_SOURCE_HOST=10.25.25.2
TOPOLOGY_DEST_HOST=10.25.26.2
TOPOLOGY_SOURCE_NET=10.25.25.0/24
TOPOLOGY_DEST_NET=10.25.26.0/24
TOPOLOGY_SOURCE_GATEWAY=10.25.25.1
TOPOLOGY_DEST_GATEWAY=10.25.26.1

l3_cli() {
  midonet-cli -A -e "$@"
}

l3_host_id() {
  local name id
  name=$(hostname)
  id=$(l3_cli host list | awk -v n="$name" '$1 == "host" && $3 == "name" && $4 == n { print $2; exit }')
  [[ -n $id ]] || { printf 'l3_basic: host %s is not registered in MidoNet (is midolman running?)\n' "$name" >&2; return 1; }
  printf '%s' "$id"
}

# l3_side ROUTER NAME NET GATEWAY BINDING HOST : a bridge for NET with a port bound to BINDING
# and a port peered with a new router port GATEWAY/len; a route to NET through that port.
l3_side() {
  local router=$1 name=$2 net=$3 gw=$4 binding=$5 host=$6 state=$TOPOLOGY_STATE_DIR bridge bport peer rport
  bridge=$(l3_cli bridge create name "perftest-${TOPOLOGY_PREFIX:?}-$name")
  printf '%s\n' "$bridge" >>"$state/l3_basic.bridges"
  bport=$(l3_cli bridge "$bridge" add port)
  l3_cli host "$host" add binding port bridge "$bridge" port "$bport" interface "$binding"
  peer=$(l3_cli bridge "$bridge" add port)
  rport=$(l3_cli router "$router" add port address "$gw" net "$net")
  # The fix: this router port is peered with a port of THIS side's bridge.
  l3_cli router "$router" port "$rport" set peer bridge "$bridge" port "$peer"
  l3_cli router "$router" add route src 0.0.0.0/0 dst "$net" type normal port router "$router" port "$rport"
}

setup_topology() {
  local state=${TOPOLOGY_STATE_DIR:?TOPOLOGY_STATE_DIR is not set} host router
  command -v midonet-cli >/dev/null || { printf 'l3_basic: midonet-cli is not installed\n' >&2; return 1; }
  host=$(l3_host_id)
  router=$(l3_cli router create name "perftest-${TOPOLOGY_PREFIX:?}")
  printf '%s\n' "$router" >"$state/l3_basic.router"
  : >"$state/l3_basic.bridges"
  l3_side "$router" left "$TOPOLOGY_SOURCE_NET" "$TOPOLOGY_SOURCE_GATEWAY" "$TOPOLOGY_SOURCE_BINDING" "$host"
  l3_side "$router" right "$TOPOLOGY_DEST_NET" "$TOPOLOGY_DEST_GATEWAY" "$TOPOLOGY_DEST_BINDING" "$host"
}

tear_down_topology() {
  local state=${TOPOLOGY_STATE_DIR:?TOPOLOGY_STATE_DIR is not set} router bridge
  # Router first (its ports' peerings go with it), then the bridges; each only if created.
  if [[ -r $state/l3_basic.router ]]; then
    read -r router <"$state/l3_basic.router"
    l3_cli router "$router" delete
    rm -f -- "$state/l3_basic.router"
  fi
  if [[ -r $state/l3_basic.bridges ]]; then
    while read -r bridge; do
      [[ -n $bridge ]] && l3_cli bridge "$bridge" delete
    done <"$state/l3_basic.bridges"
    rm -f -- "$state/l3_basic.bridges"
  fi
}

print_topology() {
  local state=${TOPOLOGY_STATE_DIR:?TOPOLOGY_STATE_DIR is not set} router
  printf 'l3_basic: %s (%s) -- bridge -- router -- bridge -- %s (%s)\n' \
    "$TOPOLOGY_SOURCE_HOST" "$TOPOLOGY_SOURCE_BINDING" "$TOPOLOGY_DEST_HOST" "$TOPOLOGY_DEST_BINDING"
  if [[ -r $state/l3_basic.router ]]; then
    read -r router <"$state/l3_basic.router"
    l3_cli router "$router" show
    l3_cli router "$router" list route
  fi
}
