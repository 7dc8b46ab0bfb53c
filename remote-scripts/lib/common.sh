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
