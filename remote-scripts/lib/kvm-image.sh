# shellcheck shell=bash
# The steps of remote-scripts/kvm-build-image (read its header first): recipe validation and
# hashing, the cached Debian tree (mmdebstrap) and the image assembled from it. Sourced, never
# executed. Needs jq, sha256sum, flock, tar, mkfs.ext4, and mmdebstrap for the tree.

# Bump when what the tree stage writes changes (hooks, excludes): every tree hash changes with it.
KVM_IMAGE_TREE_FORMAT=kvm-image-tree-v1
# Bump when the assembly changes (fstab, mkfs options, output layout).
KVM_IMAGE_FORMAT=kvm-image-v1
# The modules the initramfs carries and loads: enough to find and mount /dev/vda (ext4).
KVM_IMAGE_INITRD_MODULES=(virtio_pci virtio_blk crc32c_generic ext4)
# Removed from the tree once the packages are in (documentation, and kernel modules a TCG/KVM
# test guest never loads); the module index is rebuilt afterwards. (dpkg path-exclude trips over
# binNMU changelogs in bookworm, so this happens in the customize hook instead.)
KVM_IMAGE_TRIM=(usr/share/doc usr/share/man usr/share/info usr/share/locale usr/share/lintian
  'lib/modules/*/kernel/sound' 'lib/modules/*/kernel/drivers/gpu' 'lib/modules/*/kernel/drivers/media'
  'lib/modules/*/kernel/drivers/net/wireless' 'lib/modules/*/kernel/net/wireless'
  'lib/modules/*/kernel/drivers/infiniband' 'lib/modules/*/kernel/drivers/staging'
  'lib/modules/*/kernel/drivers/bluetooth' 'lib/modules/*/kernel/net/bluetooth'
  'lib/modules/*/kernel/drivers/isdn' 'lib/modules/*/kernel/drivers/net/ethernet/[!ir]*')
# (ethernet drivers stay for the NIC models a guest may get: intel (e1000, e1000e), realtek (rtl8139))

KI_RECIPE='' KI_RECIPE_DIR='' KI_SUITE='' KI_SIZE_MIB=0 KI_HOSTNAME='' KI_CMDLINE='' KI_FORMAT=raw
KI_PACKAGES=() KI_FILE_SUMS=()
KI_TREE_HASH='' KI_IMAGE_HASH='' KI_TREE_CACHED=false KI_IMAGE_CACHED=false
KI_BUILD_TMP=''

# kvm_image_fail MESSAGE [LOG] : the build failed: say why (with the tail of LOG), remove the
# temporary build directory, exit 1.
kvm_image_fail() {
  printf 'error: %s\n' "$1" >&2
  if [[ -n ${2:-} && -s $2 ]]; then
    printf -- '--- last lines of %s ---\n' "${2##*/}" >&2
    tail -n 25 -- "$2" | cut -c1-300 >&2
  fi
  kvm_image_cleanup
  exit 1
}

# kvm_image_cleanup : removes the temporary build directory, if any (also the EXIT trap).
kvm_image_cleanup() {
  if [[ -n $KI_BUILD_TMP && -d $KI_BUILD_TMP ]]; then
    rm -rf -- "$KI_BUILD_TMP"
  fi
  KI_BUILD_TMP=''
}

# kvm_image_step LOG DESCRIPTION COMMAND... : runs COMMAND with its output appended to LOG; a
# failure ends the build with DESCRIPTION and the log's tail.
kvm_image_step() {
  local log=$1 what=$2
  shift 2
  printf '== %s\n' "$what" >>"$log"
  "$@" >>"$log" 2>&1 || kvm_image_fail "$what failed" "$log"
}

# kvm_image_load_recipe FILE : validates the recipe (every problem at once) and loads it.
kvm_image_load_recipe() {
  local file=$1 problems size
  orch_require_cmd jq sha256sum
  [[ -f $file ]] || orch_die "recipe not found: $file"
  jq -e . "$file" >/dev/null 2>&1 || orch_die "recipe $file is not valid JSON"
  problems=$(jq -r -f /dev/stdin "$file" <<'JQ'
def str: type == "string";
def re($p): str and test($p);
def safe_path: re("^/[A-Za-z0-9._@+:/-]*$") and (test("(^|/)\\.\\.?(/|$)") | not);
def unit: re("^[A-Za-z0-9:_.@-]+\\.(service|timer|socket|target|path|mount)$");
if type != "object" then "the recipe must be a JSON object" else
  (keys - ["name","suite","packages","size","format","hostname","cmdline","files","dirs","symlinks","remove","mask"]
    | .[] | "unknown key '\(.)'"),
  (if (.suite | re("^[a-z][a-z0-9-]*$")) then empty else "suite: a Debian suite name, e.g. bookworm" end),
  (if (.packages | type) == "array" and (.packages | length) > 0
     and all(.packages[]; re("^[a-z0-9][a-z0-9+.-]+$")) then empty
   else "packages: a non-empty list of Debian package names" end),
  (if (.size | re("^[1-9][0-9]*[MG]$")) then empty else "size: e.g. 2048M or 2G" end),
  (if .format == null or .format == "raw" or .format == "qcow2" then empty else "format: raw or qcow2" end),
  (if .hostname == null or (.hostname | re("^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$")) then empty
   else "hostname: letters, digits and '-'" end),
  (if .cmdline == null or (.cmdline | re("^[ -~]*$")) then empty else "cmdline: one line of printable ASCII" end),
  ((.files // []) | if type != "array" then "files: a list" else .[] |
     if (.src | re("^[^\\t\\n]+$")) and (.dest | safe_path) and (.mode | re("^0?[0-7]{3,4}$")) then empty
     else "files: each {src, dest (absolute, no ..), mode (octal)}: \(tojson)" end end),
  ((.dirs // []) | if type != "array" then "dirs: a list" else .[] |
     if (.dest | safe_path) and (.mode | re("^0?[0-7]{3,4}$")) then empty
     else "dirs: each {dest (absolute, no ..), mode (octal)}: \(tojson)" end end),
  ((.symlinks // []) | if type != "array" then "symlinks: a list" else .[] |
     if (.dest | safe_path) and (.target | re("^[A-Za-z0-9._@+:/-]+$")) then empty
     else "symlinks: each {dest (absolute, no ..), target}: \(tojson)" end end),
  ((.remove // []) | if type != "array" then "remove: a list" else .[] |
     if safe_path and . != "/" then empty else "remove: absolute paths below /: \(tojson)" end end),
  ((.mask // []) | if type != "array" then "mask: a list" else .[] |
     if unit then empty else "mask: systemd unit names: \(tojson)" end end)
end
JQ
  )
  if [[ -n $problems ]]; then
    printf 'error: recipe %s:\n' "$file" >&2
    printf '  %s\n' "${problems//$'\n'/$'\n'  }" >&2
    exit 2
  fi
  KI_RECIPE=$(jq -S -c . "$file")
  KI_RECIPE_DIR=$(cd "$(dirname -- "$file")" && pwd)
  KI_SUITE=$(jq -r .suite <<<"$KI_RECIPE")
  KI_HOSTNAME=$(jq -r '.hostname // "debian-guest"' <<<"$KI_RECIPE")
  KI_CMDLINE=$(jq -r '.cmdline // "console=ttyS0 root=/dev/vda rw"' <<<"$KI_RECIPE")
  KI_FORMAT=$(jq -r '.format // "raw"' <<<"$KI_RECIPE")
  size=$(jq -r .size <<<"$KI_RECIPE")
  KI_SIZE_MIB=${size%[MG]}
  [[ $size == *G ]] && KI_SIZE_MIB=$((KI_SIZE_MIB * 1024))
  mapfile -t KI_PACKAGES < <(jq -r '.packages[]' <<<"$KI_RECIPE" | LC_ALL=C sort -u)
  kvm_image_sum_files
}

# kvm_image_src PATH : the recipe's src PATH, resolved against the recipe's directory.
kvm_image_src() {
  if [[ $1 == /* ]]; then printf '%s\n' "$1"; else printf '%s\n' "$KI_RECIPE_DIR/$1"; fi
}

# kvm_image_sum_files : KI_FILE_SUMS, one "dest mode sha256" per laid-in file (their content
# is part of the image hash); a missing source file is an error.
kvm_image_sum_files() {
  local src dest mode path sum missing=()
  KI_FILE_SUMS=()
  while IFS=$'\t' read -r src dest mode; do
    [[ -n $src ]] || continue
    path=$(kvm_image_src "$src")
    if [[ ! -f $path ]]; then
      missing+=("$path")
      continue
    fi
    sum=$(sha256sum <"$path")
    KI_FILE_SUMS+=("$dest $mode ${sum%% *}")
  done < <(jq -r '(.files // [])[] | [.src, .dest, .mode] | @tsv' <<<"$KI_RECIPE")
  ((${#missing[@]} == 0)) || orch_die "recipe files not found: ${missing[*]}"
}

# kvm_image_hashes SOURCES : KI_TREE_HASH (suite, packages, the apt sources, tree format) and
# KI_IMAGE_HASH (the tree, the recipe, every laid-in file's content, the image format).
kvm_image_hashes() {
  local sources=$1 sum
  sum=$({
    printf '%s\n%s\n' "$KVM_IMAGE_TREE_FORMAT" "$KI_SUITE"
    printf '%s\n' "${KI_PACKAGES[@]}" "${KVM_IMAGE_INITRD_MODULES[@]}" "${KVM_IMAGE_TRIM[@]}"
    printf -- '--sources\n'
    cat -- "$sources"
  } | sha256sum)
  KI_TREE_HASH=${sum:0:16}
  sum=$({
    printf '%s\n%s\n%s\n' "$KVM_IMAGE_FORMAT" "$KI_TREE_HASH" "$KI_RECIPE"
    ((${#KI_FILE_SUMS[@]} == 0)) || printf '%s\n' "${KI_FILE_SUMS[@]}"
  } | sha256sum)
  KI_IMAGE_HASH=${sum:0:16}
}

# kvm_image_lock DIR NAME : holds an exclusive lock on DIR/.lock-NAME until the process exits,
# so two builders of the same entry build it once.
kvm_image_lock() {
  local fd
  exec {fd}>"$1/.lock-$2"
  flock "$fd"
}

# kvm_image_setup_hook : the mmdebstrap setup hook (sh; $1 is the new root): no PostgreSQL cluster
# is created when postgresql is installed, and the initramfs carries only the listed modules.
kvm_image_setup_hook() {
  cat <<'SH'
set -eu
mkdir -p "$1/etc/postgresql-common" "$1/etc/initramfs-tools/conf.d"
printf 'create_main_cluster = false\n' >"$1/etc/postgresql-common/createcluster.conf"
printf 'MODULES=list\n' >"$1/etc/initramfs-tools/conf.d/orchestrate-kvm-image"
SH
}

# kvm_image_customize_hook : the mmdebstrap customize hook (sh; $1 the root, $2 where to write
# the package list): the trimmed paths removed, the module index and the initramfs (with the
# module list) rebuilt, the installed packages recorded.
kvm_image_customize_hook() {
  local trim
  printf 'set -eu\n'
  for trim in "${KVM_IMAGE_TRIM[@]}"; do
    # shellcheck disable=SC2016 # $1 is the hook's argument, expanded by the hook's sh
    printf 'rm -rf "$1"/%s\n' "$trim"
  done
  # shellcheck disable=SC2016 # $1 is the hook's argument, expanded by the hook's sh
  printf 'printf "%%s\\n" %s >"$1/etc/initramfs-tools/modules"\n' "${KVM_IMAGE_INITRD_MODULES[*]}"
  cat <<'SH'
for k in "$1"/boot/vmlinuz-*; do
  [ -f "$k" ] || continue
  chroot "$1" depmod -a "${k##*/vmlinuz-}"
  chroot "$1" update-initramfs -u -k "${k##*/vmlinuz-}"
done
chroot "$1" dpkg-query -W -f '${Package} ${Version}\n' >"$2"
SH
}

# kvm_image_tree CACHE SOURCES : the cached Debian root tree (CACHE/trees/<hash>/rootfs.tar).
kvm_image_tree() {
  local cache=$1 sources=$2 dir tmp log include
  dir=$cache/trees/$KI_TREE_HASH
  if [[ -f $dir/COMPLETE ]]; then
    KI_TREE_CACHED=true
    return 0
  fi
  orch_require_cmd mmdebstrap flock tar
  [[ $(id -u) -eq 0 ]] || orch_die "building the Debian tree needs root (mmdebstrap --mode=root)"
  mkdir -p -- "$cache/trees"
  kvm_image_lock "$cache/trees" "$KI_TREE_HASH"
  if [[ -f $dir/COMPLETE ]]; then
    KI_TREE_CACHED=true
    return 0
  fi
  tmp=$(mktemp -d "$cache/trees/.build-$KI_TREE_HASH.XXXXXX")
  KI_BUILD_TMP=$tmp
  trap kvm_image_cleanup EXIT
  log=$tmp/build.log
  kvm_image_setup_hook >"$tmp/setup-hook.sh"
  kvm_image_customize_hook >"$tmp/customize-hook.sh"
  include=$(IFS=,; printf '%s' "${KI_PACKAGES[*]}")
  printf 'mmdebstrap %s (%d packages) from %s\n' "$KI_SUITE" "${#KI_PACKAGES[@]}" "$sources" >&2
  kvm_image_step "$log" "mmdebstrap $KI_SUITE" \
    mmdebstrap --mode=root --variant=minbase --format=tar --include="$include" \
    --dpkgopt=force-confold \
    --setup-hook="sh $tmp/setup-hook.sh \"\$1\"" \
    --customize-hook="sh $tmp/customize-hook.sh \"\$1\" $tmp/packages.txt" \
    "$KI_SUITE" "$tmp/rootfs.tar" "$sources"
  [[ -s $tmp/rootfs.tar && -s $tmp/packages.txt ]] || kvm_image_fail "mmdebstrap left no tree" "$log"
  cp -- "$sources" "$tmp/sources"
  jq -n --arg hash "$KI_TREE_HASH" --arg suite "$KI_SUITE" --arg format "$KVM_IMAGE_TREE_FORMAT" \
    --arg built "$(date -u +%Y-%m-%dT%H:%M:%SZ)" '{hash: $hash, suite: $suite, format: $format, built: $built}' >"$tmp/tree.json"
  printf '%s\n' "${KI_PACKAGES[@]}" >"$tmp/requested-packages.txt"
  : >"$tmp/COMPLETE"
  chmod 0755 "$tmp"
  rm -rf -- "$dir"
  mv -T -- "$tmp" "$dir"
  KI_BUILD_TMP=''
  KI_TREE_CACHED=false
}

# kvm_image_lay_in STAGE : the recipe's hostname, fstab, dirs, files, symlinks, removals and masks.
kvm_image_lay_in() {
  local stage=$1 src dest mode target unit
  printf '%s\n' "$KI_HOSTNAME" >"$stage/etc/hostname"
  printf '127.0.0.1\tlocalhost\n127.0.1.1\t%s\n' "$KI_HOSTNAME" >"$stage/etc/hosts"
  printf '# root is the whole disk (no partition table); no fsck at boot\n/dev/vda / ext4 rw,errors=remount-ro 0 0\n' >"$stage/etc/fstab"
  while IFS=$'\t' read -r dest; do
    [[ -n $dest ]] && rm -rf -- "${stage:?}$dest"
  done < <(jq -r '(.remove // [])[]' <<<"$KI_RECIPE")
  while IFS=$'\t' read -r dest mode; do
    [[ -n $dest ]] || continue
    mkdir -p -- "$stage$dest"
    chmod "$mode" "$stage$dest"
  done < <(jq -r '(.dirs // [])[] | [.dest, .mode] | @tsv' <<<"$KI_RECIPE")
  while IFS=$'\t' read -r src dest mode; do
    [[ -n $src ]] || continue
    install -D -o 0 -g 0 -m "$mode" -- "$(kvm_image_src "$src")" "$stage$dest"
  done < <(jq -r '(.files // [])[] | [.src, .dest, .mode] | @tsv' <<<"$KI_RECIPE")
  while IFS=$'\t' read -r dest target; do
    [[ -n $dest ]] || continue
    mkdir -p -- "$(dirname -- "$stage$dest")"
    ln -sfn -- "$target" "$stage$dest"
  done < <(jq -r '(.symlinks // [])[] | [.dest, .target] | @tsv' <<<"$KI_RECIPE")
  mkdir -p -- "$stage/etc/systemd/system"
  while read -r unit; do
    [[ -n $unit ]] && ln -sfn /dev/null "$stage/etc/systemd/system/$unit"
  done < <(jq -r '(.mask // [])[]' <<<"$KI_RECIPE")
}

# kvm_image_kernel STAGE OUT : copies the tree's one kernel and its initrd to OUT/{vmlinuz,initrd.img};
# prints the kernel version.
kvm_image_kernel() {
  local stage=$1 out=$2 kernels version
  kernels=("$stage"/boot/vmlinuz-*)
  [[ -f ${kernels[0]} ]] || { printf 'no /boot/vmlinuz-* in the tree: add linux-image-amd64 to the packages\n' >&2; return 1; }
  ((${#kernels[@]} == 1)) || { printf 'several kernels in the tree: %s\n' "${kernels[*]##*/}" >&2; return 1; }
  version=${kernels[0]##*/vmlinuz-}
  [[ -f $stage/boot/initrd.img-$version ]] || { printf 'no initrd.img-%s in the tree (initramfs-tools?)\n' "$version" >&2; return 1; }
  cp -- "${kernels[0]}" "$out/vmlinuz"
  cp -- "$stage/boot/initrd.img-$version" "$out/initrd.img"
  printf '%s\n' "$version"
}

# kvm_image_file : the image's file name in its cache entry (root.img, or root.qcow2).
kvm_image_file() {
  if [[ $KI_FORMAT == qcow2 ]]; then printf 'root.qcow2\n'; else printf 'root.img\n'; fi
}

# kvm_image_os_release STAGE : prints the tree's /etc/os-release (a link into the tree resolved
# inside it, never on the builder's own filesystem): what the image will say it is.
kvm_image_os_release() {
  local stage=$1 file=$1/etc/os-release target
  if [[ -L $file ]]; then
    target=$(readlink -- "$file")
    if [[ $target == /* ]]; then file=$stage$target; else file=$stage/etc/$target; fi
  fi
  [[ -f $file && ! -L $file ]] || file=$stage/usr/lib/os-release
  [[ -f $file && ! -L $file ]] || return 1
  head -c 8192 -- "$file"
}

# kvm_image_os_json DIR : DIR/os-release as JSON {id, version_id, pretty_name} (values unquoted;
# anything else in the file is left out).
kvm_image_os_json() {
  jq -R -n -c '[inputs | capture("^(?<k>ID|VERSION_ID|PRETTY_NAME)=\"?(?<v>[^\"]*)\"?$")?] | map({(.k | ascii_downcase): .v}) | add // {}' <"$1/os-release"
}

# kvm_image_assemble CACHE : the image from the cached tree (CACHE/images/<hash>/).
kvm_image_assemble() {
  local cache=$1 tree dir tmp log stage used_mib version
  tree=$cache/trees/$KI_TREE_HASH
  dir=$cache/images/$KI_IMAGE_HASH
  if [[ ! -f $tree/COMPLETE ]]; then
    printf 'error: the Debian tree %s (suite %s, %d packages) is not in %s: build it first (kvm-build-image tree; it downloads packages)\n' \
      "$KI_TREE_HASH" "$KI_SUITE" "${#KI_PACKAGES[@]}" "$cache/trees" >&2
    exit 3
  fi
  if [[ -f $dir/COMPLETE ]]; then
    KI_IMAGE_CACHED=true
    return 0
  fi
  orch_require_cmd flock tar mkfs.ext4 du install
  mkdir -p -- "$cache/images"
  kvm_image_lock "$cache/images" "$KI_IMAGE_HASH"
  if [[ -f $dir/COMPLETE ]]; then
    KI_IMAGE_CACHED=true
    return 0
  fi
  tmp=$(mktemp -d "$cache/images/.build-$KI_IMAGE_HASH.XXXXXX")
  KI_BUILD_TMP=$tmp
  trap kvm_image_cleanup EXIT
  log=$tmp/build.log
  stage=$tmp/root
  mkdir -- "$stage"
  kvm_image_step "$log" "unpacking the tree $KI_TREE_HASH" \
    tar -xpf "$tree/rootfs.tar" -C "$stage" --numeric-owner --xattrs --xattrs-include='*'
  kvm_image_step "$log" "laying in the recipe's files" kvm_image_lay_in "$stage"
  used_mib=$(du -sxm -- "$stage" | cut -f1)
  if ((used_mib * 110 / 100 + 64 > KI_SIZE_MIB)); then
    kvm_image_fail "the recipe's size (${KI_SIZE_MIB} MiB) is too small: the tree holds ${used_mib} MiB (ext4 needs ~10% + 64 MiB more)"
  fi
  version=$(kvm_image_kernel "$stage" "$tmp" 2>>"$log") || kvm_image_fail "extracting the kernel failed" "$log"
  # what the image says it is (recorded; a tree without os-release is recorded as an unknown OS)
  kvm_image_os_release "$stage" >"$tmp/os-release" 2>>"$log" || : >"$tmp/os-release"
  kvm_image_step "$log" "mkfs.ext4 -d ($KI_SIZE_MIB MiB)" \
    mkfs.ext4 -q -F -L guest-root -b 4096 -d "$stage" "$tmp/root.img" "${KI_SIZE_MIB}M"
  rm -rf -- "$stage"
  if [[ $KI_FORMAT == qcow2 ]]; then
    kvm_image_step "$log" "qemu-img convert to qcow2" qemu-img convert -f raw -O qcow2 "$tmp/root.img" "$tmp/root.qcow2"
    rm -f -- "$tmp/root.img"
  fi
  printf '%s\n' "$KI_CMDLINE" >"$tmp/cmdline"
  chmod 0644 "$tmp/$(kvm_image_file)" "$tmp/vmlinuz" "$tmp/initrd.img" "$tmp/cmdline" "$tmp/os-release"
  jq -n --argjson recipe "$KI_RECIPE" --arg hash "$KI_IMAGE_HASH" --arg tree "$KI_TREE_HASH" \
    --arg format "$KVM_IMAGE_FORMAT" --arg kernel "$version" --argjson used "$used_mib" \
    --arg built "$(date -u +%Y-%m-%dT%H:%M:%SZ)" --arg image_format "$KI_FORMAT" \
    '{hash: $hash, tree: $tree, format: $format, image_format: $image_format, kernel_version: $kernel, content_mib: $used, built: $built, recipe: $recipe}' \
    >"$tmp/recipe.json"
  : >"$tmp/COMPLETE"
  chmod 0755 "$tmp"
  rm -rf -- "$dir"
  mv -T -- "$tmp" "$dir"
  KI_BUILD_TMP=''
  KI_IMAGE_CACHED=false
}

# kvm_image_result VERB [CACHE] : the one JSON line the caller parses.
kvm_image_result() {
  local verb=$1 cache=${2:-} os='{}'
  if [[ $verb == image && -f $cache/images/$KI_IMAGE_HASH/os-release ]]; then
    os=$(kvm_image_os_json "$cache/images/$KI_IMAGE_HASH")
  fi
  jq -n -c --arg verb "$verb" --arg tree_hash "$KI_TREE_HASH" --arg image_hash "$KI_IMAGE_HASH" \
    --arg cache "$cache" --argjson tree_cached "$KI_TREE_CACHED" --argjson image_cached "$KI_IMAGE_CACHED" \
    --arg cmdline "$KI_CMDLINE" --arg format "$KI_FORMAT" --arg file "$(kvm_image_file)" --argjson os "$os" '
    {verb: $verb, tree_hash: $tree_hash, image_hash: $image_hash, cmdline: $cmdline, format: $format}
    + (if $cache == "" then {} else {tree: "\($cache)/trees/\($tree_hash)/rootfs.tar", tree_cached: $tree_cached} end)
    + (if $verb == "image" then
        {dir: "\($cache)/images/\($image_hash)", image: "\($cache)/images/\($image_hash)/\($file)",
         kernel: "\($cache)/images/\($image_hash)/vmlinuz", initrd: "\($cache)/images/\($image_hash)/initrd.img",
         image_cached: $image_cached, os: $os}
      else {} end)'
}
