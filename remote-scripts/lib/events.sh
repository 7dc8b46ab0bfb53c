# shellcheck shell=bash
# Events a helper reports to the orchestrator, as JSON lines on file descriptor 3 (the
# agent points fd 3 at the phase's events.jsonl). Outside the agent they go to stderr.
# Sourced, never executed.

# orch_event_fd : print the fd to write events to (3 when open, else 2).
orch_event_fd() {
  if { true >&3; } 2>/dev/null; then printf '3'; else printf '2'; fi
}

# orch_event KIND [KEY TYPE VALUE...] : emit one event line {"t":...,"kind":KIND,...}.
orch_event() {
  local kind=$1 line fd
  shift
  line=$(orch_json_object t n "${EPOCHREALTIME:-$(date +%s)}" kind s "$kind" "$@")
  fd=$(orch_event_fd)
  printf '%s\n' "$line" >&"$fd"
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
