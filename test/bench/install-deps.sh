#!/usr/bin/env bash
# What the benchmarks need beyond the tests: the peers they are compared with (pssh,
# Ansible, rsync), GNU time and perf (section cli counts the processes each side creates). Installs
# only what is missing.
set -euo pipefail
cd "$(dirname -- "$0")/../.."

bash test/install-deps.sh
packages=(pssh ansible rsync time linux-perf)
missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi
