#!/usr/bin/env bash
# `npm run lint:sh`: shellcheck every bash helper, topology and test script, the same check the
# test suite runs (test/remote-scripts/shellcheck.test.ts).
set -euo pipefail
cd "$(dirname -- "$0")/.."
exec node --import tsx ./node_modules/uvu/bin.js test 'remote-scripts/shellcheck\.test\.ts$' --no-color
