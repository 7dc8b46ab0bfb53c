# shellcheck shell=bash
# The build under test: installed with dependency resolution (apt-get), from one source:
#   local  .deb files the orchestrator pushed (ORCH_JOB_FILES lines labelled "build")
#   host   .deb files already on the host (MIDOLMAN_BUILD_HOST_DEBS, one path per line)
#   apt    a repository (MIDOLMAN_APT_SOURCE, one sources.list line) and package=version lines
#          (MIDOLMAN_APT_PACKAGES); the source goes into a private list, lists and cache of this
#          apt run only - the host's own apt configuration is not touched.
# -> $ORCH_ARTIFACTS/install.json: source, the agent package's version before and after, what was
# installed, when the install finished. Sourced, never executed; needs lib/midolman-common.sh,
# lib/midolman-agent.sh (mm_pkg_version, mm_lines_to_array), lib/json.sh, lib/events.sh.

# mm_job_files LABEL : the host paths of the job files with LABEL (absolute), one per line.
mm_job_files() {
  local label path
  while IFS=$'\t' read -r label path; do
    [[ $label == "$1" && -n $path ]] || continue
    [[ $path == /* ]] || path=$PWD/$path
    printf '%s\n' "$path"
  done <<<"${ORCH_JOB_FILES:-}"
}

# mm_apt_get ARGS... : apt-get, non-interactive, waiting for the dpkg lock, keeping conffiles as
# they are (the profile's configuration is applied after the install), output in the phase log.
mm_apt_get() {
  DEBIAN_FRONTEND=noninteractive apt-get -y -q -o DPkg::Lock::Timeout=300 \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "$@" </dev/null >&2
}

# mm_deb_field DEB FIELD : a control field of a .deb file.
mm_deb_field() {
  dpkg-deb -f -- "$1" "$2" 2>/dev/null
}

# mm_build_install_debs DEB... : apt-get install of .deb files (their dependencies resolved).
mm_build_install_debs() {
  local deb
  local -a args=()
  for deb in "$@"; do
    [[ -r $deb ]] || orch_die "build: package file not found on the host: $deb"
    mm_deb_field "$deb" Package >/dev/null || orch_die "build: $deb is not a Debian package"
    # apt-get install takes a file when the argument holds a slash
    args+=("$deb")
  done
  orch_progress "apt-get install ${args[*]##*/}" 0.3
  mm_apt_get install --no-install-recommends --allow-downgrades "${args[@]}" ||
    orch_die "build: apt-get install failed for: ${args[*]##*/} (see the phase log)"
}

# mm_build_install_apt : apt-get update + install from MIDOLMAN_APT_SOURCE only (or with the
# host's sources too when MIDOLMAN_APT_SYSTEM_SOURCES=1), through a private list, lists and cache.
mm_build_install_apt() {
  local dir=$MM_STATE/apt line
  local -a opts pkgs
  [[ ${MIDOLMAN_APT_SOURCE:-} =~ ^deb\ [^$'\n']+$ ]] || orch_die "build.apt: bad source line"
  mm_lines_to_array pkgs "${MIDOLMAN_APT_PACKAGES:-}"
  ((${#pkgs[@]} > 0)) || orch_die "build.apt: no packages"
  rm -rf -- "$dir"
  mkdir -p -- "$dir/lists/partial" "$dir/cache/archives/partial" "$dir/parts"
  {
    if [[ ${MIDOLMAN_APT_SYSTEM_SOURCES:-0} == 1 ]]; then
      [[ -r /etc/apt/sources.list ]] && grep -v '^[[:space:]]*#' /etc/apt/sources.list
      for line in /etc/apt/sources.list.d/*.list; do [[ -r $line ]] && cp -- "$line" "$dir/parts/"; done
      for line in /etc/apt/sources.list.d/*.sources; do [[ -r $line ]] && cp -- "$line" "$dir/parts/"; done
    fi
    printf '%s\n' "$MIDOLMAN_APT_SOURCE"
  } >"$dir/sources.list"
  cp -- "$dir/sources.list" "$ORCH_ARTIFACTS/apt-sources.list"
  opts=(-o "Dir::Etc::SourceList=$dir/sources.list" -o "Dir::Etc::SourceParts=$dir/parts"
    -o "Dir::State::Lists=$dir/lists" -o "Dir::Cache=$dir/cache")
  orch_progress "apt-get update ($MIDOLMAN_APT_SOURCE)" 0.2
  mm_apt_get "${opts[@]}" update || orch_die "build.apt: apt-get update failed for '$MIDOLMAN_APT_SOURCE' (see the phase log)"
  orch_progress "apt-get install ${pkgs[*]}" 0.4
  mm_apt_get "${opts[@]}" install --no-install-recommends --allow-downgrades "${pkgs[@]}" ||
    orch_die "build.apt: apt-get install ${pkgs[*]} failed (see the phase log)"
  rm -rf -- "$dir/cache"
}

# mm_build_install : install the build (none: recorded as such) -> install.json.
mm_build_install() {
  local source=${MIDOLMAN_BUILD_SOURCE:-none} pkg=${MIDOLMAN_AGENT_PACKAGE:-midolman} before after t0 t1 deb name want=''
  local -a debs=()
  local installed='[' sep=''
  before=$(mm_pkg_version "$pkg")
  t0=$(mm_now)
  case $source in
    none)
      orch_log_event info "no build named: the installed $pkg ${before:-(not installed)} is measured as it is"
      ;;
    local | host)
      if [[ $source == local ]]; then
        mapfile -t debs < <(mm_job_files build)
      else
        mm_lines_to_array debs "${MIDOLMAN_BUILD_HOST_DEBS:-}"
      fi
      ((${#debs[@]} > 0)) || orch_die "build: no package files (source $source)"
      orch_require_cmd apt-get dpkg-deb dpkg-query
      for deb in "${debs[@]}"; do
        name=$(mm_deb_field "$deb" Package) || name=''
        if [[ $name == "$pkg" ]]; then want=$(mm_deb_field "$deb" Version); fi
        installed+=$sep$(orch_json_object file s "$deb" package s "$name" version s "$(mm_deb_field "$deb" Version)" \
          sha256 s "$(sha256sum -- "$deb" 2>/dev/null | awk '{ print $1 }')")
        sep=,
      done
      mm_build_install_debs "${debs[@]}"
      ;;
    apt)
      orch_require_cmd apt-get dpkg-query
      mm_build_install_apt
      while IFS= read -r name; do
        [[ -n $name ]] || continue
        installed+=$sep$(orch_json_object package s "${name%%=*}" version s "${name#*=}")
        sep=,
        [[ ${name%%=*} == "$pkg" ]] && want=${name#*=}
      done <<<"${MIDOLMAN_APT_PACKAGES:-}"
      ;;
    *) orch_die "unknown build source: $source" ;;
  esac
  installed+=']'
  t1=$(mm_now)
  after=$(mm_pkg_version "$pkg")
  if [[ -n $want && $after != "$want" ]]; then
    orch_die "build: $pkg is at version '${after:-not installed}' after the install, expected $want"
  fi
  if [[ $source != none && -z $want ]]; then
    orch_log_event warning "the build holds no $pkg package: the agent's package stays at ${after:-(not installed)}"
  fi
  orch_json_object source s "$source" package s "$pkg" version_before s "$before" version_after s "$after" \
    packages j "$installed" started_at n "$t0" finished_at n "$t1" \
    seconds n "$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.3f", b - a }')" | orch_atomic_write "$ORCH_ARTIFACTS/install.json"
  mm_kv_set build source "$source"
  mm_kv_set build version_before "$before"
  mm_kv_set build version_after "$after"
  mm_kv_set build finished_at "$t1"
  [[ $source == none ]] || orch_progress "$pkg ${before:-(none)} -> $after installed" 0.8
}
