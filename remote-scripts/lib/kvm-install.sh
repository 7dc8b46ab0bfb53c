# shellcheck shell=bash
# The kvm scenario's guest.install (remote-scripts/kvm install, before the matrix): the guest's
# image built on this hypervisor when it is missing or its recipe changed, in a cache directory
# (KVM_INSTALL_CACHE: a directory, or the name of a backing store host-prepare made: the
# prepared image partition). Two ways:
#   mmdebstrap    remote-scripts/kvm-build-image with the recipe KVM_INSTALL_RECIPE (JSON):
#                 `build` (the tree may be downloaded from this host's apt sources) when
#                 KVM_INSTALL_DOWNLOAD=yes, else `image` (offline: a tree not cached fails).
#   virt-install  the argument list KVM_INSTALL_ARGV (JSON, built by the orchestrator) with the
#                 host's values filled in, run with no shell, bounded by KVM_INSTALL_TIMEOUT_S,
#                 the installer's serial console in install-console.log; cached by the hash of
#                 the arguments and the unattended file's content.
# Either way: a build happens in a temporary place renamed into place when complete, a failure
# removes it and fails the phase with the log's tail; the result is recorded in
# $ORCH_ARTIFACTS/guest-install.json (recipe hash, cached or built, the OS the image says it is)
# and $KVM_STATE/guest-image.tsv, which the points read (kvm_install_load).
# Sourced by remote-scripts/kvm; needs KVM_SELF_DIR, KVM_STATE, ORCH_ARTIFACTS.

KVM_INSTALL_TAIL_LINES=${KVM_INSTALL_TAIL_LINES:-20}

# kvm_install_cache_dir : the cache directory: KVM_INSTALL_CACHE as a directory, or the backing
# store of that name (its mount).
kvm_install_cache_dir() {
  local cache=${KVM_INSTALL_CACHE:?KVM_INSTALL_CACHE is not set}
  if [[ $cache != /* ]]; then
    cache=$(kvm_backing_dir "$cache")
  fi
  mkdir -p -- "$cache"
  chmod 0755 -- "$cache"
  printf '%s\n' "$cache"
}

# kvm_fail MESSAGE : the phase fails with MESSAGE, which also becomes the job's error (an error
# event: the orchestrator puts the last one beside the phase's exit status in the manifest).
kvm_fail() {
  orch_log_event error "$1"
  orch_die "$1"
}

# kvm_install_errors FILE : FILE's first "error:" lines (what the builder says went wrong), one line.
kvm_install_errors() {
  [[ -s $1 ]] || return 0
  grep -m 3 '^error:' -- "$1" | cut -c1-300 | sed 's/[^[:print:]\t]/?/g' | paste -sd '|' | sed 's/|/ | /g'
}

# kvm_install_tail FILE : the last lines of FILE, control characters made visible, one line.
kvm_install_tail() {
  [[ -s $1 ]] || return 0
  tail -n "$KVM_INSTALL_TAIL_LINES" -- "$1" | cut -c1-300 | tr -d '\r' | sed 's/[^[:print:]\t]/?/g' | paste -sd '|' | sed 's/|/ | /g'
}

# kvm_install_record METHOD HASH TREE_HASH IMAGE_CACHED TREE_CACHED SECONDS IMAGE FORMAT OS_JSON KERNEL INITRD :
# guest-install.json and guest-image.tsv.
kvm_install_record() {
  local method=$1 hash=$2 tree=$3 cached=$4 tree_cached=$5 seconds=$6 image=$7 format=$8 os=$9 kernel=${10} initrd=${11}
  jq -n -c --arg method "$method" --arg hash "$hash" --arg tree "$tree" --argjson cached "$cached" \
    --arg tree_cached "$tree_cached" --argjson seconds "$seconds" --arg image "$image" --arg format "$format" \
    --argjson os "$os" --arg kernel "$kernel" --arg initrd "$initrd" '
    {method: $method, recipe_hash: $hash, image_cached: $cached, seconds: $seconds, image: $image, format: $format, os: $os}
    + (if $tree == "" then {} else {tree_hash: $tree, tree_cached: ($tree_cached == "true")} end)
    + (if $kernel == "" then {} else {kernel: $kernel, initrd: $initrd} end)' |
    orch_atomic_write "$ORCH_ARTIFACTS/guest-install.json"
  printf 'image\t%s\nformat\t%s\nkernel\t%s\ninitrd\t%s\n' "$image" "$format" "$kernel" "$initrd" | orch_atomic_write "$KVM_STATE/guest-image.tsv"
}

# kvm_install_mmdebstrap : the image from KVM_INSTALL_RECIPE through kvm-build-image.
kvm_install_mmdebstrap() {
  local cache dir verb=image t0 rc=0 line result os
  cache=$(kvm_install_cache_dir)
  dir=$KVM_STATE/install
  rm -rf -- "$dir"
  mkdir -p -- "$dir"
  printf '%s\n' "${KVM_INSTALL_RECIPE:?KVM_INSTALL_RECIPE is not set}" >"$dir/recipe.json"
  jq -e 'type == "object"' "$dir/recipe.json" >/dev/null 2>&1 || orch_die "KVM_INSTALL_RECIPE is not a JSON object"
  [[ ${KVM_INSTALL_DOWNLOAD:-yes} == yes ]] && verb=build
  orch_progress "guest image: kvm-build-image $verb in $cache" 0
  t0=$(kvm_now_ms)
  bash "$KVM_SELF_DIR/kvm-build-image" "$verb" --recipe "$dir/recipe.json" --cache "$cache" >"$dir/out" 2>"$dir/log" || rc=$?
  cp -- "$dir/log" "$ORCH_ARTIFACTS/guest-install.log" 2>/dev/null || true
  if ((rc == 3)); then
    kvm_fail "guest install: the recipe's Debian tree is not cached in $cache/trees and guest.install.download is false (this host may not download): build it where downloading is allowed (kvm-build-image tree --recipe ... --cache $cache). $(kvm_install_errors "$dir/log")"
  elif ((rc != 0)); then
    kvm_fail "guest install (mmdebstrap) failed (exit $rc): $(kvm_install_errors "$dir/log"); nothing was left in $cache; the build log's last lines: $(KVM_INSTALL_TAIL_LINES=8 kvm_install_tail "$dir/log")"
  fi
  line=$(tail -n 1 -- "$dir/out")
  result=$(jq -c -e --arg cache "$cache" '
    select(.verb == "image" and (.image_hash | test("^[0-9a-f]{16}$")) and (.tree_hash | test("^[0-9a-f]{16}$"))
      and (.image | startswith($cache + "/images/")) and (.kernel | startswith($cache + "/images/"))
      and (.initrd | startswith($cache + "/images/")) and (.format == "raw" or .format == "qcow2"))' <<<"$line" 2>/dev/null) ||
    orch_die "guest install: kvm-build-image's result is not what it should be: $(printf '%s' "$line" | cut -c1-300)"
  local image kernel initrd format hash tree cached tree_cached
  image=$(jq -r .image <<<"$result") kernel=$(jq -r .kernel <<<"$result") initrd=$(jq -r .initrd <<<"$result")
  format=$(jq -r .format <<<"$result") hash=$(jq -r .image_hash <<<"$result") tree=$(jq -r .tree_hash <<<"$result")
  cached=$(jq -r '.image_cached // false' <<<"$result") tree_cached=$(jq -r '.tree_cached // false' <<<"$result")
  os=$(jq -c '.os // {} | with_entries(select(.value | type == "string"))' <<<"$result")
  for line in "$image" "$kernel" "$initrd"; do
    [[ -r $line ]] || orch_die "guest install: $line is not there after the build"
  done
  kvm_install_record mmdebstrap "$hash" "$tree" "$cached" "$tree_cached" \
    "$(awk -v ms="$(($(kvm_now_ms) - t0))" 'BEGIN { printf "%.3f", ms / 1000 }')" "$image" "$format" "$os" "$kernel" "$initrd"
  if [[ $cached == true ]]; then
    orch_progress "guest image $hash ($(jq -r '.pretty_name // "?"' <<<"$os")): cached" 1
  else
    orch_progress "guest image $hash ($(jq -r '.pretty_name // "?"' <<<"$os")): built" 1
  fi
}

# kvm_install_virt_argv ARRAY_NAME NAME DISK CONSOLE TYPE : ARRAY_NAME = KVM_INSTALL_ARGV's words,
# the placeholders replaced by the host's values (each word is one argument: no shell sees them).
kvm_install_virt_argv() {
  local -n kvm_argv_out=$1
  local name=$2 disk=$3 console=$4 type=$5 word
  kvm_argv_out=()
  jq -e 'type == "array" and length > 0 and all(.[]; type == "string" and (contains("\n") | not))' <<<"${KVM_INSTALL_ARGV:?KVM_INSTALL_ARGV is not set}" >/dev/null ||
    orch_die "KVM_INSTALL_ARGV is not a list of one-line strings"
  while IFS= read -r word; do
    word=${word//@INSTALL_NAME@/$name}
    word=${word//@INSTALL_DISK@/$disk}
    word=${word//@INSTALL_CONSOLE@/$console}
    word=${word//@DOMAIN_TYPE@/$type}
    kvm_argv_out+=("$word")
  done < <(jq -r '.[]' <<<"$KVM_INSTALL_ARGV")
}

# kvm_install_virt_cleanup NAME TMP : the installer's domain and the half-made entry gone.
kvm_install_virt_cleanup() {
  kvm_virsh destroy "$1" >/dev/null 2>&1 || true
  kvm_virsh undefine "$1" --nvram >/dev/null 2>&1 || kvm_virsh undefine "$1" >/dev/null 2>&1 || true
  [[ -n $2 ]] && rm -rf -- "$2"
}

# kvm_install_virt : the image from an install tree and an unattended-install file (virt-install).
kvm_install_virt() {
  local cache hash dir tmp name format=${KVM_INSTALL_FORMAT:-qcow2} t0 rc=0 type os={}
  local -a argv
  orch_require_cmd virt-install timeout
  cache=$(kvm_install_cache_dir)
  [[ -r ${KVM_INSTALL_UNATTENDED:?KVM_INSTALL_UNATTENDED is not set} ]] || orch_die "the unattended-install file $KVM_INSTALL_UNATTENDED is not readable on this host"
  hash=$({ printf '%s\n' "$KVM_INSTALL_ARGV"; cat -- "$KVM_INSTALL_UNATTENDED"; } | sha256sum)
  hash=${hash:0:16}
  dir=$cache/images/$hash
  t0=$(kvm_now_ms)
  if [[ ! -f $dir/COMPLETE ]]; then
    type=$(cat "$KVM_STATE/domain-type" 2>/dev/null || kvm_resolve_domain_type)
    mkdir -p -- "$cache/images"
    tmp=$(mktemp -d "$cache/images/.build-$hash.XXXXXX")
    # the half-made build in the shared cache: removed on any failure (EXIT) and by cleanup
    printf 'dir\t%s\n' "$tmp" >>"$KVM_STATE/domains.tsv"
    # shellcheck disable=SC2064 # the path now, quoted for the trap
    trap "rm -rf -- $(printf '%q' "$tmp")" EXIT
    chmod 0755 -- "$tmp"
    name=orch-install-$hash-$(od -An -N4 -tx4 /dev/urandom | tr -d ' ')
    kvm_install_virt_argv argv "$name" "$tmp/root.$format" "$tmp/install-console.log" "$type"
    printf 'domain\t%s\n' "$name" >>"$KVM_STATE/domains.tsv"
    orch_progress "guest image: virt-install $name (at most ${KVM_INSTALL_TIMEOUT_S:-5400} s)" 0
    timeout --kill-after=30 "${KVM_INSTALL_TIMEOUT_S:-5400}" virt-install "${argv[@]}" >"$tmp/virt-install.log" 2>&1 || rc=$?
    cp -- "$tmp/virt-install.log" "$ORCH_ARTIFACTS/guest-install.log" 2>/dev/null || true
    cp -- "$tmp/install-console.log" "$ORCH_ARTIFACTS/install-console.log" 2>/dev/null || true
    if ((rc != 0)); then
      local why="exit $rc"
      ((rc == 124)) && why="not finished within ${KVM_INSTALL_TIMEOUT_S:-5400} s"
      local console
      console=$(kvm_install_tail "$tmp/install-console.log")
      kvm_install_virt_cleanup "$name" "$tmp"
      kvm_fail "guest install (virt-install) failed ($why); the half-made image was removed; installer console: ${console:-nothing}; virt-install: $(kvm_install_tail "$ORCH_ARTIFACTS/guest-install.log")"
    fi
    kvm_install_virt_cleanup "$name" ''
    : >"$tmp/COMPLETE"
    rm -rf -- "$dir"
    mv -T -- "$tmp" "$dir"
    trap - EXIT
  fi
  if orch_have_cmd virt-cat; then
    os=$(virt-cat -a "$dir/root.$format" /etc/os-release 2>/dev/null | head -c 8192 |
      jq -R -n -c '[inputs | capture("^(?<k>ID|VERSION_ID|PRETTY_NAME)=\"?(?<v>[^\"]*)\"?$")?] | map({(.k | ascii_downcase): .v}) | add // {}') || os='{}'
  fi
  kvm_install_record virt-install "$hash" '' "$([[ -z ${tmp:-} ]] && echo true || echo false)" '' \
    "$(awk -v ms="$(($(kvm_now_ms) - t0))" 'BEGIN { printf "%.3f", ms / 1000 }')" "$dir/root.$format" "$format" "$os" '' ''
  orch_progress "guest image $hash: $([[ -z ${tmp:-} ]] && echo cached || echo installed)" 1
}

# kvm_install_load : the installed image's paths into KVM_BASE_IMAGE, KVM_BASE_FORMAT, KVM_KERNEL
# and KVM_INITRD (for a point), when the job installs its guest.
# shellcheck disable=SC2034 # the caller (remote-scripts/kvm point) reads them
kvm_install_load() {
  [[ ${KVM_GUEST_INSTALL:-no} == yes ]] || return 0
  local key value file=$KVM_STATE/guest-image.tsv
  [[ -r $file ]] || orch_die "no installed guest image recorded ($file): did the guest-install phase run?"
  while IFS=$'\t' read -r key value; do
    case $key in
      image) KVM_BASE_IMAGE=$value ;;
      format) KVM_BASE_FORMAT=$value ;;
      kernel) KVM_KERNEL=$value ;;
      initrd) KVM_INITRD=$value ;;
    esac
  done <"$file"
  [[ -r ${KVM_BASE_IMAGE:-} ]] || orch_die "the installed guest image ${KVM_BASE_IMAGE:-?} is not there"
}
