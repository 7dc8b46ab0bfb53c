# shellcheck shell=bash
# Time series into RRD files with rrdtool, as the original perftests did (1 s step, heartbeat
# 400 s, AVERAGE/MIN/MAX archives of 14400 1-step rows), and their export to JSON with
# `rrdtool xport --json` (RRD files are not portable between architectures; the JSON is).
# Sourced, never executed; needs lib/common.sh.

RRD_STEP=1
RRD_HEARTBEAT=400
RRD_ROWS=14400
RRD_BUILD_COUNT=0 # series listed by the last rrd_build_dir

# rrd_from_tsv TSV TYPE RRD : create RRD (one data source "value" of TYPE: GAUGE, COUNTER,
# DERIVE) from TSV lines "T VALUE" (T in seconds, increasing) and load every sample.
rrd_from_tsv() {
  local tsv=$1 type=$2 rrd=$3 first
  [[ $type =~ ^(GAUGE|COUNTER|DERIVE|ABSOLUTE)$ ]] || orch_die "rrd: unknown data source type '$type'"
  read -r first _ <"$tsv" || return 0
  rm -f -- "$rrd"
  rrdtool create "$rrd" --start "$((${first%.*} - 1))" --step "$RRD_STEP" \
    "DS:value:$type:$RRD_HEARTBEAT:U:U" \
    "RRA:AVERAGE:0.5:1:$RRD_ROWS" "RRA:MIN:0.5:1:$RRD_ROWS" "RRA:MAX:0.5:1:$RRD_ROWS"
  # Counters take whole numbers only; timestamps must increase strictly.
  awk -v type="$type" '
    $1 > last { last = $1; if (type == "GAUGE") printf "%s:%s\n", $1, $2; else printf "%s:%.0f\n", $1, $2 }' "$tsv" |
    xargs -r -n 200 rrdtool update "$rrd" --
}

# rrd_export RRD JSON FIRST LAST : AVERAGE, MIN and MAX between FIRST and LAST (unix seconds)
# as rrdtool's JSON export, one row per RRD step. The window matters: exporting the whole
# archive (RRD_ROWS rows) makes rrdtool xport consolidate it into coarse rows.
rrd_export() {
  local rrd=$1 json=$2 first=$3 last=$4 rows
  rows=$(((last - first) / RRD_STEP + 2))
  ((rows >= 10)) || rows=10 # rrdtool's least
  rrdtool xport --json --maxrows "$rows" --start "$first" --end "$last" --step "$RRD_STEP" \
    "DEF:avg=$rrd:value:AVERAGE" "DEF:min=$rrd:value:MIN" "DEF:max=$rrd:value:MAX" \
    XPORT:avg:average XPORT:min:min XPORT:max:max >"$json.tmp"
  mv -f -- "$json.tmp" "$json"
}

# rrd_jsonl_to_tsv JSONL DIR : split a collector's sample lines into DIR/<alias>.tsv ("T VALUE")
# and DIR/<alias>.type. The lines are this project's own output (flat, numbers only).
rrd_jsonl_to_tsv() {
  local jsonl=$1 dir=$2
  mkdir -p -- "$dir"
  awk -v dir="$dir" '
    /"kind":"types"/ {
      s = $0; sub(/.*"types":\{/, "", s); sub(/\}\}[[:space:]]*$/, "", s)
      n = split(s, kv, ",")
      for (i = 1; i <= n; i++) { split(kv[i], p, "\":\""); a = p[1]; gsub(/"/, "", a); ty = p[2]; gsub(/"/, "", ty); types[a] = ty }
      next
    }
    /"kind":"sample"/ {
      if (!match($0, /"t":[0-9.]+/)) next
      t = substr($0, RSTART + 4, RLENGTH - 4)
      s = $0; sub(/.*"values":\{/, "", s); sub(/\}\}[[:space:]]*$/, "", s)
      n = split(s, kv, ",")
      for (i = 1; i <= n; i++) {
        split(kv[i], p, "\":"); a = p[1]; gsub(/"/, "", a)
        if (a !~ /^[A-Za-z0-9_.-]+$/ || p[2] !~ /^-?[0-9.]+([eE][-+]?[0-9]+)?$/) continue
        print t, p[2] + 0 >> (dir "/" a ".tsv"); seen[a] = 1
      }
    }
    END { for (a in seen) print ((a in types) ? types[a] : "GAUGE") > (dir "/" a ".type") }' "$jsonl"
}

# rrd_series TSV TYPE RRD JSON : one series into its RRD file, then the JSON export of the
# window its samples cover.
rrd_series() {
  local tsv=$1 type=$2 rrd=$3 json=$4 first last
  rrd_from_tsv "$tsv" "$type" "$rrd"
  read -r first _ <"$tsv" || return 0
  last=$(awk 'END { print $1 }' "$tsv")
  rrd_export "$rrd" "$json" "$((${first%.*} - RRD_STEP))" "$((${last%.*} + RRD_STEP))"
}

# rrd_series_of TSV : set name (the collector), alias (the series) and type (the RRD data
# source type) of a series file <dir>/<name>/<alias>.tsv, in the caller's variables.
rrd_series_of() {
  alias=${1##*/}
  alias=${alias%.tsv}
  name=${1%/*}
  name=${name##*/}
  type=GAUGE
  [[ -r ${1%.tsv}.type ]] && read -r type <"${1%.tsv}.type"
  return 0
}

# rrd_build_dir TSVROOT RRDDIR [PREFIX] : every TSVROOT/<collector>/<alias>.tsv into
# RRDDIR/<collector>.<alias>.{rrd,json}, then RRDDIR/index.json (atomically) listing them as
# {"step":..,"heartbeat":..,"series":[{collector,alias,type,rrd,json}]} with paths PREFIX/<file>
# (PREFIX defaults to "rrd": paths relative to the artifacts directory when RRDDIR is
# $ORCH_ARTIFACTS/rrd). Series are built side by side (8 at a time): each is a few short rrdtool
# runs that mostly wait. Sets RRD_BUILD_COUNT to the number of series listed; warns and fails,
# leaving index.json as it was, when any series could not be built.
rrd_build_dir() {
  local tsvroot=$1 rrddir=$2 prefix=${3:-rrd} tsv name alias type sep='' failed=0 pid
  local -a pids=()
  prefix=${prefix%/}
  RRD_BUILD_COUNT=0
  mkdir -p -- "$rrddir"
  for tsv in "$tsvroot"/*/*.tsv; do
    [[ -e $tsv ]] || continue
    orch_require_cmd rrdtool
    rrd_series_of "$tsv"
    if ((${#pids[@]} >= 8)); then
      wait "${pids[0]}" || failed=$((failed + 1))
      pids=("${pids[@]:1}")
    fi
    rrd_series "$tsv" "$type" "$rrddir/$name.$alias.rrd" "$rrddir/$name.$alias.json" &
    pids+=("$!")
  done
  for pid in "${pids[@]}"; do
    wait "$pid" || failed=$((failed + 1))
  done
  if ((failed > 0)); then
    orch_warn "$failed RRD series could not be built (see the phase's output)"
    return 1
  fi
  {
    printf '{"step":%s,"heartbeat":%s,"series":[' "$RRD_STEP" "$RRD_HEARTBEAT"
    for tsv in "$tsvroot"/*/*.tsv; do
      [[ -e $tsv ]] || continue
      rrd_series_of "$tsv"
      printf '%s' "$sep"
      orch_json_object collector s "$name" alias s "$alias" type s "$type" \
        rrd s "$prefix/$name.$alias.rrd" json s "$prefix/$name.$alias.json"
      sep=,
      RRD_BUILD_COUNT=$((RRD_BUILD_COUNT + 1))
    done
    printf ']}\n'
  } >"$rrddir/index.json.tmp.$$" # not a pipe: the count must survive the group
  mv -f -- "$rrddir/index.json.tmp.$$" "$rrddir/index.json"
}
