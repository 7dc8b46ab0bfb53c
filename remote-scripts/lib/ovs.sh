# shellcheck shell=bash
# Open vSwitch for the ovs_* topologies: the switch the job uses (the host's, or a private one the
# job starts and stops), bridges on its userspace datapath (datapath_type=netdev: no kernel module
# needed), ports, OpenFlow rules, and the datapath's counters read through ovs-appctl.
#
# Which switch:
#  - the host's, when the host runs Open vSwitch: its ovs-vswitchd pid file (OVS_HOST_RUNDIR,
#    default /var/run/openvswitch) names a live ovs-vswitchd process and its database socket
#    (db.sock) is there. Never started, never stopped by a job; only the bridges the job created
#    are removed (a bridge that exists already is refused, never taken over). Refused when it has
#    no userspace datapath, unless OVS_HOST_ALLOW_NETDEV=1 (ovs_host_netdev_allowed).
#  - else a private one: ovsdb-server and ovs-vswitchd of this job, with their own database (made by
#    ovsdb-tool from the installed schema), pid files, control sockets, logs and database socket in
#    the job's run directory, inside a network namespace of the job (PREFIX-ovs), and stopped by
#    PID at teardown. The namespace is needed: the userspace datapath is one per network namespace
#    (it makes a tap "ovs-netdev" there, which a second instance in the same namespace cannot
#    open: "creating tap device failed: Device or resource busy"), and several jobs share a
#    kernel. The topology's two bindings move into that namespace; deleting it removes every
#    device the switch made (its taps are persistent and would outlive the daemons otherwise).
#
# State (OVS_STATE = $TOPOLOGY_STATE_DIR/ovs, read back by later phases, never sourced):
#   mode              "host" or "private"
#   rundir            the switch's run directory (pid files, sockets)
#   netns             the private switch's namespace (private only)
#   pids/NAME         "PID STARTTIME" of a daemon this job started (private only)
#   bridges/NAME      a bridge this job created (only these are ever deleted, in either mode)
#   netdev            host mode: "existing" (the host's switch had a userspace datapath already)
#                     or "allowed" (it had none; OVS_HOST_ALLOW_NETDEV=1 let the job make one)
# Sourced by topologies; needs TOPOLOGY_STATE_DIR and TOPOLOGY_PREFIX.

OVS_SCHEMA=${OVS_SCHEMA:-/usr/share/openvswitch/vswitch.ovsschema}

# ovs_state_dir : print this job's OVS state directory.
ovs_state_dir() {
  printf '%s/ovs' "${TOPOLOGY_STATE_DIR:?TOPOLOGY_STATE_DIR is not set}"
}

# ovs_state_get KEY : print a state value (nothing when unset).
ovs_state_get() {
  local file
  file=$(ovs_state_dir)/$1
  [[ -r $file ]] || return 0
  head -n 1 -- "$file"
}

# ovs_state_set KEY VALUE : record a state value (temp + rename).
ovs_state_set() {
  local file
  file=$(ovs_state_dir)/$1
  mkdir -p -- "${file%/*}"
  printf '%s\n' "$2" >"$file.tmp"
  mv -f -- "$file.tmp" "$file"
}

# ovs_tools_missing : print the Open vSwitch programs that are not installed (nothing when all are).
ovs_tools_missing() {
  local cmd
  for cmd in ovsdb-tool ovsdb-server ovs-vswitchd ovs-vsctl ovs-appctl ovs-ofctl; do
    command -v "$cmd" >/dev/null 2>&1 || printf '%s ' "$cmd"
  done
  return 0
}

# ovs_pid_is PID PROGRAM : PID is a live (not zombie) process running PROGRAM (its executable).
ovs_pid_is() {
  local exe
  [[ $1 =~ ^[0-9]+$ ]] || return 1
  exe=$(readlink "/proc/$1/exe" 2>/dev/null) || return 1
  [[ ${exe##*/} == "$2" ]] || return 1
  orch_start_time "$1" # lib/common.sh: '' for a zombie or a process gone
  [[ -n $REPLY ]]
}

# ovs_host_rundir : print the host's Open vSwitch run directory when a live ovs-vswitchd and its
# database socket are there (decided by its pid file and socket, never by process names alone).
ovs_host_rundir() {
  local dir=${OVS_HOST_RUNDIR:-/var/run/openvswitch} pid
  [[ -r $dir/ovs-vswitchd.pid && -S $dir/db.sock ]] || return 1
  read -r pid <"$dir/ovs-vswitchd.pid" || return 1
  ovs_pid_is "$pid" ovs-vswitchd || return 1
  printf '%s' "$dir"
}

# ovs_mode : print "host" or "private" (what setup chose), or nothing before setup.
ovs_mode() {
  ovs_state_get mode
}

# ovs_netns : the private switch's namespace (empty with the host's switch).
ovs_netns() {
  ovs_state_get netns
}

# ovs_in_ns CMD... : run CMD where the switch's ports live (the private namespace, or here).
ovs_in_ns() {
  local ns
  ns=$(ovs_netns)
  if [[ -n $ns ]]; then
    ip netns exec "$ns" "$@"
  else
    "$@"
  fi
}

# ovs_vsctl ARGS... : ovs-vsctl against the switch's database.
ovs_vsctl() {
  local run
  run=$(ovs_state_get rundir)
  [[ -n $run ]] || { printf 'ovs: no switch recorded (setup did not run)\n' >&2; return 1; }
  ovs-vsctl --db="unix:$run/db.sock" --timeout=20 "$@"
}

# ovs_ctl_path : the control socket of the switch's ovs-vswitchd.
ovs_ctl_path() {
  local run pid
  run=$(ovs_state_get rundir)
  if [[ $(ovs_mode) == private ]]; then
    printf '%s/ovs-vswitchd.ctl' "$run"
  else
    read -r pid <"$run/ovs-vswitchd.pid" || return 1
    printf '%s/ovs-vswitchd.%s.ctl' "$run" "$pid"
  fi
}

# ovs_appctl ARGS... : ovs-appctl to the switch's ovs-vswitchd.
ovs_appctl() {
  local ctl
  ctl=$(ovs_ctl_path) || return 1
  ovs-appctl -t "$ctl" --timeout=10 "$@"
}

# ovs_ofctl VERB BRIDGE ARGS... : ovs-ofctl on BRIDGE through its management socket.
ovs_ofctl() {
  local verb=$1 br=$2 run
  shift 2
  run=$(ovs_state_get rundir)
  ovs-ofctl "$verb" "unix:$run/$br.mgmt" "$@"
}

# ovs_vswitchd_pid : the PID of the switch's ovs-vswitchd (the host's or this job's).
ovs_vswitchd_pid() {
  local run pid
  run=$(ovs_state_get rundir)
  [[ -n $run && -r $run/ovs-vswitchd.pid ]] || return 1
  read -r pid <"$run/ovs-vswitchd.pid" || return 1
  ovs_pid_is "$pid" ovs-vswitchd || return 1
  printf '%s' "$pid"
}

# ovs_record_daemon NAME PROGRAM : record the daemon whose pid file RUNDIR/NAME.pid the daemon
# wrote (PID and start time), after checking that the PID runs PROGRAM.
ovs_record_daemon() {
  local name=$1 program=$2 run pid i start
  run=$(ovs_state_get rundir)
  for ((i = 0; i < 100; i++)); do
    if [[ -s $run/$name.pid ]] && read -r pid <"$run/$name.pid" && ovs_pid_is "$pid" "$program"; then
      orch_start_time "$pid"
      start=$REPLY
      [[ -n $start ]] || return 1
      ovs_state_set "pids/$name" "$pid $start"
      return 0
    fi
    sleep 0.05
  done
  printf 'ovs: %s did not write a pid file naming a running %s (%s/%s.pid); its log: %s\n' \
    "$name" "$program" "$run" "$name" "$(tail -n 3 "$run/$name.log" 2>/dev/null | paste -sd ' ')" >&2
  return 1
}

# ovs_daemon_pid NAME : the PID of a daemon this job started, when it still runs that process: the
# recorded PID and start time, or (a setup that failed before recording it) the PID in the daemon's
# own pid file in the job's run directory, when that process runs NAME with that very pid file.
ovs_daemon_pid() {
  local rec pid start run
  rec=$(ovs_state_get "pids/$1")
  if [[ -n $rec ]]; then
    read -r pid start <<<"$rec"
    orch_start_time "$pid"
    [[ $REPLY == "$start" ]] || return 1
    ovs_pid_is "$pid" "$1" || return 1
    printf '%s' "$pid"
    return 0
  fi
  [[ $(ovs_mode) == private ]] || return 1
  run=$(ovs_state_get rundir)
  [[ -n $run && -r $run/$1.pid ]] || return 1
  read -r pid <"$run/$1.pid" || return 1
  ovs_pid_is "$pid" "$1" || return 1
  tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null | grep -qxF -- "--pidfile=$run/$1.pid" || return 1
  printf '%s' "$pid"
}

# ovs_stop_daemon NAME : stop a daemon this job started, by its PID (TERM, KILL after 5 s), and wait
# until that process is gone (not merely exiting: its /proc entry, with the same start time, is
# gone or a zombie).
ovs_stop_daemon() {
  local name=$1 pid start i
  if pid=$(ovs_daemon_pid "$name"); then
    orch_start_time "$pid"
    start=$REPLY
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 50; i++)); do
      ovs_process_gone "$pid" "$start" && break
      sleep 0.1
    done
    if ! ovs_process_gone "$pid" "$start"; then
      printf 'ovs: %s (pid %s) ignored TERM; killing it\n' "$name" "$pid" >&2
      kill -KILL "$pid" 2>/dev/null || true
      for ((i = 0; i < 20; i++)); do
        ovs_process_gone "$pid" "$start" && break
        sleep 0.1
      done
    fi
    ovs_process_gone "$pid" "$start" || return 1
  fi
  rm -f -- "$(ovs_state_dir)/pids/$name"
}

# ovs_process_gone PID START : the process PID that started at START no longer runs (its /proc
# entry is gone, belongs to a newer process, or is a zombie). No fork: it is polled every 0.1 s.
ovs_process_gone() {
  orch_start_time "$1" # lib/common.sh: '' for a zombie or a process gone
  [[ -z $REPLY || (-n $2 && $REPLY != "$2") ]]
}

# ovs_private_start : this job's ovsdb-server and ovs-vswitchd, in a namespace of the job, with
# everything they write in the job's run directory.
ovs_private_start() {
  local run ns=${TOPOLOGY_PREFIX:?}-ovs
  run=$(ovs_state_dir)/run
  [[ -r $OVS_SCHEMA ]] || { printf 'ovs: no database schema at %s (package openvswitch-common)\n' "$OVS_SCHEMA" >&2; return 1; }
  mkdir -p -- "$run"
  ovs_state_set mode private
  ovs_state_set rundir "$run"
  ip netns add "$ns"
  ovs_state_set netns "$ns"
  ip -n "$ns" link set lo up
  rm -f -- "$run/conf.db"
  ovsdb-tool create "$run/conf.db" "$OVS_SCHEMA"
  # OVS_* point every default (sockets, pid files, logs, the schema) at the job's directory.
  OVS_RUNDIR=$run OVS_DBDIR=$run OVS_LOGDIR=$run OVS_PKGDATADIR=${OVS_SCHEMA%/*} \
    ip netns exec "$ns" ovsdb-server "$run/conf.db" --remote="punix:$run/db.sock" \
    --pidfile="$run/ovsdb-server.pid" --unixctl="$run/ovsdb-server.ctl" \
    --log-file="$run/ovsdb-server.log" -vconsole:off --detach --no-chdir
  ovs_record_daemon ovsdb-server ovsdb-server
  ovs_vsctl --no-wait init
  OVS_RUNDIR=$run OVS_DBDIR=$run OVS_LOGDIR=$run OVS_PKGDATADIR=${OVS_SCHEMA%/*} \
    ip netns exec "$ns" ovs-vswitchd "unix:$run/db.sock" \
    --pidfile="$run/ovs-vswitchd.pid" --unixctl="$run/ovs-vswitchd.ctl" \
    --log-file="$run/ovs-vswitchd.log" -vconsole:off --detach --no-chdir
  ovs_record_daemon ovs-vswitchd ovs-vswitchd
}

# ovs_use_host RUNDIR : use the host's running Open vSwitch.
ovs_use_host() {
  ovs_state_set mode host
  ovs_state_set rundir "$1"
  ovs_state_set netns ''
  ovs_host_netdev_allowed
}

# ovs_host_netdev_allowed : the job's bridges are datapath_type=netdev. On a host switch without a
# userspace datapath, the first such bridge makes one in the host's ovs-vswitchd: its threads and
# an "ovs-netdev" tap in the host's root namespace (Open vSwitch 3.1 removes both with the last
# netdev bridge; a teardown that cannot delete the job's bridges, or a switch stopped meanwhile,
# leaves them). So in host mode the job refuses unless the host's switch already has that
# datapath (ovs-appctl dpctl/dump-dps lists netdev@ovs-netdev) or the host var
# OVS_HOST_ALLOW_NETDEV=1 accepts it (then ovs_leftovers reports the tap if it is there after).
ovs_host_netdev_allowed() {
  local dps
  # dump-dps fails ("server returned an error") when a datapath type has none to list, e.g. a
  # switch with no datapath at all: its output still lists those it found; version tells whether
  # the switch answers at all.
  dps=$(ovs_appctl dpctl/dump-dps 2>/dev/null) || ovs_appctl version >/dev/null ||
    { printf "ovs: the host's ovs-vswitchd (%s) does not answer ovs-appctl\n" "$(ovs_state_get rundir)" >&2; return 1; }
  if grep -qxF 'netdev@ovs-netdev' <<<"$dps"; then
    ovs_state_set netdev existing
  elif [[ ${OVS_HOST_ALLOW_NETDEV:-} == 1 ]]; then
    ovs_state_set netdev allowed
  else
    printf "ovs: the host's Open vSwitch (%s) has no userspace datapath (dpctl/dump-dps lists no netdev@ovs-netdev); the job's datapath_type=netdev bridges would create one in the host's ovs-vswitchd, with an ovs-netdev tap in the host's root namespace. Refused; set the host var OVS_HOST_ALLOW_NETDEV=1 to accept that\n" "$(ovs_state_get rundir)" >&2
    return 1
  fi
}

# ovs_switch_up : the host's switch when it runs one, else a private one. Prints the mode.
ovs_switch_up() {
  local missing host
  missing=$(ovs_tools_missing)
  [[ -z $missing ]] || { printf 'ovs: not installed: %s(Debian package openvswitch-switch)\n' "$missing" >&2; return 1; }
  if host=$(ovs_host_rundir); then
    ovs_use_host "$host"
  else
    ovs_private_start
  fi
}

# ovs_switch_down : stop the private switch by PID and delete its namespace (with every device in
# it); with the host's switch nothing is stopped. Quiet when nothing was set up.
ovs_switch_down() {
  local ns rc=0
  [[ $(ovs_mode) == private ]] || return 0
  ovs_stop_daemon ovs-vswitchd || rc=1
  ovs_stop_daemon ovsdb-server || rc=1
  ns=$(ovs_netns)
  if [[ -n $ns && -e /run/netns/$ns ]]; then
    ip netns del "$ns" || rc=1
  fi
  return "$rc"
}

# ovs_port_in BINDING : the topology's veth end BINDING moved where the switch can open it.
ovs_port_in() {
  local ns
  ns=$(ovs_netns)
  if [[ -n $ns ]]; then
    ip link set "$1" netns "$ns"
    ip -n "$ns" link set "$1" up
  fi
}

# ovs_no_tx_csum NS DEV : transmit checksum offload off on a veth end (NS empty: here). Packets a
# kernel sends through a veth carry a partial checksum the userspace datapath does not complete,
# so TCP between the namespaces fails without this. Prints what was done: "ethtool", or why not.
ovs_no_tx_csum() {
  local ns=$1 dev=$2
  local -a in=()
  [[ -z $ns ]] || in=(ip netns exec "$ns")
  if command -v ethtool >/dev/null 2>&1; then
    "${in[@]}" ethtool -K "$dev" tx off >/dev/null 2>&1 && { printf 'ethtool'; return 0; }
    printf 'ethtool -K %s tx off failed' "$dev"
    return 0
  fi
  printf 'ethtool is not installed (Debian package ethtool): transmit checksum offload left on'
}

# ovs_add_bridge BR : a new bridge on the userspace datapath, no OpenFlow rules from the switch's
# defaults beyond what the topology adds (fail_mode secure: no NORMAL flow of its own). Refused
# when BR exists (a bridge of the host's, never taken over); recorded as created (bridges/BR).
ovs_add_bridge() {
  local rc=0
  ovs_vsctl br-exists "$1" || rc=$?
  if ((rc == 0)); then
    printf 'ovs: bridge %s already exists on the switch (%s); refusing to take over a bridge this job did not create\n' "$1" "$(ovs_state_get rundir)" >&2
    return 1
  fi
  ((rc == 2)) || return 1 # ovs-vsctl br-exists: 2 means absent; anything else, the switch did not answer
  ovs_vsctl -- add-br "$1" -- set bridge "$1" datapath_type=netdev fail_mode="${2:-standalone}"
  ovs_state_set "bridges/$1" created
}

# ovs_add_port BR DEV OFPORT : DEV as OpenFlow port OFPORT of BR (fails when DEV is a port already).
ovs_add_port() {
  ovs_vsctl -- add-port "$1" "$2" -- set interface "$2" ofport_request="$3"
}

# ovs_job_bridges : the bridges this job created and has not deleted, one a line.
ovs_job_bridges() {
  local dir f
  dir=$(ovs_state_dir)/bridges
  [[ -d $dir ]] || return 0
  for f in "$dir"/*; do
    [[ -f $f && $f != *.tmp ]] && printf '%s\n' "${f##*/}"
  done
  return 0
}

# ovs_del_job_bridges : remove every bridge this job created (and its ports) when the switch still
# answers; a bridge the job did not create is never deleted. Quiet when there are none.
ovs_del_job_bridges() {
  local mode br rc=0
  mode=$(ovs_mode)
  [[ -n $mode ]] || return 0
  if [[ $mode == private ]] && ! ovs_daemon_pid ovsdb-server >/dev/null; then
    return 0 # the private switch is gone, and its namespace takes the devices with it
  fi
  while read -r br; do
    [[ -n $br ]] || continue
    if ovs_vsctl --if-exists del-br "$br"; then
      rm -f -- "$(ovs_state_dir)/bridges/$br"
    else
      rc=1
    fi
  done < <(ovs_job_bridges)
  return "$rc"
}

# ovs_datapath_json : one JSON object of the datapath's counters and the upcall machinery, read
# through ovs-appctl (dpctl/show, upcall/show, coverage/show):
#   flows, hit, missed, lost            datapath flows now; lookups since the datapath started
#   upcall_flows, upcall_flows_limit    flows the revalidators track; the flow limit
#   dump_duration_ms                    the revalidators' last dump of the datapath
#   handlers, revalidators              threads
#   flow_put, flow_del, upcall_ukey_replace, revalidate_missed                coverage totals
#   socket_drops                        packets the kernel dropped at ovs-vswitchd's packet sockets
#                                       (their receive queues full: the switch did not read in time)
# Fields a version of Open vSwitch does not print are null.
ovs_datapath_json() {
  local dp up cov drops
  dp=$(ovs_appctl dpctl/show 2>/dev/null) || return 1
  up=$(ovs_appctl upcall/show 2>/dev/null) || up=''
  cov=$(ovs_appctl coverage/show 2>/dev/null) || cov=''
  drops=$(ovs_socket_drops) || drops=''
  awk -v up="$up" -v cov="$cov" -v drops="$drops" '
    function num(v) { return (v == "") ? "null" : v }
    /lookups:/ { for (i = 1; i <= NF; i++) { split($i, kv, ":"); if (kv[1] == "hit") hit += kv[2]; else if (kv[1] == "missed") missed += kv[2]; else if (kv[1] == "lost") lost += kv[2] }; seen = 1 }
    /^[[:space:]]*flows:/ { flows += $2 }
    END {
      n = split(up, u, "\n")
      for (i = 1; i <= n; i++) {
        line = u[i]
        if (line ~ /^[[:space:]]*flows[[:space:]]*:/) {
          # "flows         : (current 3) (avg 3) (max 10) (limit 10000)"
          if (match(line, /current [0-9]+/)) ucur = substr(line, RSTART + 8, RLENGTH - 8)
          if (match(line, /limit [0-9]+/)) ulim = substr(line, RSTART + 6, RLENGTH - 6)
        }
        if (line ~ /^[[:space:]]*dump duration/) { if (match(line, /[0-9]+ms/)) dump = substr(line, RSTART, RLENGTH - 2) }
        if (line ~ /^[[:space:]]*[0-9]+:[[:space:]]*\(keys/) revalidators++
      }
      if (up ~ /handler/) { m = split(up, h, "handler"); handlers = m - 1 }
      n = split(cov, c, "\n")
      for (i = 1; i <= n; i++) {
        k = split(c[i], f, /[[:space:]]+/)
        # "name   0.0/sec   0.000/sec   0.0000/sec   total: 123"
        name = (f[1] == "") ? f[2] : f[1]
        total = f[k]
        if (c[i] !~ /total:/) continue
        if (name == "dpif_flow_put") put = total
        else if (name == "dpif_flow_del") del = total
        else if (name == "upcall_ukey_replace") repl = total
        else if (name == "revalidate_missed_dp_flow") rmiss = total
      }
      if (!seen) exit 1
      printf "{\"socket_drops\":%s,", num(drops)
      printf "\"flows\":%d,\"hit\":%d,\"missed\":%d,\"lost\":%d,\"upcall_flows\":%s,\"upcall_flows_limit\":%s,\"dump_duration_ms\":%s,\"handlers\":%d,\"revalidators\":%d,\"flow_put\":%s,\"flow_del\":%s,\"upcall_ukey_replace\":%s,\"revalidate_missed\":%s}",
        flows, hit, missed, lost, num(ucur), num(ulim), num(dump), handlers, revalidators, num(put), num(del), num(repl), num(rmiss)
    }' <<<"$dp"
}

# ovs_topology_ports_prepare : the topology's two bindings where the switch opens them, transmit
# checksum offload off on both ends of both veth pairs; what was done recorded as state csum.
ovs_topology_ports_prepare() {
  local ns how
  ovs_port_in "$TOPOLOGY_SOURCE_BINDING"
  ovs_port_in "$TOPOLOGY_DEST_BINDING"
  ns=$(ovs_netns)
  how=$(ovs_no_tx_csum "$ns" "$TOPOLOGY_SOURCE_BINDING")
  ovs_no_tx_csum "$ns" "$TOPOLOGY_DEST_BINDING" >/dev/null
  ovs_no_tx_csum "${TOPOLOGY_SOURCE_NS:?}" "${TOPOLOGY_SOURCE_IF:?}" >/dev/null
  ovs_no_tx_csum "${TOPOLOGY_DEST_NS:?}" "${TOPOLOGY_DEST_IF:?}" >/dev/null
  ovs_state_set csum "$how"
  [[ $how == ethtool ]] || printf 'ovs: %s\n' "$how" >&2
}

# ovs_exact_flows_when_private : with the private switch, megaflows off: every packet that differs
# in any field (every probe: a new destination port) is a new datapath flow. The host's switch is
# left alone (the setting is switch-wide). Recorded as state megaflows (off | host).
ovs_exact_flows_when_private() {
  if [[ $(ovs_mode) == private ]]; then
    ovs_appctl upcall/disable-megaflows >/dev/null
    ovs_state_set megaflows off
  else
    ovs_state_set megaflows host
  fi
}

# ovs_print_switch BR... : the switch, its bridges' ports and OpenFlow rules, the datapath.
ovs_print_switch() {
  local br
  [[ -n $(ovs_mode) ]] || return 0
  printf 'switch: %s, run directory %s, namespace %s, megaflows %s, checksum offload: %s\n' \
    "$(ovs_mode)" "$(ovs_state_get rundir)" "$(ovs_netns)" "$(ovs_state_get megaflows)" "$(ovs_state_get csum)"
  ovs_appctl version 2>&1 || true
  ovs_vsctl show 2>&1 || true
  for br in "$@"; do
    ovs_ofctl dump-flows "$br" 2>&1 || true
  done
  ovs_appctl dpctl/show 2>&1 || true
}

# ovs_leftovers : print what this job's switch left: daemons it started that still run, its
# namespace, and (with the host's switch) the bridges the job created still in the host's database
# and the userspace datapath's tap when the job made that datapath (OVS_HOST_ALLOW_NETDEV=1).
ovs_leftovers() {
  local name pid br ns
  for name in ovs-vswitchd ovsdb-server; do
    if pid=$(ovs_daemon_pid "$name"); then printf 'process %s %s\n' "$name" "$pid"; fi
  done
  ns=$(ovs_netns)
  [[ -z $ns || ! -e /run/netns/$ns ]] || printf 'namespace %s\n' "$ns"
  if [[ $(ovs_mode) == host ]]; then
    while read -r br; do
      [[ -n $br ]] || continue
      ovs_vsctl br-exists "$br" 2>/dev/null && printf 'bridge %s\n' "$br"
    done < <(ovs_job_bridges)
    if [[ $(ovs_state_get netdev) == allowed && -e /sys/class/net/ovs-netdev ]]; then
      printf "link ovs-netdev (the userspace datapath this job made on the host's switch; OVS_HOST_ALLOW_NETDEV=1)\n"
    fi
  fi
  return 0
}

# ovs_datapath_flush_when_private : with the private switch, empty the datapath's flow table, so
# the next burst finds no flow of an earlier one (its probes reuse ports 1..N and would hit flows
# that have not idled out yet): every probe is a new flow, as the original test meant. The host's
# datapath is shared with its other bridges and is never flushed.
ovs_datapath_flush_when_private() {
  [[ $(ovs_mode) == private ]] || return 0
  # revalidator/purge, not dpctl/del-flows: the revalidators drop their own records (ukeys) of the
  # flows too; after del-flows they keep them, and the next burst's upcalls for the same packets
  # fail to install flows (counted "lost", though the packets are forwarded).
  ovs_appctl revalidator/purge >/dev/null
}

# ovs_requirements : print what this host lacks for an ovs_* topology (nothing when it has all).
ovs_requirements() {
  local missing
  missing=$(ovs_tools_missing)
  if [[ -n $missing ]]; then
    printf 'not installed: %s(Debian package openvswitch-switch)' "$missing"
  elif ! ovs_host_rundir >/dev/null && [[ ! -r $OVS_SCHEMA ]]; then
    printf 'no Open vSwitch database schema at %s (package openvswitch-common) to start a private switch' "$OVS_SCHEMA"
  fi
  return 0
}

# ovs_socket_drops : packets dropped at the switch's packet sockets (the ports' receive queues, read
# with `ss -0 -m`: skmem's d), summed; fails when ss is missing or the switch is not found.
ovs_socket_drops() {
  local pid
  command -v ss >/dev/null 2>&1 || return 1
  pid=$(ovs_vswitchd_pid) || return 1
  ovs_in_ns ss -0 -a -m -p 2>/dev/null | awk -v p="pid=$pid," '
    index($0, p) && match($0, /skmem:\([^)]*\)/) {
      n = split(substr($0, RSTART + 6, RLENGTH - 7), f, ",")
      for (i = 1; i <= n; i++) if (f[i] ~ /^d[0-9]+$/) { sum += substr(f[i], 2); seen = 1 }
    }
    END { if (!seen) exit 1; print sum + 0 }'
}

# ---------------------------------------------------------------------------------------------
# The optional topology hooks (README, "Adding a topology"), answered the same way by every ovs_*
# topology: they source this file, so defining them here gives each of them all six.

topology_agent_pid() {
  ovs_vswitchd_pid
}

topology_datapath_json() {
  ovs_datapath_json
}

topology_binding_ns() {
  ovs_netns
}

topology_leftovers() {
  ovs_leftovers
}

topology_datapath_reset() {
  ovs_datapath_flush_when_private
}

topology_requirements() {
  ovs_requirements
}
