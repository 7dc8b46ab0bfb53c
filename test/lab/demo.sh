#!/usr/bin/env bash
# Quick start: on a fresh Debian 12 machine as root, install what is needed, bring up
# the local lab (real sshd hosts on loopback), run a sweep of inventory/lab.yaml end to
# end, and say where the results are. Safe to run again: every step is idempotent.
set -euo pipefail
cd "$(dirname -- "$0")/../.."

lab_cli=(node --import tsx test/lab/cli.ts)
orchestrate=(node orchestrator/bin/orchestrate.js)

demo_install() {
  bash test/install-deps.sh
  if [[ ! -x node_modules/.bin/tsx || package-lock.json -nt node_modules/.package-lock.json ]]; then
    npm ci --no-audit --no-fund
  fi
  # The orchestrate bin runs the compiled CLI (dist/); nothing to do when it is current.
  node orchestrator/bin/build.js
}

demo_lab_up() {
  "${lab_cli[@]}" up --hosts 5 --subnet 0 --hypervisor --agent-package
}

demo_sweep() {
  local status=0
  "${orchestrate[@]}" --inventory inventory/lab.yaml || status=$?
  printf '\nsweep exit status: %s (0 all ok; README, Exit statuses, says what the others mean)\n' "$status"
  printf 'the lab stays up for more sweeps; stop it with: %s down\n' "${lab_cli[*]}"
  return "$status"
}

main() {
  demo_install
  demo_lab_up
  demo_sweep
}

main "$@"
