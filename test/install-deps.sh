#!/usr/bin/env bash
# Debian packages the tests and the local lab need; installs only what is missing, so a
# second run costs a few dpkg queries.
set -euo pipefail

packages=(openssh-server openssh-client iproute2 python3 shellcheck procps tar gzip rsync time
  rrdtool nmap tcpdump openjdk-17-jdk-headless chromium bzip2 libxml2-utils
  libvirt-clients libvirt-daemon libvirt-daemon-driver-qemu qemu-system-x86 qemu-utils
  parted xfsprogs btrfs-progs e2fsprogs util-linux linux-image-amd64 fio sysbench libguestfs-tools
  mmdebstrap jq unzip dpkg-dev netsniff-ng screen dbench bonnie++ postgresql-15
  openvswitch-switch iperf3 ethtool locales)

missing=()
for package in "${packages[@]}"; do
  dpkg-query -W -f='${db:Status-Status}' "$package" 2>/dev/null | grep -qx installed || missing+=("$package")
done
if ((${#missing[@]} > 0)); then
  if [[ $(id -u) -ne 0 ]]; then
    printf 'missing Debian packages: %s (run this script as root)\n' "${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  # postgresql-15 is here for its programs (pgbench, initdb, pg_ctl: the QASET parsers' tests start
  # their own server); no system cluster is created or started.
  if [[ ! -e /etc/postgresql-common/createcluster.conf ]]; then
    mkdir -p /etc/postgresql-common
    printf 'create_main_cluster = false\n' >/etc/postgresql-common/createcluster.conf
  fi
  # openvswitch-switch and iperf3 are here for their programs: the ovs_* topologies start their own
  # ovsdb-server/ovs-vswitchd from a private run directory, and the kvm network peer its own iperf3.
  # No service may start at install time (a lab must never find a host-wide switch it did not make):
  # a policy-rc.d refuses every start while apt runs, and is removed after.
  policy=/usr/sbin/policy-rc.d
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    trap 'rm -f -- "$policy"' EXIT
  fi
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends -o Dpkg::Options::=--force-confold "${missing[@]}" >/dev/null
fi
if [[ -x test/lab/install-deps.sh ]]; then
  bash test/lab/install-deps.sh
fi
# The lab's Debian guest: its tree comes from Debian's packages (mmdebstrap), the one step that
# downloads; tests and the lab only assemble the image from it, offline. Cached: a second run costs a hash.
if [[ $(id -u) -eq 0 ]]; then
  bash test/kvm-guest/prepare-tree.sh
fi
