# shellcheck shell=bash
# Shared basics for every helper: strict mode is set by the caller; this file gives
# error reporting and small checks. Sourced, never executed.

# orch_die MESSAGE... : print to stderr and exit 1.
orch_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# orch_warn MESSAGE... : print a warning to stderr.
orch_warn() {
  printf 'warning: %s\n' "$*" >&2
}

# orch_require_cmd NAME... : fail unless every named command is on PATH.
orch_require_cmd() {
  local name
  for name in "$@"; do
    command -v "$name" >/dev/null 2>&1 || orch_die "required command not found: $name"
  done
}

# orch_have_cmd NAME : true when NAME is on PATH.
orch_have_cmd() {
  command -v "$1" >/dev/null 2>&1
}

# orch_atomic_write FILE : write stdin to FILE through a temp file and a rename.
orch_atomic_write() {
  local file=$1 tmp
  tmp="$file.tmp.$$"
  cat >"$tmp"
  mv -f -- "$tmp" "$file"
}

# orch_atomic_write_text FILE TEXT : write TEXT and a newline to FILE through a temp file
# and a rename (one process, mv; orch_atomic_write costs a cat too).
orch_atomic_write_text() {
  printf '%s\n' "$2" >"$1.tmp.$$"
  mv -f -- "$1.tmp.$$" "$1"
}

# orch_start_time PID : set REPLY to PID's start time (clock ticks since boot: field 22 of
# /proc/PID/stat, counted after the last ')', since the command name may hold spaces or
# parentheses), or '' when PID is not a live process (zombies count as dead). No fork: the
# agent calls it in its follow loop. A PID plus its start time names one process; a PID alone
# may have been reused.
orch_start_time() {
  local stat
  local -a fields
  REPLY=''
  [[ $1 =~ ^[0-9]+$ ]] || return 0
  read -r stat 2>/dev/null <"/proc/$1/stat" || return 0
  # shellcheck disable=SC2206 # a state letter and numbers: nothing to glob
  fields=(${stat##*) })
  [[ ${fields[0]:-Z} != Z ]] || return 0
  REPLY=${fields[19]:-}
}
