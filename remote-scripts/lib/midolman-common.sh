# shellcheck shell=bash disable=SC2034 # variables here are read by the sourcing helpers
# The midolman scenario's shared state: per-job names (namespaces, interfaces, the fixed nmap
# source port), the job's state directory, the resolved profile, and processes that outlive a
# phase (collectors), started detached and stopped by PID only. Sourced, never executed;
# needs lib/common.sh, lib/json.sh, lib/events.sh.

# mm_init : set MM_* names for this job and export what topologies use.
# Every lab host shares one kernel, so all names derive from a hash of sweep and job ids:
# "mp" + 6 hex digits, and interface names stay well under the 15-character limit.
mm_init() {
  : "${ORCH_JOB_DIR:?ORCH_JOB_DIR is not set (run through orchestrate-agent)}"
  : "${ORCH_ARTIFACTS:?ORCH_ARTIFACTS is not set}"
  local hash
  hash=$(printf '%s/%s' "${ORCH_SWEEP_ID:-sweep}" "${ORCH_JOB_ID:-job}" | sha256sum)
  MM_PREFIX=${MIDOLMAN_PREFIX:-mp${hash:0:6}}
  [[ $MM_PREFIX =~ ^[a-z][a-z0-9]{1,8}$ ]] || orch_die "MIDOLMAN_PREFIX must be 2-9 of [a-z0-9] starting with a letter, got '$MM_PREFIX'"
  MM_STATE=$ORCH_JOB_DIR/midolman
  MM_SRC_NS=$MM_PREFIX-src
  MM_DST_NS=$MM_PREFIX-dst
  MM_SRC_IF=${MM_PREFIX}sn # inside the source namespace
  MM_DST_IF=${MM_PREFIX}dn # inside the destination namespace
  # nmap's fixed source port (-g): it marks this job's probes in captures.
  MM_SPORT=$((40000 + 16#${hash:6:4} % 20000))
  export TOPOLOGY_PREFIX=$MM_PREFIX
  export TOPOLOGY_SOURCE_NS=$MM_SRC_NS TOPOLOGY_DEST_NS=$MM_DST_NS
  # The root-namespace ends of the veth pairs: what the topology binds (bridge ports,
  # MidoNet port bindings), as the seed's leftdp/rightdp.
  export TOPOLOGY_SOURCE_BINDING=${MM_PREFIX}sd TOPOLOGY_DEST_BINDING=${MM_PREFIX}dd
  # The namespace ends (topologies that tune both ends of a veth pair use them).
  export TOPOLOGY_SOURCE_IF=$MM_SRC_IF TOPOLOGY_DEST_IF=$MM_DST_IF
  # Setup and tear-down run in different phases (processes): what a topology keeps lives here.
  export TOPOLOGY_STATE_DIR=$MM_STATE/topology
  mkdir -p -- "$MM_STATE/pids" "$ORCH_ARTIFACTS"
}

# mm_need_uint NAME VALUE : fail unless VALUE is a whole number.
mm_need_uint() {
  [[ $2 =~ ^[0-9]+$ ]] || orch_die "$1 must be a whole number, got '$2'"
}

# mm_now : seconds since the epoch with microseconds (lib/events.sh orch_now: a '.' whatever the
# locale's decimal separator).
mm_now() {
  orch_now
  printf '%s' "$REPLY"
}

# mm_seconds FROM TO : TO - FROM (seconds since the epoch) with milliseconds.
mm_seconds() {
  awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'
}

# ---------------------------------------------------------------------------------------------
# Profile

# Knobs of perftests.conf, with the seed's defaults (THROUGHPUT_SCAN_MAX_RATE etc. from v0). The
# orchestrator resolves them (orchestrator/scenarios/midolman/profile.ts, PROFILE_KNOBS holds the
# same defaults); the profile phase checks and applies what it sent.
MM_PROFILE_KNOBS=(
  THROUGHPUT_SCAN_START_RATE=1000
  THROUGHPUT_SCAN_STEP=500
  THROUGHPUT_SCAN_MAX_RATE=3000
  THROUGHPUT_SCAN_BURST=65000
  THROUGHPUT_SCAN_PAUSE_SECONDS=10
  WARMUP_RATE=100
  WARMUP_BURST=6000
  WARMUP_ITERATIONS=10
  WARMUP_SETTLE_SECONDS=90
  LONG_RUNNING_SCAN_ITERATIONS=120
  LONG_RUNNING_SCAN_RATE=1000
  LONG_RUNNING_SCAN_BURST=50000
)

# mm_profile_is_knob NAME : true when NAME is one of MM_PROFILE_KNOBS.
mm_profile_is_knob() {
  local knob
  for knob in "${MM_PROFILE_KNOBS[@]}"; do
    [[ ${knob%%=*} == "$1" ]] && return 0
  done
  return 1
}

# mm_profile_load : source the resolved profile written by the profile phase.
mm_profile_load() {
  [[ -r $MM_STATE/profile.env ]] || orch_die "no resolved profile ($MM_STATE/profile.env): the profile phase did not run"
  # shellcheck source=/dev/null
  . "$MM_STATE/profile.env"
}

# ---------------------------------------------------------------------------------------------
# Detached processes (collectors), recorded as "PID STARTTIME" in $MM_STATE/pids/NAME.

# mm_proc_start NAME LOG CMD... : start CMD in its own session, detached from the phase.
mm_proc_start() {
  local name=$1 log=$2 pid start
  shift 2
  setsid "$@" </dev/null >>"$log" 2>&1 3>&- &
  pid=$!
  orch_start_time "$pid" # lib/common.sh: '' once the process is gone (or a zombie)
  start=$REPLY
  [[ -n $start ]] || orch_die "$name ended at once; see $log"
  printf '%s %s\n' "$pid" "$start" | orch_atomic_write "$MM_STATE/pids/$name"
}

# mm_proc_pid NAME : print the PID of NAME when it still runs the process we started.
mm_proc_pid() {
  local file=$MM_STATE/pids/$1 pid start
  [[ -r $file ]] || return 1
  read -r pid start <"$file" || return 1
  # no fork (mm_proc_stop polls it): '' for a process gone or a zombie, another time for a reused PID
  orch_start_time "$pid"
  [[ -n $REPLY && $REPLY == "$start" ]] || return 1
  printf '%s' "$pid"
}

# mm_proc_stop NAME [SIGNAL] [GRACE_S] : signal NAME's process group, KILL after the grace.
mm_proc_stop() {
  local name=$1 signal=${2:-TERM} grace=${3:-5} pid i
  if pid=$(mm_proc_pid "$name"); then
    kill "-$signal" -- "-$pid" 2>/dev/null || kill "-$signal" "$pid" 2>/dev/null || true
    for ((i = 0; i < grace * 10; i++)); do
      mm_proc_pid "$name" >/dev/null || break
      sleep 0.1
    done
    if mm_proc_pid "$name" >/dev/null; then
      orch_warn "$name (pid $pid) ignored $signal; killing it"
      kill -KILL -- "-$pid" 2>/dev/null || kill -KILL "$pid" 2>/dev/null || true
    fi
  fi
  rm -f -- "$MM_STATE/pids/$name"
}

# mm_proc_names : names of recorded processes.
mm_proc_names() {
  local f
  for f in "$MM_STATE"/pids/*; do
    [[ -e $f ]] && printf '%s\n' "${f##*/}"
  done
  return 0
}

# ---------------------------------------------------------------------------------------------
# The agent (midolman, or the lab's stand-in JVM)

# mm_agent_pid : print the agent's PID, the first way that applies: MIDOLMAN_AGENT_PID_FILE; the one
# process whose executable is named MIDOLMAN_AGENT_PROCESS_NAME (any program, not only a JVM);
# the one java process with MIDOLMAN_AGENT_MAIN_CLASS as an argument when that is set; the
# process the topology names (topology_agent_pid: ovs-vswitchd for the ovs_* topologies), when
# the topology was sourced; else the one java process running org.midonet.midolman.Midolman.
# Read-only /proc scans; two candidates are refused, never guessed between.
mm_agent_pid() {
  local pid
  if [[ -n ${MIDOLMAN_AGENT_PID_FILE:-} ]]; then
    [[ -r $MIDOLMAN_AGENT_PID_FILE ]] || return 1
    read -r pid <"$MIDOLMAN_AGENT_PID_FILE" || return 1
    [[ $pid =~ ^[0-9]+$ && -d /proc/$pid ]] || return 1
    # a stale pid file may name a zombie (exited, not yet reaped): that is no agent
    [[ $(awk '{ sub(/^.*\) /, ""); print $1 }' "/proc/$pid/stat" 2>/dev/null) != Z ]] || return 1
    printf '%s' "$pid"
    return 0
  fi
  if [[ -n ${MIDOLMAN_AGENT_PROCESS_NAME:-} ]]; then
    mm_pid_of_program "$MIDOLMAN_AGENT_PROCESS_NAME"
    return
  fi
  if [[ -z ${MIDOLMAN_AGENT_MAIN_CLASS:-} ]] && declare -F topology_agent_pid >/dev/null && pid=$(topology_agent_pid 2>/dev/null); then
    printf '%s' "$pid"
    return 0
  fi
  mm_pid_of_java_class "${MIDOLMAN_AGENT_MAIN_CLASS:-org.midonet.midolman.Midolman}"
}

# mm_pid_of_program NAME : the one live process whose executable's file name is NAME.
mm_pid_of_program() {
  local p exe found=''
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    [[ ${exe##*/} == "$1" ]] || continue
    [[ $(awk '{ sub(/^.*\) /, ""); print $1 }' "$p/stat" 2>/dev/null) != Z ]] || continue
    [[ -z $found ]] || return 1 # ambiguous: refuse to guess
    found=${p#/proc/}
  done
  [[ -n $found ]] && printf '%s' "$found"
}

# mm_pid_of_java_class CLASS : the one java process with CLASS as an argument.
mm_pid_of_java_class() {
  local p found=''
  for p in /proc/[0-9]*; do
    [[ $(readlink "$p/exe" 2>/dev/null) == */java ]] || continue
    if tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -qxF -- "$1"; then
      [[ -z $found ]] || return 1 # ambiguous: refuse to guess
      found=${p#/proc/}
    fi
  done
  [[ -n $found ]] && printf '%s' "$found"
}

# mm_agent_is_jvm PID : the agent's executable is java (heap dumps and JVM options apply).
mm_agent_is_jvm() {
  [[ $(readlink "/proc/$1/exe" 2>/dev/null) == */java ]]
}

# ---------------------------------------------------------------------------------------------
# Small facts one phase leaves for a later one: "KEY<TAB>VALUE" lines in $MM_STATE/NAME.kv
# (values on one line; read back with read, never sourced).

# mm_kv_set NAME KEY VALUE : set KEY (replacing an earlier value).
mm_kv_set() {
  local file=$MM_STATE/$1.kv
  {
    [[ -r $file ]] && awk -F '\t' -v k="$2" '$1 != k' "$file"
    printf '%s\t%s\n' "$2" "${3//[$'\n\t']/ }"
  } | orch_atomic_write "$file"
}

# mm_kv_get NAME KEY : print KEY's value (nothing when unset).
mm_kv_get() {
  local key value
  [[ -r $MM_STATE/$1.kv ]] || return 0
  while IFS=$'\t' read -r key value; do
    [[ $key == "$2" ]] && { printf '%s' "$value"; return 0; }
  done <"$MM_STATE/$1.kv"
  return 0
}
