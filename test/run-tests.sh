#!/usr/bin/env bash
# The project's test command (`npm test`): installs what the tests need (idempotent),
# typechecks, builds the compiled CLI (dist/, what the `orchestrate` bin runs; nothing to do when
# it is current), runs every uvu test, and ends with a line "N passed, N failed".
set -euo pipefail
cd "$(dirname -- "$0")/.."

log=$(mktemp)
trap 'rm -f -- "$log"' EXIT

bash test/install-deps.sh
if [[ ! -x node_modules/.bin/uvu || package-lock.json -nt node_modules/.package-lock.json ]]; then
  npm ci --no-audit --no-fund
fi

npx --no-install tsc --noEmit -p .
node orchestrator/bin/build.js

status=0
node --import tsx ./node_modules/uvu/bin.js test '\.test\.ts$' --no-color 2>&1 | tee "$log" || status=$?

total=$(sed -n 's/^ *Total: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
passed=$(sed -n 's/^ *Passed: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
skipped=$(sed -n 's/^ *Skipped: *\([0-9]*\).*/\1/p' "$log" | tail -n 1)
if [[ -z $total || -z $passed ]]; then
  # uvu stopped before its summary (a file threw while loading): count that as a failure.
  printf '%s passed, %s failed\n' "${passed:-0}" "$(( ${total:-0} - ${passed:-0} + 1 ))"
  exit 1
fi
# uvu's Total counts the tests that ran; skipped ones (test.skip) are counted apart.
failed=$((total - passed))
# uvu says nothing when a suite's before hook throws: its tests count as not passed, silently.
# Name every suite that did not pass all its tests, so such a failure is at least found.
# uvu prints a test file's name on a line of its own, then a line per suite ending "(passed / total)".
incomplete=$(sed -n -e 's/^\([^ ].*\.test\.ts\)$/F \1/p' \
  -e 's/^ *\([^•✘]*[^•✘ ]\)\{0,1\} *[•✘ ]*(\([0-9]*\) \/ \([0-9]*\))$/S \2 \3 \1/p' "$log" |
  awk '$1 == "F" { file = $2; next }
    $2 < $3 { name = $0; sub(/^S [0-9]+ [0-9]+ ?/, "", name); print "  " $2 "/" $3 "  " file (name == "" ? "" : ": " name) }')
if [[ -n $incomplete ]]; then
  printf 'suites that did not pass every test (no error printed above for one means its before hook failed):\n%s\n' "$incomplete"
fi
printf '%s passed, %s failed, %s skipped\n' "$passed" "$failed" "${skipped:-0}"
if ((failed > 0 || status != 0)); then exit 1; fi
