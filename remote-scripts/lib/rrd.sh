# shellcheck shell=bash
# Time series into RRD files with rrdtool, as the original perftests did (1 s step, heartbeat
# 400 s, AVERAGE/MIN/MAX archives of 14400 1-step rows), and their export to JSON with
# `rrdtool xport --json` (RRD files are not portable between architectures; the JSON is).
# Sourced, never executed; needs lib/common.sh.

RRD_STEP=1
RRD_HEARTBEAT=400
RRD_ROWS=14400

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
