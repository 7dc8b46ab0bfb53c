# shellcheck shell=bash
# The kernel packet generator (pktgen, CONFIG_NET_PKTGEN) as a traffic generator: a kernel
# thread of the source namespace sends the burst from the source interface at a fixed rate
# (ratep), far above what nmap reaches from user space. Needs /proc/net/pktgen (modprobe pktgen is
# tried); refused at the check phase where the kernel has no pktgen. Only the refusal exists so far:
# the sender is to come (pktgen sends UDP only, so the captures must then match UDP probes too).
# Sourced, never executed; needs lib/midolman-common.sh and lib/traffic-common.sh.

# traffic_pktgen_available : print why pktgen cannot run, or nothing.
traffic_pktgen_available() {
  if [[ ! -d /proc/net/pktgen ]] && orch_have_cmd modprobe; then
    modprobe pktgen >/dev/null 2>&1 || true
  fi
  if [[ -d /proc/net/pktgen ]]; then
    # The table entry and its refusal are in; the sender (pgset of count/ratep/dst/udp_dst_min..max
    # on the source interface, UDP probes matched by the captures) is not written yet: it could
    # not be run on the kernel it was developed on (no CONFIG_NET_PKTGEN).
    declare -F traffic_pktgen_send >/dev/null ||
      printf 'this bundle has no pktgen sender yet (traffic_pktgen_send); use generator: trafgen or nmap'
    return 0
  fi
  local config='' why
  why="/proc/net/pktgen does not exist on kernel $(uname -r)"
  if [[ -r /proc/config.gz ]]; then
    config=$(zcat /proc/config.gz 2>/dev/null || true)
  elif [[ -r /boot/config-$(uname -r) ]]; then
    config=$(<"/boot/config-$(uname -r)")
  fi
  if [[ $config == *'# CONFIG_NET_PKTGEN is not set'* ]]; then
    why+=" (built without CONFIG_NET_PKTGEN: no pktgen module exists for it)"
  elif ! orch_have_cmd modprobe; then
    why+=" and modprobe is not installed to load the pktgen module"
  else
    why+=" and 'modprobe pktgen' did not load it"
  fi
  printf '%s; use generator: trafgen or nmap' "$why"
}
