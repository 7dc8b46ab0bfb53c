#!/usr/bin/env bash
# `npm run lint:sh`: shellcheck every bash helper, topology and test script, the same check the
# test suite runs (test/remote-scripts/shellcheck.test.ts: warnings and up fail), and the scripts
# that run on the reports host and the bundle's bootstrap (remote-scripts/publish/,
# remote-scripts/bundle/) at every level, style included: they were TypeScript strings once, and
# an empty set of them fails too, so they cannot drop out of the check unnoticed.
set -euo pipefail

readonly STRICT_DIRS=(remote-scripts/publish remote-scripts/bundle)

# The suite's check of every helper.
check_all_helpers() {
  node --import tsx ./node_modules/uvu/bin.js test 'remote-scripts/shellcheck\.test\.ts$' --no-color
}

# Every file under STRICT_DIRS, shellcheck'ed at style level (sh or bash, from its own header).
# Each directory must hold scripts: find's complaint about a missing one would be lost in the
# process substitution, and the other directory's files would pass alone.
check_strict_dirs() {
  local dir files=() found=()
  for dir in "${STRICT_DIRS[@]}"; do
    found=()
    if [[ -d $dir ]]; then mapfile -t found < <(find "$dir" -type f | LC_ALL=C sort); fi
    if [[ ${#found[@]} -eq 0 ]]; then
      echo "test/shellcheck.sh: no scripts under $dir" >&2
      return 1
    fi
    files+=("${found[@]}")
  done
  shellcheck -x -S style "${files[@]}"
  echo "shellcheck (style and up): ${#files[@]} file(s) under ${STRICT_DIRS[*]} clean"
}

main() {
  cd "$(dirname -- "$0")/.."
  check_strict_dirs
  check_all_helpers
}

if [[ "${BASH_SOURCE[0]}" == "$0" ]]; then main "$@"; fi
