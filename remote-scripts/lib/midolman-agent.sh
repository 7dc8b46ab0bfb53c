# shellcheck shell=bash
# The midolman agent's lifecycle and what the host can prove about the agent that runs:
#  - start/stop/status through its service (systemctl where systemd runs, else `service`) or the
#    inventory's commands (argv lists, one word per line in MIDOLMAN_AGENT_START/STOP/STATUS: run
#    as words, never through a shell);
#  - ready: its process runs (a new one, started after the restart) AND its JMX answers (the JMX
#    collector reads one sample), within MIDOLMAN_AGENT_READY_TIMEOUT seconds;
#  - which build runs: the jars its JVM holds open under /proc/PID/fd (none "(deleted)"), the
#    package's md5sums against the bytes read through /proc/PID/fd/N (the very file the process
#    runs), the MANIFEST of those jars (version, revision), and its start time;
#  - its log for the job's window and its GC log, collected.
# Sourced, never executed; needs lib/common.sh (orch_start_time), lib/midolman-common.sh (mm_agent_pid),
# lib/midolman-collectors.sh (mm_jmx_classes), lib/json.sh, lib/events.sh.

# mm_lines_to_array NAME TEXT : split TEXT on newlines into the array NAME (empty lines dropped).
mm_lines_to_array() {
  local -n _mm_arr=$1
  local line
  _mm_arr=()
  while IFS= read -r line; do
    [[ -n $line ]] && _mm_arr+=("$line")
  done <<<"$2"
  return 0
}

# mm_agent_managed : true when this job starts and stops the agent (a service or commands).
mm_agent_managed() {
  [[ ${MIDOLMAN_AGENT_MANAGED:-0} == 1 ]]
}

# mm_systemd_runs : true when systemd is PID 1 (then services are driven by systemctl).
mm_systemd_runs() {
  [[ -d /run/systemd/system ]]
}

# mm_agent_ctl VERB : start, stop or status of the agent; output goes to the phase log.
# status: exit 0 when running. Fails with the command's status.
mm_agent_ctl() {
  local verb=$1 limit rc=0
  local -a argv
  case $verb in start) limit=120 ;; stop) limit=120 ;; status) limit=30 ;; *) orch_die "mm_agent_ctl: unknown verb $verb" ;; esac
  if [[ -n ${MIDOLMAN_AGENT_SERVICE:-} ]]; then
    if mm_systemd_runs; then
      case $verb in
        status) argv=(systemctl is-active --quiet "$MIDOLMAN_AGENT_SERVICE") ;;
        *) argv=(systemctl "$verb" "$MIDOLMAN_AGENT_SERVICE") ;;
      esac
    else
      argv=(service "$MIDOLMAN_AGENT_SERVICE" "$verb")
    fi
  else
    case $verb in
      start) mm_lines_to_array argv "${MIDOLMAN_AGENT_START:-}" ;;
      stop) mm_lines_to_array argv "${MIDOLMAN_AGENT_STOP:-}" ;;
      status) mm_lines_to_array argv "${MIDOLMAN_AGENT_STATUS:-}" ;;
    esac
    if ((${#argv[@]} == 0)); then
      [[ $verb == status ]] || orch_die "no agent $verb command (agent.service or agent.start/stop)"
      mm_agent_pid >/dev/null # no status command: the process decides
      return
    fi
  fi
  printf 'agent %s: %s\n' "$verb" "${argv[*]}" >&2
  timeout --kill-after=10 "$limit" "${argv[@]}" </dev/null >&2 || rc=$?
  return "$rc"
}

# mm_epoch_of_ticks TICKS : seconds since the epoch (with decimals) of a time given in clock ticks
# since boot (field 22 of /proc/PID/stat).
mm_epoch_of_ticks() {
  local btime hz
  btime=$(awk '/^btime / { print $2; exit }' /proc/stat)
  hz=$(getconf CLK_TCK)
  awk -v b="$btime" -v t="$1" -v hz="$hz" 'BEGIN { printf "%.2f", b + t / hz }'
}

# mm_agent_started_at PID : when the process started, seconds since the epoch.
mm_agent_started_at() {
  local ticks
  orch_start_time "$1"
  ticks=$REPLY
  [[ -n $ticks ]] || return 1
  mm_epoch_of_ticks "$ticks"
}

# mm_pid_alive PID : the process exists and is not a zombie (lib/common.sh orch_start_time).
mm_pid_alive() {
  orch_start_time "$1"
  [[ -n $REPLY ]]
}

# mm_agent_stop_now : stop the agent and wait until its process is gone (up to 60 s).
mm_agent_stop_now() {
  local pid i
  pid=$(mm_agent_pid 2>/dev/null) || pid=''
  mm_agent_ctl stop || orch_warn "the agent's stop command failed (status $?)"
  [[ -n $pid ]] || return 0
  for ((i = 0; i < 600; i++)); do
    mm_pid_alive "$pid" || return 0
    sleep 0.1
  done
  orch_warn "the agent (pid $pid) is still running after its stop command"
  return 1
}

# ---------------------------------------------------------------------------------------------
# The agent's log

# mm_agent_log_mark NAME : remember the agent log's current size as NAME (a window starts there).
mm_agent_log_mark() {
  local size=0
  [[ -r $MIDOLMAN_AGENT_LOG ]] && size=$(stat -c %s -- "$MIDOLMAN_AGENT_LOG")
  printf '%s\n' "$size" | orch_atomic_write "$MM_STATE/agent-log.$1"
}

# mm_agent_log_since NAME : the agent log from mark NAME on (all of it when the log was rotated
# or truncated since), at most the last 16 MiB.
mm_agent_log_since() {
  local from=0 size
  [[ -r $MIDOLMAN_AGENT_LOG ]] || return 0
  [[ -r $MM_STATE/agent-log.$1 ]] && read -r from <"$MM_STATE/agent-log.$1"
  size=$(stat -c %s -- "$MIDOLMAN_AGENT_LOG")
  ((size >= from)) || from=0
  if ((size - from > 16777216)); then from=$((size - 16777216)); fi
  tail -c "+$((from + 1))" -- "$MIDOLMAN_AGENT_LOG"
}

# mm_agent_log_tail NAME [LINES] : the last lines of the agent log since mark NAME, made inert
# (control characters dropped, long lines cut) and joined with " | ", for an error message.
mm_agent_log_tail() {
  local text
  text=$(mm_agent_log_since "$1" | tail -n "${2:-12}" | LC_ALL=C tr '\t' ' ' | LC_ALL=C tr -d '\000-\010\013-\037\177' | cut -c1-400 | paste -sd '|' | sed 's/|/ | /g')
  printf '%s' "${text:-(nothing in $MIDOLMAN_AGENT_LOG)}"
}

# mm_agent_fail MESSAGE : report why the agent is not what it should be, with its log's tail, and exit.
mm_agent_fail() {
  local message tail
  tail=$(mm_agent_log_tail restart)
  message="$1; agent log ($MIDOLMAN_AGENT_LOG): $tail"
  orch_log_event error "$message"
  orch_die "$message"
}

# ---------------------------------------------------------------------------------------------
# Ready

# mm_agent_new_pid SINCE : the agent's PID when its process started at or after SINCE (epoch s).
mm_agent_new_pid() {
  local pid started
  pid=$(mm_agent_pid 2>/dev/null) || return 1
  mm_pid_alive "$pid" || return 1
  started=$(mm_agent_started_at "$pid") || return 1
  awk -v s="$started" -v since="$1" 'BEGIN { exit !(s + 1 >= since) }' || return 1
  printf '%s' "$pid"
}

# mm_agent_ready_query : the JMX collector line that proves the agent is up: the first MBean of
# the profile's set outside the JVM's own domains (the agent registers its metrics once it has set
# itself up; the JVM's JMX answers long before that, and even for an agent about to fail), else
# the JVM's uptime. Alias "ready".
mm_agent_ready_query() {
  local line object
  if [[ -r $MM_STATE/jmx-mbeans.conf ]]; then
    while IFS= read -r line; do
      line=${line%%#*}
      [[ $line == *'|'*'|'*'|'* ]] || continue
      object=$(awk -F '|' '{ gsub(/^[ \t]+|[ \t]+$/, "", $2); print $2 }' <<<"$line")
      case $object in java.lang:* | java.nio:* | JMImplementation:* | com.sun.management:*) continue ;; esac
      printf 'ready |%s\n' "${line#*|}"
      return 0
    done <"$MM_STATE/jmx-mbeans.conf"
  fi
  printf 'ready | java.lang:type=Runtime | Uptime | GAUGE\n'
}

# mm_agent_wait_ready SINCE TIMEOUT_S : wait for a new agent process (started after SINCE) and,
# with a JMX URL, for its own MBeans to answer over JMX (mm_agent_ready_query). Prints the PID.
# An agent that exits meanwhile, or whose start the status command denies, fails at once.
mm_agent_wait_ready() {
  local since=$1 limit=$2 pid='' probe='' out=$MM_STATE/jmx-probe.jsonl classes deadline last_status=$SECONDS
  local -a launch
  deadline=$((SECONDS + limit))
  if [[ -n ${MIDOLMAN_JMX_URL:-} ]]; then
    orch_require_cmd java
    mm_agent_ready_query >"$MM_STATE/jmx-probe.conf"
    if classes=$(mm_jmx_classes); then launch=(-cp "$classes" JmxCollector); else launch=("$ORCH_BUNDLE/remote-scripts/jmx/JmxCollector.java"); fi
  fi
  : >"$out"
  while ((SECONDS < deadline)); do
    if [[ -z $pid ]]; then
      pid=$(mm_agent_new_pid "$since") || pid=''
      if [[ -n $pid ]]; then
        orch_progress "agent process $pid is up" 0.5
      elif mm_agent_died_since "$since"; then
        mm_agent_fail "the agent exited during startup (its pid file names a process that is gone)"
      elif ((SECONDS - last_status >= 3)); then
        last_status=$SECONDS
        if mm_agent_start_denied; then mm_agent_fail "the agent is not running after its start (its status says so)"; fi
      fi
    elif ! mm_pid_alive "$pid"; then
      [[ -z $probe ]] || kill "$probe" 2>/dev/null || true
      mm_agent_fail "the agent (pid $pid) exited during startup"
    fi
    if [[ -n $pid ]]; then
      [[ -n ${MIDOLMAN_JMX_URL:-} ]] || break
      if [[ -z $probe ]]; then
        java -Xmx32m -XX:+UseSerialGC -XX:TieredStopAtLevel=1 "${launch[@]}" --url "$MIDOLMAN_JMX_URL" \
          --config "$MM_STATE/jmx-probe.conf" --interval-ms 300 >"$out" 2>"$out.err" </dev/null &
        probe=$!
      fi
      if grep -q '"kind":"sample".*"ready":' "$out"; then
        kill "$probe" 2>/dev/null || true
        wait "$probe" 2>/dev/null || true
        break
      fi
      if ! kill -0 "$probe" 2>/dev/null; then
        wait "$probe" 2>/dev/null || true
        mm_agent_fail "the JMX probe of $MIDOLMAN_JMX_URL ended without an answer: $(tail -n 3 "$out.err" "$out" | LC_ALL=C tr -d '\000-\010\013-\037\177' | paste -sd ' ')"
      fi
    fi
    sleep 0.2
  done
  if ((SECONDS >= deadline)); then
    [[ -z $probe ]] || kill "$probe" 2>/dev/null || true
    if [[ -z $pid ]]; then
      mm_agent_fail "no new agent process within ${limit} s of the restart (pid file / main class: ${MIDOLMAN_AGENT_PID_FILE:-${MIDOLMAN_AGENT_MAIN_CLASS:-org.midonet.midolman.Midolman}})"
    fi
    mm_agent_fail "the agent (pid $pid) runs but its MBeans did not answer over JMX ($MIDOLMAN_JMX_URL) within ${limit} s: $(grep -o '"message":"[^"]*"\|"reason":"[^"]*"' "$out" | tail -n 1)"
  fi
  # A last look: an agent that answered and died at once is no ready agent.
  mm_pid_alive "$pid" || mm_agent_fail "the agent (pid $pid) exited right after it answered"
  printf '%s' "$pid"
}

# mm_agent_start_denied : the service manager or the status command says the agent is not running
# (systemd: the unit failed; SysV `service` or a status command: a non-zero status). Without a
# status command nothing is denied (the process decides).
mm_agent_start_denied() {
  if [[ -n ${MIDOLMAN_AGENT_SERVICE:-} ]] && mm_systemd_runs; then
    systemctl is-failed --quiet "$MIDOLMAN_AGENT_SERVICE" 2>/dev/null
    return
  fi
  [[ -n ${MIDOLMAN_AGENT_SERVICE:-}${MIDOLMAN_AGENT_STATUS:-} ]] || return 1
  ! mm_agent_ctl status >/dev/null 2>&1
}

# mm_agent_died_since SINCE : the pid file was written after SINCE and names a process that is gone.
mm_agent_died_since() {
  local file=${MIDOLMAN_AGENT_PID_FILE:-} pid mtime
  [[ -n $file && -r $file ]] || return 1
  mtime=$(stat -c %Y -- "$file") || return 1
  awk -v m="$mtime" -v since="$1" 'BEGIN { exit !(m + 1 >= since) }' || return 1
  read -r pid <"$file" || return 1
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  ! mm_pid_alive "$pid"
}

# ---------------------------------------------------------------------------------------------
# Which build runs

# mm_pkg_version PACKAGE : the installed version of PACKAGE, or nothing.
mm_pkg_version() {
  # dpkg-query fails for a package it never heard of: that is "not installed", not an error
  { dpkg-query -W -f='${db:Status-Status} ${Version}' "$1" 2>/dev/null || true; } | awk '$1 == "installed" { print $2 }'
}

# mm_version_matches MANIFEST_VERSION PACKAGE_VERSION : the jar's version names the package's
# version: the same, its upstream part (no epoch, no Debian revision), or - MidoNet's nightlies - the
# jar's project version "X-SNAPSHOT" for a package "X~<timestamp>.<gitrev>" (midonet's debVersion is
# the snapshot version with the timestamp and revision put in and "-" turned into "~").
mm_version_matches() {
  local mv=$1 pv=$2 noepoch upstream snapshot
  noepoch=${pv#*:}
  upstream=${noepoch%-*}
  [[ $mv == "$pv" || $mv == "$noepoch" || $mv == "$upstream" ]] && return 0
  if [[ $mv == *-SNAPSHOT ]]; then
    snapshot=${mv%-SNAPSHOT}
    snapshot=${snapshot//-/\~}
    [[ $noepoch == "$snapshot"~* || $noepoch == "$snapshot"-* || $noepoch == "$snapshot" ]] && return 0
  fi
  return 1
}

# mm_jar_git_revision FILE : git.commit.id of the jar's git.properties (MidoNet's git.gradle puts
# one in every jar), or fails.
mm_jar_git_revision() {
  local raw
  if orch_have_cmd unzip; then
    raw=$(unzip -p -- "$1" git.properties 2>/dev/null) || return 1
  elif orch_have_cmd python3; then
    raw=$(python3 -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read("git.properties").decode("utf-8", "replace"))' "$1" 2>/dev/null) || return 1
  else
    return 1
  fi
  raw=$(printf '%s\n' "$raw" | tr -d '\r' | awk -F= '$1 == "git.commit.id" { print $2; exit }')
  [[ $raw =~ ^[0-9a-fA-F]{7,64}$ ]] || return 1
  printf '%s' "$raw"
}

# mm_jar_manifest FILE : the jar's META-INF/MANIFEST.MF (continuation lines joined), or fails.
mm_jar_manifest() {
  local raw
  if orch_have_cmd unzip; then
    raw=$(unzip -p -- "$1" META-INF/MANIFEST.MF 2>/dev/null) || return 1
  elif orch_have_cmd python3; then
    raw=$(python3 -c 'import sys, zipfile; sys.stdout.write(zipfile.ZipFile(sys.argv[1]).read("META-INF/MANIFEST.MF").decode("utf-8", "replace"))' "$1" 2>/dev/null) || return 1
  else
    return 2
  fi
  printf '%s\n' "$raw" | tr -d '\r' | awk 'NR > 1 && /^ / { line = line substr($0, 2); next } { if (NR > 1) print line; line = $0 } END { print line }'
}

# mm_manifest_value MANIFEST NAME... : the first of the named main attributes that is set.
mm_manifest_value() {
  local manifest=$1 name value
  shift
  for name in "$@"; do
    value=$(printf '%s\n' "$manifest" | awk -v n="$name" 'index($0, n ": ") == 1 { print substr($0, length(n) + 3); exit }')
    [[ -n $value ]] && { printf '%s' "$value" | LC_ALL=C tr -d '\000-\037\177' | cut -c1-200; return 0; }
  done
  return 1
}

# mm_agent_identify PID PACKAGE SINCE OUT : prove which build the running agent is (SINCE: it must
# have started after that moment; empty: not checked); writes the evidence to the JSON file OUT and
# the verdict to $MM_STATE/agent.kv; returns 0 when the running agent is PACKAGE's installed build,
# else prints the problems, one per line.
mm_agent_identify() {
  local pid=$1 pkg=$2 since=$3 out=$4 fd target path deleted md5 expected sums='' files='' manifest rc
  local version title revision started jars='[' sep='' id_problems=() id_warnings=() version_running='' title_running='' revision_running='' jar_version='' bytes_proven=0
  local package_jars=0 installed in_package
  installed=$(mm_pkg_version "$pkg")
  started=$(mm_agent_started_at "$pid") || started=''
  if [[ -n $installed ]]; then
    files=$(dpkg-query -L "$pkg" 2>/dev/null || true)
    sums=$(cat -- "$(dpkg-query --control-path "$pkg" md5sums 2>/dev/null)" 2>/dev/null || true)
    [[ -n $sums ]] || id_warnings+=("package $pkg has no md5sums: the jar's bytes cannot be compared")
  else
    id_warnings+=("package $pkg is not installed: the running build cannot be checked against it")
  fi
  for fd in "/proc/$pid/fd/"*; do
    target=$(readlink -- "$fd" 2>/dev/null) || continue
    [[ $target == *.jar || $target == *'.jar (deleted)' ]] || continue
    deleted=false path=$target
    if [[ $target == *' (deleted)' ]]; then deleted=true path=${target% (deleted)}; fi
    md5='' expected='' version='' title='' revision=''
    in_package=false
    if [[ -n $files ]] && grep -qxF -- "$path" <<<"$files"; then in_package=true; fi
    # Read through /proc/PID/fd/N: the bytes of the file the process has open, even once replaced.
    md5=$(md5sum <"$fd" 2>/dev/null | awk '{ print $1 }') || md5=''
    if $in_package; then
      expected=$(awk -v p="${path#/}" '$2 == p { print $1; exit }' <<<"$sums")
    fi
    rc=0
    manifest=$(mm_jar_manifest "$fd") || rc=$?
    if ((rc == 0)); then
      version=$(mm_manifest_value "$manifest" Implementation-Version Bundle-Version Specification-Version) || version=''
      title=$(mm_manifest_value "$manifest" Implementation-Title Bundle-Name) || title=''
      revision=$(mm_jar_git_revision "$fd") ||
        revision=$(mm_manifest_value "$manifest" Build-Revision Git-Revision Git-Commit-Id SCM-Revision Implementation-Build Build-Commit) || revision=''
    elif ((rc == 2)); then
      id_warnings+=("neither unzip nor python3 is installed: the jars' MANIFESTs cannot be read")
    fi
    # What runs: the first jar at one of the package's paths, replaced or not.
    if $in_package && [[ -z $jar_version$title_running$revision_running ]]; then
      jar_version=$version title_running=$title revision_running=$revision
    fi
    $in_package && package_jars=$((package_jars + 1))
    if $deleted; then
      id_problems+=("the agent holds $path (deleted): it still runs a build that was replaced since it started${version:+ ($version)}")
    elif $in_package && [[ -n $expected ]]; then
      # The bytes decide: the file the process has open is the package's, or it is not. The jar's
      # own version may be a project version ("X-SNAPSHOT") the package version does not spell.
      if [[ $md5 != "$expected" ]]; then
        id_problems+=("the agent's $path (md5 $md5) is not the installed $pkg $installed's (md5 $expected)")
      else
        bytes_proven=$((bytes_proven + 1))
      fi
    elif $in_package && [[ -n $version ]] && ! mm_version_matches "$version" "$installed"; then
      # no md5sums to compare: the version the jar declares is all the evidence there is
      id_problems+=("the agent's $path says version $version, the installed $pkg is $installed")
    fi
    jars+=$sep$(orch_json_object path s "$path" deleted b "$deleted" in_package b "$in_package" md5 s "$md5" md5_expected s "$expected" \
      title s "$title" version s "$version" revision s "$revision")
    sep=,
  done
  jars+=']'
  if [[ -n $installed ]] && ((package_jars == 0)); then
    id_problems+=("the agent holds no jar of package $pkg: which build runs cannot be proven")
  fi
  if [[ -n $started && -n $since ]] && ! awk -v s="$started" -v since="$since" 'BEGIN { exit !(s + 1 >= since) }'; then
    id_problems+=("the agent started at $started, before the install/restart at $since")
  fi
  # What runs is the installed package's version once the process is proven to be that package
  # (its jars' bytes, or their declared version where there are no md5sums); else what the jar says.
  if [[ -n $installed && ${#id_problems[@]} -eq 0 ]]; then
    ((bytes_proven > 0 || ${#jar_version} > 0)) ||
      id_warnings+=("the agent's jars carry no version in their MANIFEST and the package has no md5sums: the package's version is taken for what runs")
    version_running=$installed
  else
    version_running=$jar_version
  fi
  local verified=null problems_json='[' warnings_json='[' p s=''
  if [[ -n $installed ]]; then
    if ((${#id_problems[@]} == 0)); then verified=true; else verified=false; fi
  fi
  for p in "${id_problems[@]}"; do problems_json+=$s$(orch_json_string "$p") s=,; done
  s=''
  for p in "${id_warnings[@]}"; do warnings_json+=$s$(orch_json_string "$p") s=,; done
  problems_json+=']' warnings_json+=']'
  orch_json_object pid n "$pid" started_at n "${started:-null}" since n "${since:-null}" package s "$pkg" \
    installed_version s "$installed" version_running s "$version_running" jar_version s "$jar_version" title_running s "$title_running" \
    revision_running s "$revision_running" jars j "$jars" verified j "$verified" problems j "$problems_json" \
    warnings j "$warnings_json" | orch_atomic_write "$out"
  mm_kv_set agent version_running "$version_running"
  mm_kv_set agent jar_version "$jar_version"
  mm_kv_set agent title_running "$title_running"
  mm_kv_set agent revision_running "$revision_running"
  mm_kv_set agent verified "$verified"
  for p in "${id_warnings[@]}"; do orch_log_event warning "$p"; done
  if ((${#id_problems[@]} > 0)); then
    printf '%s\n' "${id_problems[@]}"
    return 1
  fi
  return 0
}

# ---------------------------------------------------------------------------------------------
# What the agent leaves: its log for the job's window, its GC log

# mm_agent_gc_log PID : the GC log file the JVM's options name (-Xlog:gc...:file=F or -Xloggc:F),
# else MIDOLMAN_AGENT_GC_LOG.
mm_agent_gc_log() {
  local arg file=''
  if [[ -n ${1:-} && -r /proc/$1/cmdline ]]; then
    while IFS= read -r -d '' arg; do
      case $arg in
        -Xloggc:*) file=${arg#-Xloggc:} ;;
        -Xlog:gc*file=*) file=${arg#*file=} file=${file%%:*} ;;
      esac
    done <"/proc/$1/cmdline"
  fi
  file=${file:-${MIDOLMAN_AGENT_GC_LOG:-}}
  file=${file#\"} file=${file%\"}
  printf '%s' "$file"
}

# mm_agent_collect_logs : the agent's log for the job's window and its GC log (the running
# agent's, or the one recorded at its start) into $ORCH_ARTIFACTS/agent/.
mm_agent_collect_logs() {
  local dir=$ORCH_ARTIFACTS/agent pid gc='' size
  mkdir -p -- "$dir"
  if [[ -r $MIDOLMAN_AGENT_LOG ]]; then
    mm_agent_log_since job >"$dir/midolman.log"
  fi
  if pid=$(mm_agent_pid 2>/dev/null); then gc=$(mm_agent_gc_log "$pid") || gc=''; fi
  [[ -n $gc ]] || { [[ -r $MM_STATE/agent-gc-log ]] && read -r gc <"$MM_STATE/agent-gc-log"; } || true
  [[ -n $gc ]] || gc=${MIDOLMAN_AGENT_GC_LOG:-}
  if [[ -n $gc && -r $gc && -f $gc ]]; then
    size=$(stat -c %s -- "$gc")
    tail -c 16777216 -- "$gc" >"$dir/gc.log"
    orch_json_object log s "$MIDOLMAN_AGENT_LOG" gc_log s "$gc" gc_log_bytes n "$size" | orch_atomic_write "$dir/logs.json"
  else
    orch_json_object log s "$MIDOLMAN_AGENT_LOG" gc_log s "${gc:-}" gc_log_bytes n null | orch_atomic_write "$dir/logs.json"
  fi
}
