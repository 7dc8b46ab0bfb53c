# shellcheck shell=bash
# The profile's agent configuration files (profiles.d/<profile>/midolman/..., falling back file by
# file to default/), installed into the agent's configuration directory before the agent starts,
# and the originals put back byte for byte at teardown - or by the next job's cleanup when this one
# crashed. MIDOLMAN_CONFIG_FILES: "path<TAB>where it came from" lines; the files themselves come
# as job files labelled "config:<path>".
#
# What was replaced is kept host-wide (ORCH_CACHE/midolman-config/), because the job that restores
# it after a crash is another job: a record of "target<TAB>existed<TAB>original sha256<TAB>installed
# sha256<TAB>mode<TAB>owner" lines (written before each file is replaced) and the originals. A file
# changed since the job installed it (a package upgrade, a person) is left alone, with a warning.
# Sourced, never executed; needs lib/midolman-common.sh, lib/midolman-build.sh (mm_job_files),
# lib/json.sh, lib/events.sh.

# mm_config_store : the host-wide directory of the record and the originals.
mm_config_store() {
  printf '%s' "${ORCH_CACHE:-$ORCH_JOB_DIR/../../../cache}/midolman-config"
}

# mm_sha256 FILE : its sha256, or nothing when it does not exist.
mm_sha256() {
  [[ -f $1 ]] || return 0
  sha256sum -- "$1" | awk '{ print $1 }'
}

# mm_config_put SOURCE TARGET MODE OWNER : copy SOURCE over TARGET atomically (temp file in the
# same directory, then rename), with that mode and owner.
mm_config_put() {
  local tmp
  mkdir -p -- "$(dirname -- "$2")"
  tmp=$(mktemp -- "$2.orchestrate.XXXXXX")
  cat -- "$1" >"$tmp"
  chmod "$3" -- "$tmp"
  chown "$4" -- "$tmp" 2>/dev/null || true
  mv -f -- "$tmp" "$2"
}

# mm_config_check_path PATH : refuse anything that could leave the configuration directory.
mm_config_check_path() {
  [[ $1 =~ ^[A-Za-z0-9._+-][A-Za-z0-9._+/-]*$ && /$1/ != */../* && /$1/ != */./* ]] ||
    orch_die "configuration file path refused: '$1'"
}

# mm_config_apply : install the profile's files -> $ORCH_ARTIFACTS/agent-config.json.
mm_config_apply() {
  local store dir=${MIDOLMAN_AGENT_CONFIG_DIR:-/etc/midolman} path from source target orig existed mode owner sha
  local files='[' sep='' count=0
  store=$(mm_config_store)
  if [[ -s $store/record ]]; then
    orch_log_event warning "configuration files of an earlier job were still in place: restoring them first"
    mm_config_restore >/dev/null
  fi
  if [[ -z ${MIDOLMAN_CONFIG_FILES:-} ]]; then
    printf '{"config_dir":%s,"files":[]}\n' "$(orch_json_string "$dir")" | orch_atomic_write "$ORCH_ARTIFACTS/agent-config.json"
    return 0
  fi
  rm -rf -- "$store"
  mkdir -p -- "$store/orig"
  : >"$store/record"
  while IFS=$'\t' read -r path from; do
    [[ -n $path ]] || continue
    mm_config_check_path "$path"
    source=$(mm_job_files "config:$path" | head -n 1)
    [[ -n $source && -r $source ]] || orch_die "configuration file $path ($from) did not reach the host"
    target=$dir/$path
    [[ ! -L $target ]] || orch_die "configuration file $target is a symbolic link: refused"
    orig=$(mm_sha256 "$target")
    if [[ -f $target ]]; then
      existed=1 mode=$(stat -c %a -- "$target") owner=$(stat -c %u:%g -- "$target")
      mkdir -p -- "$(dirname -- "$store/orig/$path")"
      cp -p -- "$target" "$store/orig/$path"
    else
      existed=0 mode=644 owner=0:0
    fi
    sha=$(mm_sha256 "$source")
    # The record first: a crash between here and the end still restores what was replaced.
    printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$target" "$existed" "${orig:--}" "$sha" "$mode" "$owner" "$path" >>"$store/record"
    mm_config_put "$source" "$target" "$mode" "$owner"
    files+=$sep$(orch_json_object path s "$path" target s "$target" from s "$from" sha256 s "$sha" \
      original_sha256 s "$orig" replaced b "$([[ $existed == 1 ]] && echo true || echo false)")
    sep=,
    count=$((count + 1))
  done <<<"$MIDOLMAN_CONFIG_FILES"
  files+=']'
  printf '{"config_dir":%s,"files":%s}\n' "$(orch_json_string "$dir")" "$files" | orch_atomic_write "$ORCH_ARTIFACTS/agent-config.json"
  orch_progress "$count configuration file(s) of the profile installed in $dir" 0.9
}

# mm_config_restore : put back what mm_config_apply replaced (a job's or a crashed job's); prints
# a JSON array of what was done; nothing recorded is fine.
mm_config_restore() {
  local store target existed orig installed mode owner path now out='[' sep='' action
  store=$(mm_config_store)
  if [[ ! -s $store/record ]]; then
    printf '[]'
    return 0
  fi
  while IFS=$'\t' read -r target existed orig installed mode owner path; do
    [[ -n $target ]] || continue
    now=$(mm_sha256 "$target")
    if [[ $now != "$installed" ]]; then
      action=left-changed
      orch_log_event warning "configuration file $target changed since the job installed it: left as it is"
    elif [[ $existed == 1 ]]; then
      mm_config_put "$store/orig/$path" "$target" "$mode" "$owner"
      action=restored
      now=$(mm_sha256 "$target")
      [[ $now == "$orig" ]] || orch_die "restoring $target gave sha256 $now, expected $orig"
    else
      rm -f -- "$target"
      action=removed
      now=''
    fi
    out+=$sep$(orch_json_object target s "$target" action s "$action" sha256 s "$now" original_sha256 s "${orig#-}")
    sep=,
  done <"$store/record"
  rm -rf -- "$store"
  printf '%s]' "$out"
}

# mm_config_snapshot : the agent's configuration files as they are now (what it runs with), into
# $ORCH_ARTIFACTS/agent/config/ (regular files, at most 200, each at most 1 MiB).
mm_config_snapshot() {
  local dir=${MIDOLMAN_AGENT_CONFIG_DIR:-/etc/midolman} out=$ORCH_ARTIFACTS/agent/config file rel n=0
  [[ -d $dir ]] || return 0
  mkdir -p -- "$out"
  while IFS= read -r -d '' file; do
    rel=${file#"$dir"/}
    mkdir -p -- "$(dirname -- "$out/$rel")"
    cp -- "$file" "$out/$rel"
    n=$((n + 1))
    ((n < 200)) || break
  done < <(find "$dir" -maxdepth 3 -type f -size -1025k -print0 2>/dev/null | sort -z)
}
