# shellcheck shell=bash
# QASET stand-in: messages, the operating system (release, reboot, boot service, default route),
# repository preparation and package checks. Sourced by qaset.

# sq_msg LEVEL FIRST [MORE...] : "[SLE-QA] LEVEL<TAB>FIRST" (+ indented MORE lines) on stderr.
sq_msg() {
  local level=$1
  shift
  printf '[SLE-QA] %s\t%s\n' "$level" "$1" >&2
  shift
  (($# == 0)) || printf '\t\t%s\n' "$@" >&2
}
sq_info() { sq_msg INFO "$@"; }
sq_warn() { sq_msg WARN "$@"; }
sq_error() { sq_msg ERROR "$@"; }
sq_debug() { [[ $SQ_DEBUG_ON != YES ]] || sq_msg DEBUG "$@"; }

# sq_in_test_root : true when the unit-test hook QASET_STANDIN_TEST_ROOT is set (no reboot, no
# systemctl: both are recorded in $SQ_ROOT/actions instead).
sq_in_test_root() { [[ -n $SQ_ROOT ]]; }

# sq_os_release : the release name from /etc/issue, as run-caller and qaset-service guess it:
# SLE11/SLE12 (+SPn) as the real one; also DEB12 for "Debian GNU/Linux 12" (the stand-in's own).
sq_os_release() {
  local release sp
  if grep -q 'SUSE Linux Enterprise Server 11' "$SQ_ETC_ISSUE" 2>/dev/null; then
    release=SLE11
  elif grep -q 'SUSE Linux Enterprise Server 12' "$SQ_ETC_ISSUE" 2>/dev/null; then
    release=SLE12
  elif grep -q 'Debian GNU/Linux 12' "$SQ_ETC_ISSUE" 2>/dev/null; then
    release=DEB12
  else
    return 1
  fi
  sp=$(grep -Eo 'SP[0-9]+' "$SQ_ETC_ISSUE" | head -n 1 || true)
  printf '%s%s\n' "$release" "$sp"
}

# sq_os_get_sysinfo : ARCH and SLE_BUILD as the real one derives them.
sq_os_get_sysinfo() {
  SLE_BUILD=$(grep -Eo '([aA]lpha|[bB]eta|RC)[1-9]' "$SQ_ETC_ISSUE" 2>/dev/null | head -n 1 || true)
  [[ -n $SLE_BUILD ]] || SLE_BUILD=GMC
  ARCH=${HOSTTYPE:-}
  [[ -n $ARCH ]] || { sq_error "cannot determine architecture"; exit 3; }
  REPO_MIRROR=DE
  sq_info "[GLOBAL] ARCH: $ARCH" "[GLOBAL] SLE_BUILD: $SLE_BUILD" "[GLOBAL] REPO_MIRROR: $REPO_MIRROR"
}

# sq_systemctl ARGS... : systemctl, or (test root) a line in $SQ_ROOT/actions.
sq_systemctl() {
  if sq_in_test_root; then
    printf 'systemctl %s\n' "$*" >>"$SQ_ROOT/actions"
    return 0
  fi
  env /usr/bin/systemctl "$@"
}

# sq_os_reboot : as QASET on SLE 12: a wall message, then a forced reboot.
sq_os_reboot() {
  sq_info "[MACH] REBOOT by the qaset stand-in"
  sq_in_test_root || wall "REBOOT by sqset!!!!!!" 2>/dev/null || true
  sq_systemctl -f reboot
}

# sq_remove_service : the boot service is disabled once the list is done.
sq_remove_service() {
  sq_systemctl disable qaperf.service || sq_error "disable service by systemctl failed."
}

# sq_default_route_present : an IPv4 or IPv6 default route exists (test root: $SQ_ROOT/default-route).
sq_default_route_present() {
  if sq_in_test_root; then
    [[ -e $SQ_ROOT/default-route ]]
    return
  fi
  [[ -n $(ip -4 route show default 2>/dev/null) || -n $(ip -6 route show default 2>/dev/null) ]]
}

# sq_wait_default_route : waits, without a deadline as QASET does, until a default route exists.
sq_wait_default_route() {
  local waited=0
  until sq_default_route_present; do
    ((waited % 60 != 0)) || sq_info "[MACH] waiting for a default route (${waited}s)"
    sleep 1
    waited=$((waited + 1))
  done
}

# sq_prep_repos : QASET adds SUSE's QA repositories (SQ_REPO_NAMES from conf/<release>.conf) with
# zypper. The stand-in never contacts a network: it names each repository and fails as a guest off
# SUSE's network does (the caller then exits 5).
sq_prep_repos() {
  local name
  if ((${#SQ_REPO_NAMES[@]} == 0)); then
    sq_warn "There is NO repo to be added." "Please check the conf file!"
    return 1
  fi
  sq_info "There are ${#SQ_REPO_NAMES[@]} repos to be added."
  for name in "${SQ_REPO_NAMES[@]}"; do
    sq_info "add and ref repo" "$name" "$(sq_repo_url "$name")"
    sq_error "zypper refresh repo $name failed." "Check the connection to server" \
      "(qaset stand-in: no zypper and no SUSE network here; write control/PREPARED or set SQ_CI_ENV=openqa)"
    return 3
  done
}

# sq_prep_repos_and_packages : the first run's preparation; exits 5 (the whole qaset, lock.d left
# behind, as the real one) when the repositories cannot be set up.
sq_prep_repos_and_packages() {
  if [[ ${SQ_CI_ENV:-} != openqa ]]; then
    sq_prep_repos || exit 5
  fi
  sq_info "[MACH] QA libraries (${SQ_LIBS[*]:-none}) are the stand-in's own: nothing to install"
}

# sq_debian_package QASET_PACKAGE : the Debian package that provides what a QASET package does for
# the stand-in ("-" when nothing is needed); nothing printed for a package the stand-in cannot map.
sq_debian_package() {
  case $1 in
    qa_test_sysbench) echo sysbench ;;
    mysql) echo - ;;
    qa_test_dbench-4_0) echo dbench ;;
    'qa_test_bonnie++') echo 'bonnie++' ;;
    qa_test_pgbench) echo postgresql-15 ;;
    qa_test_fio) echo fio ;;
    # netperf is not in Debian main: the stand-in's network case runs iperf3's client
    qa_test_netperf) echo iperf3 ;;
    *) return 1 ;;
  esac
}

# sq_prep_install_package QASET_PACKAGE : QASET runs `zypper -n in -l` (10 tries); the stand-in
# checks that the Debian package it maps to is installed. Fails (the case's open step fails) otherwise.
sq_prep_install_package() {
  local pkg=$1 deb
  sq_info "Try to install $pkg"
  if ! deb=$(sq_debian_package "$pkg"); then
    sq_error "Failed to install $pkg" "(qaset stand-in: no Debian package maps to it)"
    return 2
  fi
  [[ $deb == - ]] && return 0
  if [[ $(dpkg-query -W -f='${db:Status-Status}' "$deb" 2>/dev/null) != installed ]]; then
    sq_error "Failed to install $pkg" "(qaset stand-in: Debian package $deb is not installed)"
    return 2
  fi
  return 0
}
