# shellcheck shell=bash
# Events a helper reports to the orchestrator, as JSON lines on file descriptor 3 (the
# agent points fd 3 at the phase's events.jsonl). Outside the agent they go to stderr.
# Sourced, never executed; needs lib/json.sh.

# orch_now : set REPLY to the seconds since the epoch with microseconds, written with a '.'
# whatever the locale: bash writes EPOCHREALTIME with the locale's decimal separator
# (1796564663,373334 under de_DE). Whole seconds on a bash without EPOCHREALTIME (before 5.0).
# No fork: every event calls it. The one clock of the helpers whose times go into JSON or
# arithmetic (events, provenance, the host sampler, the midolman clock).
orch_now() {
  REPLY=${EPOCHREALTIME:-}
  [[ -n $REPLY ]] || printf -v REPLY '%(%s)T' -1
  REPLY=${REPLY/,/.}
}

# orch_event KIND [KEY TYPE VALUE...] : emit one event line {"t":...,"kind":KIND,...}.
# No subshells: a helper may emit many events, and each fork costs on a busy host.
orch_event() {
  local kind=$1 line
  shift
  orch_now
  orch_json_object_to line t n "$REPLY" kind s "$kind" "$@"
  if { true >&3; } 2>/dev/null; then
    printf '%s\n' "$line" >&3
  else
    printf '%s\n' "$line" >&2
  fi
}

# orch_progress MESSAGE [FRACTION] : a progress line shown live by the orchestrator.
orch_progress() {
  if (($# >= 2)); then
    orch_event progress message s "$1" fraction n "$2"
  else
    orch_event progress message s "$1"
  fi
}

# orch_log_event LEVEL MESSAGE : a log line that also goes to the orchestrator's host log.
orch_log_event() {
  orch_event log level s "$1" message s "$2"
}
