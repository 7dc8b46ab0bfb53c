# shellcheck shell=sh
# Drop-off of a sweep archive into a reports server's incoming directory (the original perftests
# way): `drop_off INCOMING SWEEP_ID`, the gzip'ed tar on stdin.
#
# The archive arrives under a hidden temporary name that does not end in .tar.gz; it is checked
# whole (gzip -t), renamed to <SWEEP_ID>.tar.gz, and only then is the empty marker
# <SWEEP_ID>.tar.gz.done created, so a server that takes an archive only once its .done exists
# never sees a partial one. Prints `dropped <archive bytes>`; exit 77 when the archive arrived
# incomplete (nothing was dropped off).
#
# Sourced, never run on its own: orchestrator/publish/host-calls.ts sends this file's text plus
# the call line as `sh -c TEXT orchestrate-drop-off INCOMING SWEEP_ID` (why not as the helper
# bundle: see remote-scripts/publish/lib/releases.sh). POSIX sh: the reports host may have no bash.

drop_off() {
  set -eu
  CDPATH=
  umask 022
  mkdir -p -- "$1"
  cd -- "$1"
  partial=".$2.tar.gz.partial-$$"
  # A cut connection closes our stdout/stderr: clean up first, say why after (a message could
  # SIGPIPE us). sh runs no EXIT trap on a signal, hence the second trap.
  trap remove_partial EXIT
  trap 'remove_partial; exit 129' HUP PIPE INT TERM
  cat >"$partial"
  check_archive
  put_archive_in_place "$2"
  echo "dropped $(wc -c <"$2.tar.gz")"
}

remove_partial() {
  rm -f -- "$partial"
}

# The archive must be a whole gzip stream (a cut upload is not), or nothing is dropped off.
check_archive() {
  if ! gzip -t -- "$partial" 2>/dev/null; then
    remove_partial
    echo "the archive arrived incomplete; nothing was dropped off" >&2
    exit 77
  fi
}

# put_archive_in_place SWEEP_ID: synced, renamed over any older archive of that sweep, then marked done.
put_archive_in_place() {
  sync -- "$partial" 2>/dev/null || sync
  rm -f -- "$1.tar.gz.done"
  mv -f -- "$partial" "$1.tar.gz"
  trap - EXIT
  : >"$1.tar.gz.done"
}
