#!/usr/bin/env bash
# bash test/kvm-guest/prepare-tree.sh : the install step's part of the lab guest, as root: the
# Debian tree of ./guest-tree.json (suite + packages) built once by remote-scripts/kvm-build-image
# (mmdebstrap from the host's apt sources: the only step that downloads) into
# /var/tmp/orchestrate-kvm-guest/image-cache. Idempotent: a cached tree costs a hash. Needs bash,
# jq and mmdebstrap, not node: the image itself is assembled offline by the tests and the lab.
set -euo pipefail

here=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd)
cache=${ORCH_KVM_IMAGE_CACHE:-/var/tmp/orchestrate-kvm-guest/image-cache}
tmp=$(mktemp -d)
trap 'rm -rf -- "$tmp"' EXIT

mkdir -p -- "$cache"
chmod 0755 -- "$cache" "${cache%/*}"
# the tree's hash depends only on suite, packages and the apt sources: any size will do here
jq '. + {size: "2G"}' "$here/guest-tree.json" >"$tmp/recipe.json"
bash "$here/../../remote-scripts/kvm-build-image" tree --recipe "$tmp/recipe.json" --cache "$cache"
