// The shell scripts publishing runs on the reports host (`sh -c SCRIPT NAME ARGS...`, arguments
// quoted by render()); a publish is ONE session. Layout under reports.path:
//
//   releases/<id>/...                 one complete release per directory, never modified once renamed
//   releases/<id>/.publish-index.json its content index (path -> sha256, size, mode; see site-index.ts)
//   releases/<id>.partial/            a release being assembled (removed by the next publish)
//   releases/<id>.upload/             the uploaded tar, unpacked (files/, meta/), same
//   releases/<id>.prelink/            a ready hard-link copy of release <id>, made after <id> went live
//   releases/<id>.trash/              a release past the keep limit, being deleted
//   releases/.lock                    flock(1) lock: one publish or rollback at a time
//   current -> releases/<id>          the live site; switched by rename(2) of a new symlink
//
// A new release starts as a hard-link copy of the live one (`cp -al`): unchanged files cost
// nothing. Changed files are NEVER written into those shared inodes: the tar is unpacked into a
// fresh, empty directory, then linked into the partial release with `cp -al --remove-destination`
// (unlink, then link: the live release's inode is untouched); the new index arrives the same way.
// Only a complete release (the tar's last entry, meta/complete, names it) whose index hashes to
// the sha256 the client announced is renamed into place, and only then does `current` switch, by
// `mv -T current.tmp-<id> current`.
//
// The hard-link copy costs a link per file (7,000 files: a few hundred ms), so it is made ahead:
// after a release goes live, a background job (still holding the lock) copies it to
// <id>.prelink, and the next publish renames that into its partial release. Without one (first
// publish after an upgrade, a rollback, an interrupted job) the copy runs in the background of
// the publish while the upload arrives. The scripts run few processes: on a busy host every fork
// shows.

/** Release ids: r<6-digit sequence>-<UTC time>; the sequence orders them, whatever the clocks say. */
export const RELEASE_ID = /^r[0-9]{6}-[0-9]{8}T[0-9]{6}Z$/;
const D = '[0-9]';
const RELEASE_GLOB = `r${D.repeat(6)}-${D.repeat(8)}T${D.repeat(6)}Z`;

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
# Release directories, oldest first: a glob (sorted, LC_ALL=C) instead of ls | grep | sort.
release_ids() { for d in releases/${RELEASE_GLOB}; do if [ -e "$d" ]; then printf '%s\\n' "\${d#releases/}"; fi; done; }
`;

/** $1 root. Prints `live <id>` and `release <id>`... (for listing; no lock, changes nothing). */
export const LIST_SCRIPT = `${PRELUDE}
if ! cd -- "$1" 2>/dev/null; then echo "live "; exit 0; fi
live_id
echo "live $cur"
if [ -d releases ]; then release_ids | sed 's/^/release /'; fi
`;

/**
 * Publishing in ONE session, both ways: the host reports its state, the client answers with the
 * upload on stdin.
 *
 * $1 root, $2 the release id whose index the client has cached, $3 that index's sha256 ('' for
 * none), $4 releases to keep, $5 the UTC time for the new id (YYYYMMDDTHHMMSSZ; '' = the host's).
 * Under the lock, prints `cleaned <dir>` for leftovers it removed, `live <id>`, `new <id>` (the
 * release being made), then one of `index-none`, `index-cached <sha256>` (the live index is the
 * client's) or `index-follows <bytes>` followed by the live index itself; then `staged` once the
 * partial release exists (renamed from the prelinked copy, or being hard-linked in the background).
 *
 * stdin: one line `<base> <compression> <index> <sha256>` (base: link = start from the live
 * release | empty; compression: gz | tar; index: delta | full; sha256 of the new index), then the
 * (gzip'ed) tar: meta/remove (NUL-separated paths), files/<path>..., the index (full:
 * files/.publish-index.json; delta: meta/index.head, meta/index.add, meta/index.drop), meta/complete
 * (= the new id).
 *
 * The delta is applied to the live index by one awk: live entry lines minus the dropped keys,
 * merged with the added lines (both sorted), commas in between. The result (like a full index)
 * must hash to the announced sha256, or nothing changes (exit 78) and the client publishes again
 * with the full index. Then: received, released <id>, live <id>, pruned <id>..., done.
 */
export const PUBLISH_SCRIPT = `${PRELUDE}
cpid=
trap '[ -z "$cpid" ] || kill "$cpid" 2>/dev/null || :' EXIT
mkdir -p -- "$1/releases"
cd -- "$1"
lock
live_id
for d in releases/*.partial releases/*.upload; do
  if [ -e "$d" ]; then rm -rf -- "$d"; echo "cleaned \${d#releases/}"; fi
done
for l in current.tmp-*; do if [ -L "$l" ]; then rm -f -- "$l"; fi; done
# What an interrupted background job left, and hard-link copies of releases that are not live.
for d in releases/*.trash releases/*.prelink-tmp releases/*.prelink; do
  if [ -e "$d" ] && [ "$d" != "releases/$cur.prelink" ]; then rm -rf -- "$d"; fi
done
last=
for d in releases/${RELEASE_GLOB}; do if [ -e "$d" ]; then last=\${d#releases/}; fi; done
seq=1
if [ -n "$last" ]; then s=\${last#r}; seq=$((1\${s%%-*} - 999999)); fi
[ "$seq" -le 999999 ] || fail 3 "release sequence exhausted"
stamp=$5
case "$stamp" in
  ${D.repeat(8)}T${D.repeat(6)}Z) ;;
  *) stamp=$(date -u +%Y%m%dT%H%M%SZ) ;;
esac
pad=000000$seq
new="r\${pad#"\${pad%??????}"}-$stamp"
p="releases/$new.partial"
u="releases/$new.upload"
[ ! -e "releases/$new" ] || fail 3 "release $new already exists"
echo "live $cur"
echo "new $new"
li="releases/$cur/.publish-index.json"
if [ -z "$cur" ] || [ ! -f "$li" ]; then
  echo index-none
elif [ "$cur" = "$2" ] && sum=$(sha256sum < "$li") && [ "\${sum%% *}" = "$3" ]; then
  echo "index-cached $3"
else
  echo "index-follows $(wc -c < "$li")"
  cat -- "$li"
fi
mkdir -- "$u"
prelinked=
if [ -n "$cur" ] && [ -d "releases/$cur.prelink" ]; then
  mv -T -- "releases/$cur.prelink" "$p"
  prelinked=1
elif [ -n "$cur" ]; then
  cp -al -- "releases/$cur" "$p" >/dev/null 2>"$u/.cp-errors" &
  cpid=$!
else
  mkdir -- "$p"
fi
echo staged
IFS=' ' read -r base comp imode isum || fail 77 "the upload ended early (no header): nothing was changed"
case "$base $comp $imode" in
  'link gz delta'|'link gz full'|'link tar delta'|'link tar full'|'empty gz full'|'empty tar full') ;;
  *) fail 2 "bad upload header: $base $comp $imode" ;;
esac
if [ "$comp" = gz ]; then gzip -dc | tar -xf - -C "$u" --no-same-owner; else tar -xf - -C "$u" --no-same-owner; fi
c=
if [ -f "$u/meta/complete" ]; then read -r c < "$u/meta/complete" || :; fi
[ "$c" = "$new" ] || fail 77 "the upload ended early (no completion mark): nothing was changed"
echo received
if [ -n "$cpid" ]; then
  wait "$cpid" || fail 1 "cp -al releases/$cur failed: $(head -c 2000 "$u/.cp-errors")"
  cpid=
fi
if [ "$base" = empty ] && [ -n "$cur" ]; then rm -rf -- "$p"; mkdir -- "$p"; prelinked=; fi
ni="$u/files/.publish-index.json"
if [ "$imode" = delta ]; then
  [ -f "$li" ] || fail 78 "no live index to apply the index delta to"
  [ -d "$u/files" ] || mkdir -- "$u/files"
  awk -v dropfile="$u/meta/index.drop" -v addfile="$u/meta/index.add" -v headfile="$u/meta/index.head" '
    function emit(line) { if (n++) print prev ","; prev = line }
    function next_add() { have = ((getline a < addfile) > 0) }
    BEGIN { while ((getline k < dropfile) > 0) drop[k] = 1; if ((getline h < headfile) <= 0) exit 1; print h; next_add() }
    FNR == 1 || $0 == "}}" { next }
    {
      sub(/,$/, ""); k = $0
      sub(/:[{]"sha256":"[0-9a-f]*","size":[0-9]*,"mode":[0-9]*[}]$/, "", k)
      if (k in drop) next
      while (have && a < $0) { emit(a); next_add() }
      emit($0)
    }
    END { while (have) { emit(a); next_add() } if (n) print prev; print "}}" }
  ' "$li" > "$ni" || :
fi
sum=
if [ -f "$ni" ]; then sum=$(sha256sum < "$ni"); fi
if [ "\${sum%% *}" != "$isum" ]; then
  # Nothing was changed in the partial release yet: a prelinked copy is kept for the next try.
  if [ -n "$prelinked" ]; then mv -T -- "$p" "releases/$cur.prelink"; fi
  rm -rf -- "$p" "$u"
  fail 78 "the new index on the host does not match the site's (sha256): nothing was changed"
fi
if [ "$base" = empty ] || [ -z "$cur" ]; then
  # Nothing to start from: the unpacked files are the release.
  rmdir -- "$p"
  mv -T -- "$u/files" "$p"
else
  if [ -s "$u/meta/remove" ]; then
    (cd -- "$p" && xargs -0 -r rm -f -- < "../$new.upload/meta/remove")
    find "$p" -mindepth 1 -depth -type d -empty -delete
  fi
  cp -al --remove-destination -- "$u/files/." "$p/"
fi
sync -f -- "$p" 2>/dev/null || sync
mv -T -- "$p" "releases/$new"
echo "released $new"
ln -s -- "releases/$new" "current.tmp-$new"
mv -T -- "current.tmp-$new" current
echo "live $new"
# Releases past the keep limit stop being releases now (renamed); deleting them and the upload
# dir, and making the next publish's hard-link copy of the new release (<id>.prelink), happen in
# the background, still under the lock: a next publish or rollback waits for them.
n=0
for d in releases/${RELEASE_GLOB}; do if [ -e "$d" ]; then n=$((n + 1)); fi; done
for d in releases/${RELEASE_GLOB}; do
  if [ "$n" -le "$4" ]; then break; fi
  old=\${d#releases/}
  if [ -e "$d" ] && [ "$old" != "$new" ]; then mv -T -- "$d" "$d.trash"; echo "pruned $old"; n=$((n - 1)); fi
done
(
  rm -rf -- "$u" releases/*.trash || :
  if cp -al -- "releases/$new" "releases/$new.prelink-tmp"; then mv -T -- "releases/$new.prelink-tmp" "releases/$new.prelink"; fi
) </dev/null >/dev/null 2>&1 &
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
