# shellcheck shell=bash
# Adaptive repetitions (midolman's scan steps, kvm's points): a measurement is repeated until the
# 95% confidence interval of its mean is narrow enough relative to the mean (Student's t), or a
# maximum count, or the phase's deadline. The arithmetic is here, in awk, once; the orchestrator's
# orchestrator/analysis/confidence-interval.ts is the same in TypeScript (a test holds the two
# side by side). Sourced, never executed; needs lib/json.sh.

# REPEAT_AWK_STATS : awk reading one value a line, printing "n mean sd half_width relative"
# (%.17g; "inf" where undefined: half-width below two values, relative of a zero mean that varies).
# t(0.975, df) for df 1..30, the normal quantile beyond.
# shellcheck disable=SC2016 # awk's own $ fields
REPEAT_AWK_STATS='
BEGIN {
  split("12.706205 4.302653 3.182446 2.776445 2.570582 2.446912 2.364624 2.306004 2.262157 2.228139 " \
        "2.200985 2.178813 2.160369 2.144787 2.131450 2.119905 2.109816 2.100922 2.093024 2.085963 " \
        "2.079614 2.073873 2.068658 2.063899 2.059539 2.055529 2.051831 2.048407 2.045230 2.042272", t, " ")
}
NF { v[++n] = $1 + 0; sum += $1 }
END {
  if (n == 0) exit 1
  mean = sum / n
  if (n == 1) { printf "1 %.17g 0 inf inf\n", mean; exit 0 }
  for (i = 1; i <= n; i++) ss += (v[i] - mean) ^ 2
  sd = sqrt(ss / (n - 1))
  q = (n - 1 <= 30) ? t[n - 1] + 0 : 1.959964
  hw = q * sd / sqrt(n)
  if (hw == 0) rel = "0"
  else if (mean == 0) rel = "inf"
  else rel = sprintf("%.17g", hw / (mean < 0 ? -mean : mean))
  printf "%d %.17g %.17g %.17g %s\n", n, mean, sd, hw, rel
}'

# repeat_stats VALUE... : print "n mean sd half_width relative" of the values (see REPEAT_AWK_STATS).
repeat_stats() {
  (($# > 0)) || orch_die "repeat_stats: no values"
  printf '%s\n' "$@" | awk "$REPEAT_AWK_STATS"
}

# repeat_verdict MIN MAX TARGET N RELATIVE SECONDS_LEFT NEXT_SECONDS : after N repetitions whose
# interval's relative half-width is RELATIVE ("inf" allowed), print target (N >= MIN and RELATIVE <=
# TARGET), max (N >= MAX), deadline (one more repetition, NEXT_SECONDS long, would end after the
# SECONDS_LEFT the phase has; even below MIN) or continue. The target wins over max.
repeat_verdict() {
  awk -v min="$1" -v max="$2" -v target="$3" -v n="$4" -v rel="$5" -v left="$6" -v next_s="$7" 'BEGIN {
    met = (rel != "inf" && n + 0 >= min + 0 && rel + 0 <= target + 0)
    if (met) print "target"
    else if (n + 0 >= max + 0) print "max"
    else if (next_s + 0 > left + 0) print "deadline"
    else print "continue"
  }'
}

# repeat_json_array VALUE... : the values as a JSON array of numbers (null for what is not a number).
repeat_json_array() {
  local out='' sep='' v number
  for v in "$@"; do
    orch_json_number_to number "$v"
    out+=$sep$number
    sep=,
  done
  printf '[%s]' "$out"
}

# repeat_record_json MIN MAX TARGET STOP SECONDS VALUE... : the record of one repetition loop (a
# JSON object: the rule, the values, n, mean, sd, the interval's half-width and relative
# half-width (null where undefined), whether the target was met, why it stopped, its seconds).
# No value at all: n 0 and nulls.
repeat_record_json() {
  local min=$1 max=$2 target=$3 stop=$4 seconds=$5 n=0 mean='' sd='' hw='' rel=''
  shift 5
  (($# == 0)) || read -r n mean sd hw rel <<<"$(repeat_stats "$@")"
  orch_json_object min n "$min" max n "$max" target_ci n "$target" n n "$n" values j "$(repeat_json_array "$@")" \
    mean n "$mean" sd n "$sd" ci_half_width n "$hw" ci_relative n "$rel" \
    target_met b "$([[ $stop == target ]] && echo true || echo false)" stop s "$stop" seconds n "$seconds"
}
