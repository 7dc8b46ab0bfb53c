# shellcheck shell=bash
# The kvm scenario's guest network on the hypervisor (guest.network; the orchestrator's
# network.ts builds KVM_NICS, one tab-separated line per NIC:
#   index type source address gateway create peer_address peer_namespace peer_tool peer_port
# with "-" for what is not given).
#   net-up (kvm_net_up)      before the matrix: the bridges the job creates (they must not exist:
#                            nothing that is not the job's is touched), and each peer's side: a
#                            network namespace of the job's own joined to the bridge by a veth
#                            pair holding the peer's address, or the address on a bridge the job
#                            made, or an address the host already has. -> net.json
#   per point                locally administered MACs for the NICs (the domain XML's
#                            @NIC_MAC_<i>@), the guest's systemd-networkd files (static address +
#                            default route, or DHCP), and the peers' servers (iperf3 -s, or
#                            netserver where it is installed) started by PID before the guest
#                            boots and stopped by PID when the point ends. -> peers.json
#   net-down (kvm_net_down)  always: the peers, veths, namespaces and bridges this job made
#                            (from its state file), each checked gone.
# Sourced by remote-scripts/kvm; needs KVM_STATE and KVM_JOB_TAG (set by kvm_job_paths, after this
# file is sourced: read when used, never at source time). What net-up made: $KVM_STATE/net.tsv.

declare -a KVM_PEER_PIDS=() KVM_PEER_INFO=()
declare -A KVM_NIC_MAC=()

# kvm_net_tag : six hex digits naming this job's links and namespaces (interface names are short).
kvm_net_tag() {
  local sum
  sum=$(printf '%s' "${KVM_JOB_TAG:-job}" | sha256sum)
  printf '%s\n' "${sum:0:6}"
}

# kvm_net_ns INDEX / kvm_net_veth INDEX : the names of NIC INDEX's peer namespace and veth (host end; the peer end adds "p").
kvm_net_ns() { printf 'orch-kvm-%s-%s\n' "$(kvm_net_tag)" "$1"; }
kvm_net_veth() { printf 'okv%s%sh\n' "$(kvm_net_tag)" "$1"; }

# kvm_net_validate : fails (in the caller's shell) unless every KVM_NICS line is well formed (the
# orchestrator validated them; this is the host's own check). Every entry point calls it first.
kvm_net_validate() {
  local line create pns
  while IFS= read -r line; do
    [[ -n $line ]] || continue
    [[ $line =~ ^[0-7]$'\t'(bridge|network|user)$'\t'([A-Za-z0-9_.-]{1,15}|-)$'\t'([0-9./]+|dhcp|-)$'\t'([0-9.]+|-)$'\t'(yes|no)$'\t'([0-9./]+|-)$'\t'(yes|no)$'\t'(auto|iperf3|netserver|-)$'\t'([0-9]+|-)$ ]] ||
      orch_die "bad NIC line in KVM_NICS: $(printf '%q' "$line")"
    # a peer namespace's veth joins the bridge: only a bridge the job made (never a host's own)
    IFS=$'\t' read -r _ _ _ _ _ create _ pns _ _ <<<"$line"
    [[ $pns == no || $create == yes ]] || orch_die "NIC line in KVM_NICS: a peer namespace needs a bridge the job creates (create=yes): $(printf '%q' "$line")"
  done <<<"${KVM_NICS:-}"
}

# kvm_net_nics : KVM_NICS's lines (validated by kvm_net_validate), empty ones left out.
kvm_net_nics() {
  local line
  while IFS= read -r line; do
    [[ -n $line ]] && printf '%s\n' "$line"
  done <<<"${KVM_NICS:-}"
  return 0
}

# kvm_net_record KIND NAME : remember something this job made (net-down undoes it, newest first).
kvm_net_record() {
  printf '%s\t%s\n' "$1" "$2" >>"$KVM_STATE/net.tsv"
}

# kvm_net_up : the bridges and the peers' side (see the header).
kvm_net_up() {
  local idx type source address gateway create paddr pns tool port ns veth made=()
  [[ -n ${KVM_NICS:-} ]] || { orch_progress "no guest network" 1; return 0; }
  kvm_net_validate
  orch_require_cmd ip
  while IFS=$'\t' read -r idx type source address gateway create paddr pns tool port; do
    if [[ $create == yes ]]; then
      if ip link show dev "$source" >/dev/null 2>&1; then
        kvm_fail "bridge $source exists already: a bridge the job creates must be new (the job never touches a link it did not make)"
      fi
      ip link add name "$source" type bridge
      kvm_net_record bridge "$source"
      ip link set dev "$source" up
      made+=("bridge $source")
    elif [[ $type == bridge ]]; then
      ip -d link show dev "$source" 2>/dev/null | grep -q 'bridge ' || kvm_fail "NIC $idx: bridge $source is not on this host (or is not a bridge)"
    elif [[ $type == network ]]; then
      kvm_virsh net-info "$source" >/dev/null 2>&1 || kvm_fail "NIC $idx: libvirt network $source is not defined on ${KVM_LIBVIRT_URI:-qemu:///system}"
    fi
    [[ $paddr != - ]] || continue
    if [[ $pns == yes ]]; then
      ns=$(kvm_net_ns "$idx")
      veth=$(kvm_net_veth "$idx")
      ip netns add "$ns"
      kvm_net_record netns "$ns"
      ip link add "$veth" type veth peer name "${veth%h}p"
      kvm_net_record veth "$veth"
      ip link set "${veth%h}p" netns "$ns"
      ip link set "$veth" master "$source"
      ip link set "$veth" up
      ip -n "$ns" link set lo up
      ip -n "$ns" addr add "$paddr" dev "${veth%h}p"
      ip -n "$ns" link set "${veth%h}p" up
      made+=("namespace $ns ($paddr)")
    elif [[ $create == yes ]]; then
      ip addr add "$paddr" dev "$source"
      made+=("$paddr on $source")
    else
      ip -o addr show | grep -q " inet ${paddr%/*}/" || kvm_fail "NIC $idx: the peer's address ${paddr%/*} is not on this host"
    fi
  done < <(kvm_net_nics)
  orch_json_object nics n "$(kvm_net_nics | wc -l)" made s "${made[*]:-}" tag s "$(kvm_net_tag)" | orch_atomic_write "$ORCH_ARTIFACTS/net.json"
  orch_progress "guest network ready${made[*]:+: ${made[*]}}" 1
}

# kvm_net_down : everything kvm_net_up recorded, newest first; fails when something stays.
kvm_net_down() {
  local kind name left=0 removed=0 state=$KVM_STATE/net.tsv
  [[ -r $state ]] || { orch_progress "no guest network to remove" 1; return 0; }
  while IFS=$'\t' read -r kind name; do
    case $kind in
      veth) ip link del "$name" 2>/dev/null || true; ! ip link show dev "$name" >/dev/null 2>&1 || left=$((left + 1)) ;;
      netns) ip netns del "$name" 2>/dev/null || true; [[ ! -e /run/netns/$name ]] || left=$((left + 1)) ;;
      bridge) ip link del "$name" type bridge 2>/dev/null || true; ! ip link show dev "$name" >/dev/null 2>&1 || left=$((left + 1)) ;;
      *) continue ;;
    esac
    removed=$((removed + 1))
  done < <(tac -- "$state")
  ((left == 0)) || kvm_fail "$left link(s) or namespace(s) of this job's guest network could not be removed"
  rm -f -- "$state"
  orch_progress "guest network removed ($removed)" 1
}

# kvm_net_point_macs : a locally administered MAC per NIC for this point (KVM_NIC_MAC[index]).
kvm_net_point_macs() {
  local idx rest
  kvm_net_validate
  KVM_NIC_MAC=()
  while IFS=$'\t' read -r idx rest; do
    KVM_NIC_MAC[$idx]=$(od -An -N3 -tx1 /dev/urandom | awk '{ printf "52:54:00:%s:%s:%s", $1, $2, $3 }')
  done < <(kvm_net_nics)
}

# kvm_net_guest_files DIR : the guest's systemd-networkd files in DIR (one per NIC with an
# address), matched by the point's MACs; prints their paths (for KVM_GUEST_NET_FILES).
kvm_net_guest_files() {
  local dir=$1 idx type source address gateway create paddr pns tool port file
  kvm_net_validate
  while IFS=$'\t' read -r idx type source address gateway create paddr pns tool port; do
    [[ $address != - ]] || continue
    file=$dir/20-orchestrate-nic$idx.network
    {
      printf '# guest.network NIC %s (%s %s), written by the orchestrator for this point\n' "$idx" "$type" "$source"
      printf '[Match]\nMACAddress=%s\n\n[Network]\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n' "${KVM_NIC_MAC[$idx]}"
      if [[ $address == dhcp ]]; then
        printf 'DHCP=ipv4\n\n[DHCPv4]\nRouteMetric=%d\n' $((100 + idx))
      else
        printf 'Address=%s\n' "$address"
        [[ $gateway == - ]] || printf '\n[Route]\nGateway=%s\nMetric=%d\n' "$gateway" $((100 + idx))
      fi
    } >"$file"
    printf '%s\n' "$file"
  done < <(kvm_net_nics)
}

# kvm_net_peer_tool WANTED : the server to run: netserver where netperf is installed (auto), else iperf3.
kvm_net_peer_tool() {
  case $1 in
    netserver) orch_require_cmd netserver; printf 'netserver\n' ;;
    iperf3) orch_require_cmd iperf3; printf 'iperf3\n' ;;
    *)
      if orch_have_cmd netserver; then printf 'netserver\n'; else orch_require_cmd iperf3; printf 'iperf3\n'; fi
      ;;
  esac
}

# kvm_net_listening NS PORT PID : true when process PID listens on TCP PORT (in namespace NS, or
# here for "-"); another program already on the port does not count.
kvm_net_listening() {
  local out
  if [[ $1 == - ]]; then out=$(ss -Hltnp "sport = :$2" 2>/dev/null); else out=$(ip netns exec "$1" ss -Hltnp "sport = :$2" 2>/dev/null); fi
  [[ $out == *"pid=$3,"* ]]
}

# kvm_net_is_peer PID START : true while PID is the process that started at START (not a reused PID).
kvm_net_is_peer() {
  orch_start_time "$1"
  [[ -n $REPLY && $REPLY == "$2" ]]
}

# kvm_net_peers_start DIR : each NIC's peer server, in the background, by PID (KVM_PEER_PIDS);
# waits until each listens.
kvm_net_peers_start() {
  local dir=$1 idx type source address gateway create paddr pns tool port ns chosen pid start i
  local -a cmd
  kvm_net_validate
  while IFS=$'\t' read -r idx type source address gateway create paddr pns tool port; do
    [[ $paddr != - ]] || continue
    chosen=$(kvm_net_peer_tool "$tool")
    if [[ $port == - ]]; then
      if [[ $chosen == netserver ]]; then port=12865; else port=5201; fi
    fi
    if [[ $chosen == netserver ]]; then cmd=(netserver -D -L "${paddr%/*}" -p "$port"); else cmd=(iperf3 -s -B "${paddr%/*}" -p "$port"); fi
    ns=-
    if [[ $pns == yes ]]; then
      ns=$(kvm_net_ns "$idx")
      cmd=(ip netns exec "$ns" "${cmd[@]}")
    fi
    # ip netns exec execs the server: the PID is the server's
    "${cmd[@]}" >"$dir/peer-$idx.log" 2>&1 </dev/null &
    pid=$!
    orch_start_time "$pid"
    start=${REPLY:-0}
    KVM_PEER_PIDS+=("$pid")
    KVM_PEER_INFO+=("$idx $chosen ${paddr%/*} $port $ns $pid $start")
    # PID and start time: cleanup signals it only while that same process runs
    printf 'peer\t%s %s\n' "$pid" "$start" >>"$KVM_STATE/domains.tsv"
    for ((i = 0; i < 50; i++)); do
      kvm_net_listening "$ns" "$port" "$pid" && break
      kill -0 "$pid" 2>/dev/null || kvm_fail "NIC $idx: the peer ($chosen) exited at once (port $port already in use?): $(kvm_install_tail "$dir/peer-$idx.log")"
      sleep 0.1
    done
    kvm_net_listening "$ns" "$port" "$pid" || kvm_fail "NIC $idx: the peer ($chosen, PID $pid) does not listen on port $port after 5 s"
  done < <(kvm_net_nics)
}

# kvm_net_stop_pid PID START : TERM, then KILL after 3 s, each only while PID is the process that
# started at START (a reused PID is another program's: never signalled); true when it is gone.
kvm_net_stop_pid() {
  local pid=$1 start=$2 i
  kvm_net_is_peer "$pid" "$start" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < 30; i++)); do
    kvm_net_is_peer "$pid" "$start" || { wait "$pid" 2>/dev/null || true; return 0; }
    sleep 0.1
  done
  kvm_net_is_peer "$pid" "$start" && kill -KILL "$pid" 2>/dev/null
  wait "$pid" 2>/dev/null || true
  ! kvm_net_is_peer "$pid" "$start"
}

# kvm_net_peers_stop ART : every peer this point started, stopped by its PID; ART/peers.json says
# which ran where and whether it is gone.
kvm_net_peers_stop() {
  local art=$1 info idx tool addr port ns pid start gone json='' sep=''
  ((${#KVM_PEER_INFO[@]} > 0)) || return 0
  for info in "${KVM_PEER_INFO[@]}"; do
    read -r idx tool addr port ns pid start <<<"$info"
    if kvm_net_stop_pid "$pid" "$start"; then
      gone=true
      # cleanup skips a peer marked stopped (its PID may belong to another program by then)
      printf 'peer_stopped\t%s %s\n' "$pid" "$start" >>"$KVM_STATE/domains.tsv"
    else
      gone=false
    fi
    json+="$sep{\"nic\":$idx,\"tool\":\"$tool\",\"address\":\"$addr\",\"port\":$port,\"namespace\":$(orch_json_string "$ns"),\"pid\":$pid,\"stopped\":$gone}"
    sep=,
  done
  [[ -n $art && -d $art ]] && printf '[%s]\n' "$json" | orch_atomic_write "$art/peers.json"
  KVM_PEER_INFO=() KVM_PEER_PIDS=()
}
