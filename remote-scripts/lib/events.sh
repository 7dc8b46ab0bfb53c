# shellcheck shell=bash
# Events a helper reports to the orchestrator, as JSON lines on file descriptor 3 (the
# agent points fd 3 at the phase's events.jsonl). Outside the agent they go to stderr.
# Sourced, never executed.

# orch_event KIND [KEY TYPE VALUE...] : emit one event line {"t":...,"kind":KIND,...}.
# No subshells: a helper may emit many events, and each fork costs on a busy host.
orch_event() {
  local kind=$1 line now=${EPOCHREALTIME:-}
  shift
  # bash writes EPOCHREALTIME with the locale's decimal separator (1796564663,373334 under de_DE)
  now=${now/,/.}
  [[ -n $now ]] || printf -v now '%(%s)T' -1
  orch_json_object_to line t n "$now" kind s "$kind" "$@"
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
