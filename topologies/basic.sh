# shellcheck shell=bash disable=SC2034 # variables here are read by the sourcing helpers
# basic: the seed's l2 topology on MidoNet. One virtual bridge with two ports, each bound on
# this host to one of the helpers' interfaces (TOPOLOGY_SOURCE_BINDING, TOPOLOGY_DEST_BINDING),
# so every probe is simulated by midolman. Needs midonet-cli with a working ~/.midonetrc and a
# running midolman registered as this host. midonet-cli -A prints UUIDs; the UUIDs are kept in
# TOPOLOGY_STATE_DIR because setup and tear-down run in different phases (processes).
# Not runnable in the local lab (no MidoNet there); kept correct by reading the original.

TOPOLOGY_SOURCE_HOST=10.25.25.1
TOPOLOGY_DEST_HOST=10.25.25.2
TOPOLOGY_SOURCE_NET=10.25.25.0/24
TOPOLOGY_DEST_NET=10.25.25.0/24

# basic_cli ARGS... : one midonet-cli command; its output is an id or a listing.
basic_cli() {
  midonet-cli -A -e "$@"
}

# basic_host_id : the MidoNet host id of this machine (host list: "host ID name NAME alive ...").
basic_host_id() {
  local name id
  name=$(hostname)
  id=$(basic_cli host list | awk -v n="$name" '$1 == "host" && $3 == "name" && $4 == n { print $2; exit }')
  [[ -n $id ]] || { printf 'basic: host %s is not registered in MidoNet (is midolman running?)\n' "$name" >&2; return 1; }
  printf '%s' "$id"
}

setup_topology() {
  local state=${TOPOLOGY_STATE_DIR:?TOPOLOGY_STATE_DIR is not set} host bridge left right
  command -v midonet-cli >/dev/null || { printf 'basic: midonet-cli is not installed\n' >&2; return 1; }
  host=$(basic_host_id)
  bridge=$(basic_cli bridge create name "perftest-${TOPOLOGY_PREFIX:?}")
  printf '%s\n' "$bridge" >"$state/basic.bridge"
  left=$(basic_cli bridge "$bridge" add port)
  right=$(basic_cli bridge "$bridge" add port)
  basic_cli host "$host" add binding port bridge "$bridge" port "$left" interface "$TOPOLOGY_SOURCE_BINDING"
  basic_cli host "$host" add binding port bridge "$bridge" port "$right" interface "$TOPOLOGY_DEST_BINDING"
}

tear_down_topology() {
  local state=${TOPOLOGY_STATE_DIR:?TOPOLOGY_STATE_DIR is not set} bridge
  [[ -r $state/basic.bridge ]] || return 0 # nothing was created
  read -r bridge <"$state/basic.bridge"
  # Deleting the bridge deletes its ports and their bindings.
  basic_cli bridge "$bridge" delete
  rm -f -- "$state/basic.bridge"
}

print_topology() {
  local state=${TOPOLOGY_STATE_DIR:?TOPOLOGY_STATE_DIR is not set} bridge
  printf 'basic: %s (%s) -- MidoNet bridge -- %s (%s)\n' \
    "$TOPOLOGY_SOURCE_HOST" "$TOPOLOGY_SOURCE_BINDING" "$TOPOLOGY_DEST_HOST" "$TOPOLOGY_DEST_BINDING"
  if [[ -r $state/basic.bridge ]]; then
    read -r bridge <"$state/basic.bridge"
    basic_cli bridge "$bridge" show
    basic_cli bridge "$bridge" list port
  fi
}
