#!/usr/bin/env bash
# Installs what the local lab (test/lab) needs on Debian/Ubuntu, and nothing else:
#   openssh-server  /usr/sbin/sshd, one process per lab host
#   openssh-client  ssh-keygen (host and client keys) and ssh (tests, the README quick start)
# The lab's web server and process handling are Node (already needed by the project) and /proc.
# Idempotent: when everything is installed it only checks (dpkg-query) and exits, without apt.
#
#   bash test/lab/install-deps.sh
set -euo pipefail

packages=(openssh-server openssh-client)

missing=()
for pkg in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
  if [ "$status" != installed ]; then
    missing+=("$pkg")
  fi
done

if [ "${#missing[@]}" -gt 0 ]; then
  as_root=()
  if [ "$(id -u)" -ne 0 ]; then
    if ! command -v sudo >/dev/null 2>&1; then
      echo "install-deps: need root (or sudo) to install: ${missing[*]}" >&2
      exit 1
    fi
    as_root=(sudo)
  fi
  echo "install-deps: installing ${missing[*]}"
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  "${as_root[@]}" env DEBIAN_FRONTEND=noninteractive \
    apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

# What the lab calls, by path or by name.
for tool in /usr/sbin/sshd ssh ssh-keygen node; do
  if ! command -v "$tool" >/dev/null 2>&1; then
    echo "install-deps: $tool is missing" >&2
    exit 1
  fi
done
echo "install-deps: lab dependencies present (${packages[*]}, node $(node --version))"
