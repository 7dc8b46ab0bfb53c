# shellcheck shell=sh
# The releases of the report site on the reports host: list them, publish a new one, roll back.
#
# Sourced, never run on its own: orchestrator/publish/host-calls.ts sends this file's text plus
# one call line (`releases_publish "$@"`) as `sh -c TEXT orchestrate-publish ARGS...`, a publish
# being ONE session. It is not in the helper bundle's way of travelling (pushed once, named by
# hash) because the reports host need not be a fleet host: it may have only a POSIX sh (the
# bundle's installer is bash), and a publish is one session anyway, whose upload dwarfs these
# few KiB. So this is POSIX sh: `set -eu`, no pipefail (dash has none; no pipeline here has a
# status that matters beyond its last command).
#
# Layout under reports.path:
#
#   releases/<id>/...                 one complete release per directory, never modified once renamed
#   releases/<id>/.publish-index.json its content index (path -> sha256, size, mode; see site-index.ts)
#   releases/<id>.partial/            a release being assembled (removed by the next publish)
#   releases/<id>.upload/             the uploaded tar, unpacked (files/, meta/), same
#   releases/<id>.prelink/            a ready hard-link copy of release <id>, made after <id> went live
#   releases/<id>.trash/              a release past the keep limit, being deleted
#   releases/.lock                    flock(1) lock: one publish or rollback at a time
#   current -> releases/<id>          the live site; switched by rename(2) of a new symlink
#
# A new release starts as a hard-link copy of the live one (`cp -al`): unchanged files cost
# nothing. Changed files are NEVER written into those shared inodes: the tar is unpacked into a
# fresh, empty directory, then linked into the partial release with `cp -al --remove-destination`
# (unlink, then link: the live release's inode is untouched); the new index arrives the same way.
# Only a complete release (the tar's last entry, meta/complete, names it) whose index hashes to
# the sha256 the client announced is renamed into place, and only then does `current` switch, by
# `mv -T current.tmp-<id> current`.
#
# The hard-link copy costs a link per file (7,000 files: a few hundred ms), so it is made ahead:
# after a release goes live, a background job (still holding the lock) copies it to
# <id>.prelink, and the next publish renames that into its partial release. Without one (first
# publish after an upgrade, a rollback, an interrupted job) the copy runs in the background of
# the publish while the upload arrives. Few processes: on a busy host every fork shows.
#
# The functions share the publish's state in globals: cur (the live id), new (the id being made),
# p (its partial dir), u (its upload dir), li (the live index), ni (the new index), cpid (the
# background copy), prelinked, and the upload header's base, comp, imode, isum.

# Release ids: r<6-digit sequence>-<UTC time>; the sequence orders them, whatever the clocks say.
# (orchestrator/publish/host-calls.ts RELEASE_ID is the same pattern.) Globs sort by bytes (LC_ALL=C).
RELEASE_GLOB='r[0-9][0-9][0-9][0-9][0-9][0-9]-[0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z'

# The shell every entry point runs in: stop on errors and unset variables, no cd surprises.
releases_shell() {
  set -eu
  CDPATH=
  umask 022
  export LC_ALL=C
}

# fail CODE MESSAGE...: the message to stderr, exit CODE.
fail() {
  code=$1
  shift
  printf '%s\n' "$*" >&2
  exit "$code"
}

# Sets cur to the live release id ('' when nothing is live); refuses a current that is not ours.
live_id() {
  if [ -e current ] || [ -L current ]; then
    [ -L current ] || fail 3 "$PWD/current exists and is not a symlink: move it away (publishing manages current as a symlink)"
  fi
  cur=$(readlink current 2>/dev/null || :)
  case "$cur" in
    '') ;;
    releases/*) cur=${cur#releases/} ;;
    *) fail 3 "$PWD/current points at $cur, not into releases/" ;;
  esac
}

# One publish or rollback at a time (fd 9 stays open, so the lock lasts as long as the shell).
lock() {
  exec 9>>releases/.lock
  if command -v flock >/dev/null 2>&1; then
    flock -w 60 9 || fail 75 "another publish or rollback holds $PWD/releases/.lock"
  fi
}

# Release ids, oldest first, one a line.
release_ids() {
  # shellcheck disable=SC2086 # the glob is meant to expand
  for d in releases/$RELEASE_GLOB; do
    if [ -e "$d" ]; then printf '%s\n' "${d#releases/}"; fi
  done
}

# ---------------------------------------------------------------------------------------------
# releases_list ROOT: prints `live <id>` ('' when none) and `release <id>`... No lock, changes nothing.
releases_list() {
  releases_shell
  if ! cd -- "$1" 2>/dev/null; then
    echo "live "
    exit 0
  fi
  live_id
  echo "live $cur"
  if [ -d releases ]; then release_ids | sed 's/^/release /'; fi
}

# ---------------------------------------------------------------------------------------------
# releases_rollback ROOT TARGET: switches current to TARGET ('' = the newest release older than
# the live one). Prints `from <id>`, `to <id>`.
releases_rollback() {
  releases_shell
  cd -- "$1" 2>/dev/null || fail 4 "$1: nothing was ever published here"
  [ -d releases ] || fail 4 "$1: nothing was ever published here"
  lock
  live_id
  [ -n "$cur" ] || fail 4 "no release is live: nothing to roll back"
  if [ -n "$2" ]; then
    release_ids | grep -qxF -- "$2" || fail 4 "no release $2 (have: $(release_ids | tr '\n' ' '))"
    to=$2
  else
    to=$(release_ids | awk -v c="$cur" '$0 < c' | tail -n 1)
    [ -n "$to" ] || fail 4 "no release older than the live $cur to roll back to"
  fi
  [ "$to" != "$cur" ] || fail 4 "$to is already live"
  switch_current "$to"
  echo "from $cur"
  echo "to $to"
}

# switch_current ID: current -> releases/ID, in one rename(2).
switch_current() {
  rm -f -- "current.tmp-$1"
  ln -s -- "releases/$1" "current.tmp-$1"
  mv -T -- "current.tmp-$1" current
}

# ---------------------------------------------------------------------------------------------
# releases_publish ROOT CACHED_ID CACHED_SHA256 KEEP STAMP
#
# Publishing in ONE session, both ways: the host reports its state, the client answers with the
# upload on stdin. CACHED_ID is the release whose index the client has cached, CACHED_SHA256 that
# index's sha256 ('' for none), KEEP the releases to keep, STAMP the UTC time for the new id
# (YYYYMMDDTHHMMSSZ; '' = the host's).
#
# Under the lock, prints `cleaned <dir>` for leftovers it removed, `live <id>`, `new <id>` (the
# release being made), then one of `index-none`, `index-cached <sha256>` (the live index is the
# client's) or `index-follows <bytes>` followed by the live index itself; then `staged` once the
# partial release exists (renamed from the prelinked copy, or being hard-linked in the background).
#
# stdin: one line `<base> <compression> <index> <sha256>` (base: link = start from the live
# release | empty; compression: gz | tar; index: delta | full; sha256 of the new index), then the
# (gzip'ed) tar: meta/remove (NUL-separated paths), files/<path>..., the index (full:
# files/.publish-index.json; delta: meta/index.head, meta/index.add, meta/index.drop), meta/complete
# (= the new id).
#
# The new index (the delta applied, or the full one) must hash to the announced sha256, or nothing
# changes (exit 78) and the client publishes again with the full index. Then: received,
# released <id>, live <id>, pruned <id>..., done.
releases_publish() {
  releases_shell
  cpid=
  trap stop_background_copy EXIT
  mkdir -p -- "$1/releases"
  cd -- "$1"
  lock
  live_id
  clean_leftovers
  next_release_id "$5"
  echo "live $cur"
  echo "new $new"
  p="releases/$new.partial"
  u="releases/$new.upload"
  li="releases/$cur/.publish-index.json"
  ni="$u/files/.publish-index.json"
  report_live_index "$2" "$3"
  mkdir -- "$u"
  stage_partial
  echo staged
  receive_upload
  echo received
  wait_background_copy
  if [ "$base" = empty ] && [ -n "$cur" ]; then
    rm -rf -- "$p"
    mkdir -- "$p"
    prelinked=
  fi
  if [ "$imode" = delta ]; then apply_index_delta; fi
  check_new_index
  assemble_release
  sync -f -- "$p" 2>/dev/null || sync
  mv -T -- "$p" "releases/$new"
  echo "released $new"
  switch_current "$new"
  echo "live $new"
  retire_releases "$4"
  prepare_next_in_background
  echo 'done'
}

# The EXIT trap of a publish: a background hard-link copy does not outlive it.
stop_background_copy() {
  [ -z "$cpid" ] || kill "$cpid" 2>/dev/null || :
}

# What interrupted publishes left: partial and upload dirs (reported), temporary symlinks, and
# what an interrupted background job left or hard-link copies of releases that are not live.
clean_leftovers() {
  for d in releases/*.partial releases/*.upload; do
    if [ -e "$d" ]; then
      rm -rf -- "$d"
      echo "cleaned ${d#releases/}"
    fi
  done
  for l in current.tmp-*; do if [ -L "$l" ]; then rm -f -- "$l"; fi; done
  for d in releases/*.trash releases/*.prelink-tmp releases/*.prelink; do
    if [ -e "$d" ] && [ "$d" != "releases/$cur.prelink" ]; then rm -rf -- "$d"; fi
  done
}

# next_release_id STAMP: sets new to one past the newest release's sequence, at STAMP (or now).
next_release_id() {
  last=
  # shellcheck disable=SC2086 # the glob is meant to expand
  for d in releases/$RELEASE_GLOB; do if [ -e "$d" ]; then last=${d#releases/}; fi; done
  seq=1
  if [ -n "$last" ]; then
    s=${last#r}
    seq=$((1${s%%-*} - 999999))
  fi
  [ "$seq" -le 999999 ] || fail 3 "release sequence exhausted"
  stamp=$1
  case "$stamp" in
    [0-9][0-9][0-9][0-9][0-9][0-9][0-9][0-9]T[0-9][0-9][0-9][0-9][0-9][0-9]Z) ;;
    *) stamp=$(date -u +%Y%m%dT%H%M%SZ) ;;
  esac
  pad=000000$seq
  new="r${pad#"${pad%??????}"}-$stamp"
  [ ! -e "releases/$new" ] || fail 3 "release $new already exists"
}

# report_live_index CACHED_ID CACHED_SHA256: index-none, index-cached, or index-follows and the index.
report_live_index() {
  if [ -z "$cur" ] || [ ! -f "$li" ]; then
    echo index-none
  elif [ "$cur" = "$1" ] && sum=$(sha256sum <"$li") && [ "${sum%% *}" = "$2" ]; then
    echo "index-cached $2"
  else
    echo "index-follows $(wc -c <"$li")"
    cat -- "$li"
  fi
}

# The partial release: the prelinked copy of the live one renamed, or a hard-link copy started in
# the background (cpid), or empty on the first publish.
stage_partial() {
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
}

# Reads the header line and unpacks the tar into the upload dir; a missing completion mark means
# the client stopped half way (exit 77, nothing changed).
receive_upload() {
  IFS=' ' read -r base comp imode isum || fail 77 "the upload ended early (no header): nothing was changed"
  case "$base $comp $imode" in
    'link gz delta' | 'link gz full' | 'link tar delta' | 'link tar full' | 'empty gz full' | 'empty tar full') ;;
    *) fail 2 "bad upload header: $base $comp $imode" ;;
  esac
  if [ "$comp" = gz ]; then
    gzip -dc | tar -xf - -C "$u" --no-same-owner
  else
    tar -xf - -C "$u" --no-same-owner
  fi
  c=
  if [ -f "$u/meta/complete" ]; then read -r c <"$u/meta/complete" || :; fi
  [ "$c" = "$new" ] || fail 77 "the upload ended early (no completion mark): nothing was changed"
}

wait_background_copy() {
  if [ -n "$cpid" ]; then
    wait "$cpid" || fail 1 "cp -al releases/$cur failed: $(head -c 2000 "$u/.cp-errors")"
    cpid=
  fi
}

# The new index from the live one and the delta, by one awk: live entry lines minus the dropped
# keys, merged with the added lines (both sorted), commas in between. A failure leaves a new
# index that does not hash right, which check_new_index reports.
apply_index_delta() {
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
  ' "$li" >"$ni" || :
}

# The new index must hash to the client's sha256, or nothing changes (exit 78).
check_new_index() {
  sum=
  if [ -f "$ni" ]; then sum=$(sha256sum <"$ni"); fi
  if [ "${sum%% *}" != "$isum" ]; then
    # Nothing was changed in the partial release yet: a prelinked copy is kept for the next try.
    if [ -n "$prelinked" ]; then mv -T -- "$p" "releases/$cur.prelink"; fi
    rm -rf -- "$p" "$u"
    fail 78 "the new index on the host does not match the site's (sha256): nothing was changed"
  fi
}

# The partial release becomes the new site: the unpacked files alone (nothing to start from), or
# the copy of the live one minus the removed files plus the new ones, linked in (never written
# into the live release's inodes).
assemble_release() {
  if [ "$base" = empty ] || [ -z "$cur" ]; then
    rmdir -- "$p"
    mv -T -- "$u/files" "$p"
    return
  fi
  if [ -s "$u/meta/remove" ]; then
    (cd -- "$p" && xargs -0 -r rm -f -- <"../$new.upload/meta/remove")
    find "$p" -mindepth 1 -depth -type d -empty -delete
  fi
  cp -al --remove-destination -- "$u/files/." "$p/"
}

# retire_releases KEEP: releases past the keep limit stop being releases now (renamed to .trash;
# deleted in the background). Prints `pruned <id>` for each.
retire_releases() {
  n=0
  # shellcheck disable=SC2086 # the glob is meant to expand
  for d in releases/$RELEASE_GLOB; do if [ -e "$d" ]; then n=$((n + 1)); fi; done
  # shellcheck disable=SC2086 # the glob is meant to expand
  for d in releases/$RELEASE_GLOB; do
    if [ "$n" -le "$1" ]; then break; fi
    old=${d#releases/}
    if [ -e "$d" ] && [ "$old" != "$new" ]; then
      mv -T -- "$d" "$d.trash"
      echo "pruned $old"
      n=$((n - 1))
    fi
  done
}

# Deleting the retired releases and the upload dir, and making the next publish's hard-link copy
# of the new release (<id>.prelink), happen in the background, still under the lock (fd 9 is
# inherited): a next publish or rollback waits for them.
prepare_next_in_background() {
  (
    rm -rf -- "$u" releases/*.trash || :
    if cp -al -- "releases/$new" "releases/$new.prelink-tmp"; then
      mv -T -- "releases/$new.prelink-tmp" "releases/$new.prelink"
    fi
  ) </dev/null >/dev/null 2>&1 &
}
