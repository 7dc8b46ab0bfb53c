# shellcheck shell=bash
# Adaptive repetitions of a kvm point (the scenario's `repeat`): after the point's QASET run
# finished, its guest runs the repeated cases (KVM_REPEAT_CASES) again - their inputs injected
# anew with QASET's control state reset, one more boot, followed to DONE, collected into
# points/<id>/repeat/<k>/ - until the 95% confidence interval of the mean of the judged
# measurement is narrow enough (lib/repeat.sh), KVM_REPEAT_MAX runs, or the phase's deadline.
# What is judged, read on the host from the case's QASET log tarball of each run:
#   KVM_REPEAT_CASE      the case (its tarball log/<case>-ACAP2-...tar.bz2 or log/<case>-<stamp>...)
#   KVM_REPEAT_TEST      the ctcs2 test (= its raw output file) in it
#   KVM_REPEAT_PATTERN   an awk extended regular expression whose matches in that file end with the
#                        number, e.g. "events per second: *[0-9.]+"; the value is the mean of the
#                        numbers (or the KVM_REPEAT_RUN'th). Without a pattern: the ctcs2 time
#                        (seconds) of the test in test_results (of every test when none is named).
# Sourced by remote-scripts/kvm, never executed; needs lib/common.sh and lib/repeat.sh.

# Bytes of one output read from a tarball, at most (the guest's files are hostile input).
KVM_REPEAT_MAX_BYTES=${KVM_REPEAT_MAX_BYTES:-16777216}

# kvm_repeat_on : true when the orchestrator asked for repetitions.
kvm_repeat_on() {
  ((${KVM_REPEAT_MAX:-1} > 1))
}

# kvm_repeat_tarball DIR CASE : print the newest QASET log tarball of CASE under DIR/qaset/log
# (its names sort by the time stamp they end with); fail when there is none.
kvm_repeat_tarball() {
  local dir=$1 case=$2 f rest found=''
  for f in "$dir/qaset/log/$case"-*.tar.bz2; do
    [[ -f $f ]] || continue
    rest=${f##*/}
    rest=${rest#"$case"-}
    [[ $rest == ACAP2-* || $rest == [0-9]* ]] || continue
    found=$f
  done
  [[ -n $found ]] || return 1
  printf '%s' "$found"
}

# kvm_repeat_extract PATTERN [RUN] : the value in the text on stdin: the numbers that the matches
# of PATTERN (from the environment variable of that name's value, not awk's -v: no escapes
# processed) end with; their mean, or the RUN'th (1-based). Nothing when none.
kvm_repeat_extract() {
  KVM_REPEAT_RE=$1 awk -v run="${2:-}" '
    BEGIN { re = ENVIRON["KVM_REPEAT_RE"] }
    {
      line = $0
      while (length(line) > 0 && match(line, re)) {
        m = substr(line, RSTART, RLENGTH)
        line = substr(line, RSTART + (RLENGTH > 0 ? RLENGTH : 1))
        if (match(m, /[0-9]+(\.[0-9]*)?([eE][-+]?[0-9]+)?$/)) {
          v = substr(m, RSTART, RLENGTH) + 0
          if (RSTART > 1 && substr(m, RSTART - 1, 1) == "-") v = -v
          vals[++n] = v
        }
      }
    }
    END {
      if (n == 0) exit 0
      if (run != "") { if (run + 0 >= 1 && run + 0 <= n) printf "%.17g\n", vals[run + 0]; exit 0 }
      for (i = 1; i <= n; i++) s += vals[i]
      printf "%.17g\n", s / n
    }'
}

# kvm_repeat_ctcs2_time [TEST] : the ctcs2 time (seconds) of TEST in the test_results on stdin
# (name line, then "fail succeed count time interr [skipped]"), summed over every test when TEST
# is empty; nothing when none.
kvm_repeat_ctcs2_time() {
  awk -v test="${1:-}" '
    /^[ \t]*[0-9]+[ \t]+[0-9]+[ \t]+[0-9]+[ \t]+[0-9]+(\.[0-9]+)?[ \t]+[0-9]+([ \t]+[0-9]+)?[ \t]*$/ {
      if (name != "" && (test == "" || name == test)) { s += $4; n++ }
      name = ""
      next
    }
    { name = $0; sub(/^[ \t]+/, "", name); sub(/[ \t]+$/, "", name) }
    END { if (n) printf "%.17g\n", s }'
}

# kvm_repeat_value DIR : the judged measurement of the QASET run collected into DIR (DIR/qaset);
# fails (with the reason on stdout) when there is none.
kvm_repeat_value() {
  local dir=$1 case=${KVM_REPEAT_CASE:?KVM_REPEAT_CASE is not set} test=${KVM_REPEAT_TEST:-} tarball member value
  [[ $case =~ ^[A-Za-z0-9_][A-Za-z0-9_.+-]*$ && $test =~ ^[A-Za-z0-9_.+-]*$ ]] || { printf 'unsafe case or test name'; return 1; }
  if ! tarball=$(kvm_repeat_tarball "$dir" "$case"); then
    printf 'no QASET log tarball of case %s' "$case"
    return 1
  fi
  if [[ -n ${KVM_REPEAT_PATTERN:-} ]]; then member=$test; else member=test_results; fi
  # the member streamed out (never written): --no-anchored finds it in the result directory
  value=$(tar -xjOf "$tarball" --wildcards --no-anchored -- "$member" 2>/dev/null | head -c "$KVM_REPEAT_MAX_BYTES" |
    if [[ -n ${KVM_REPEAT_PATTERN:-} ]]; then kvm_repeat_extract "$KVM_REPEAT_PATTERN" "${KVM_REPEAT_RUN:-}"; else kvm_repeat_ctcs2_time "$test"; fi) || true
  if [[ -z $value ]]; then
    printf 'no value in %s of %s' "$member" "${tarball##*/}"
    return 1
  fi
  printf '%s' "$value"
}
