// The shell scripts publishing runs on the reports host, each in ONE round trip
// (`sh -c SCRIPT NAME ARGS...`, arguments quoted by render()). Layout under reports.path:
//
//   releases/<id>/...                 one complete release per directory, never modified once renamed
//   releases/<id>/.publish-index.json its content index (path -> sha256, size, mode)
//   releases/<id>.partial/            a release being assembled (removed by the next publish)
//   releases/<id>.upload/             the uploaded tar, unpacked (files/, meta/), same
//   releases/.lock                    flock(1) lock: one publish or rollback at a time
//   current -> releases/<id>          the live site; switched by rename(2) of a new symlink
//
// A new release starts as a hard-link copy of the live one (`cp -al`): unchanged files cost
// nothing. Changed files are NEVER written into those shared inodes: the tar is unpacked into a
// fresh, empty directory, then linked into the partial release with `cp -al --remove-destination`
// (unlink, then link: the live release's inode is untouched). The new index replaces the copied
// one by rename(2). Only a complete release (the tar's last entry, meta/complete, names it) is
// renamed into place, and only then does `current` switch, by `mv -T current.tmp-<id> current`.

/** Release ids: r<6-digit sequence>-<UTC time>; the sequence orders them, whatever the clocks say. */
export const RELEASE_ID = /^r[0-9]{6}-[0-9]{8}T[0-9]{6}Z$/;
const RELEASE_ERE = '^r[0-9]{6}-[0-9]{8}T[0-9]{6}Z$';

const PRELUDE = `set -eu
CDPATH=
umask 022
export LC_ALL=C
fail() { code=$1; shift; printf '%s\\n' "$*" >&2; exit "$code"; }
live_id() {
  if [ -e current ] || [ -L current ]; then
    [ -L current ] || fail 3 "$PWD/current exists and is not a symlink: move it away (publishing manages current as a symlink)"
  fi
  cur=$(readlink current 2>/dev/null || :)
  case "$cur" in
    '') ;;
    releases/*) cur=\${cur#releases/} ;;
    *) fail 3 "$PWD/current points at $cur, not into releases/" ;;
  esac
}
lock() {
  exec 9>>releases/.lock
  if command -v flock >/dev/null 2>&1; then
    flock -w 60 9 || fail 75 "another publish or rollback holds $PWD/releases/.lock"
  fi
}
release_ids() { ls releases | grep -E '${RELEASE_ERE}' | sort || :; }
`;

/**
 * $1 root, $2 the release id whose index the client has cached, $3 that index's sha256 ('' for
 * none). Prints `live <id>`, `release <id>`..., then `index-cached` when the live index is the
 * cached one, else `index-follows` and the live index (if any).
 */
export const STATE_SCRIPT = `${PRELUDE}
if ! cd -- "$1" 2>/dev/null; then echo "live "; echo index-follows; exit 0; fi
live_id
echo "live $cur"
if [ -d releases ]; then release_ids | sed 's/^/release /'; fi
f="releases/$cur/.publish-index.json"
if [ -n "$cur" ] && [ "$cur" = "$2" ] && [ -f "$f" ] && [ "$(sha256sum < "$f" | cut -d' ' -f1)" = "$3" ]; then echo index-cached; exit 0; fi
echo index-follows
if [ -n "$cur" ] && [ -f "$f" ]; then cat "$f"; fi
`;

/**
 * $1 root, $2 the live id the client saw ('' for none), $3 base release to hard-link from
 * ('' for an empty start), $4 new id, $5 releases to keep. stdin: gzip'ed tar with
 * meta/remove (NUL-separated paths), files/<path>..., meta/index.json, meta/complete (= new id).
 */
export const STAGE_SCRIPT = `${PRELUDE}
mkdir -p -- "$1"
cd -- "$1"
mkdir -p releases
lock
live_id
[ "$cur" = "$2" ] || fail 76 "the live release changed while we prepared this one (now '$cur', expected '$2'): publish again"
for d in releases/*.partial releases/*.upload; do
  if [ -e "$d" ]; then rm -rf -- "$d"; echo "cleaned \${d#releases/}"; fi
done
for l in current.tmp-*; do if [ -L "$l" ]; then rm -f -- "$l"; fi; done
new=$4
p="releases/$new.partial"
u="releases/$new.upload"
[ ! -e "releases/$new" ] || fail 3 "release $new already exists"
if [ -n "$3" ]; then cp -al -- "releases/$3" "$p"; else mkdir -- "$p"; fi
mkdir -- "$u"
echo staged
gzip -dc | tar -xf - -C "$u" --no-same-owner
[ "$(cat "$u/meta/complete" 2>/dev/null || :)" = "$new" ] || fail 77 "the upload ended early (no completion mark): nothing was changed"
echo received
(cd -- "$p" && xargs -0 -r rm -f -- < "../$new.upload/meta/remove")
find "$p" -mindepth 1 -depth -type d -empty -delete
if [ -d "$u/files" ]; then cp -al --remove-destination -- "$u/files/." "$p/"; fi
mv -f -- "$u/meta/index.json" "$p/.publish-index.json"
rm -rf -- "$u"
sync -f -- "$p" 2>/dev/null || sync
mv -T -- "$p" "releases/$new"
echo "released $new"
ln -s -- "releases/$new" "current.tmp-$new"
mv -T -- "current.tmp-$new" current
echo "live $new"
release_ids | sort -r | tail -n +"$(($5 + 1))" | while IFS= read -r old; do
  if [ "$old" != "$new" ]; then rm -rf -- "releases/$old"; echo "pruned $old"; fi
done
echo done
`;

/** $1 root, $2 target id ('' = the newest release older than the live one). */
export const ROLLBACK_SCRIPT = `${PRELUDE}
cd -- "$1" 2>/dev/null || fail 4 "$1: nothing was ever published here"
[ -d releases ] || fail 4 "$1: nothing was ever published here"
lock
live_id
[ -n "$cur" ] || fail 4 "no release is live: nothing to roll back"
if [ -n "$2" ]; then
  release_ids | grep -qxF -- "$2" || fail 4 "no release $2 (have: $(release_ids | tr '\\n' ' '))"
  to=$2
else
  to=$(release_ids | awk -v c="$cur" '$0 < c' | tail -n 1)
  [ -n "$to" ] || fail 4 "no release older than the live $cur to roll back to"
fi
[ "$to" != "$cur" ] || fail 4 "$to is already live"
rm -f -- "current.tmp-$to"
ln -s -- "releases/$to" "current.tmp-$to"
mv -T -- "current.tmp-$to" current
echo "from $cur"
echo "to $to"
`;
