# shellcheck shell=bash
# Reading pcap files (as written by tcpdump -w, microsecond or nanosecond timestamps, Ethernet
# link type) without parsing tcpdump's prose: the file's bytes, through od, into awk.
# Sourced, never executed.

# traffic_pcap_syns FILE SPORT : print "DPORT SEC NSEC" for every IPv4 TCP SYN (ACK clear)
# from source port SPORT in FILE, in capture order.
traffic_pcap_syns() {
  local file=$1 sport=$2
  [[ -s $file ]] || return 0
  od -An -v -tu1 -- "$file" | awk -v sport="$sport" '
    function u32(a, o, be) {
      return be ? ((a[o] * 256 + a[o + 1]) * 256 + a[o + 2]) * 256 + a[o + 3] \
                : ((a[o + 3] * 256 + a[o + 2]) * 256 + a[o + 1]) * 256 + a[o]
    }
    function global_header() {
      # magic a1b2c3d4 (us) or a1b23c4d (ns), in either byte order
      if (g[0] == 212 && g[1] == 195 && g[2] == 178 && g[3] == 161) { be = 0; nano = 0 }
      else if (g[0] == 77 && g[1] == 60 && g[2] == 178 && g[3] == 161) { be = 0; nano = 1 }
      else if (g[0] == 161 && g[1] == 178 && g[2] == 195 && g[3] == 212) { be = 1; nano = 0 }
      else if (g[0] == 161 && g[1] == 178 && g[2] == 60 && g[3] == 77) { be = 1; nano = 1 }
      else { print "not a pcap file" > "/dev/stderr"; bad = 1; exit 2 }
      if (u32(g, 20, be) != 1) { print "link type is not Ethernet" > "/dev/stderr"; bad = 1; exit 2 }
    }
    function packet(   sec, frac, eth, ihl, tcp, flags) {
      sec = u32(r, 0, be); frac = u32(r, 4, be)
      if (!nano) frac *= 1000
      eth = 16
      if (incl < 14 + 20 + 14) return
      if (r[eth + 12] != 8 || r[eth + 13] != 0) return   # IPv4 only
      ihl = (r[eth + 14] % 16) * 4
      if (r[eth + 14 + 9] != 6) return                   # TCP
      tcp = eth + 14 + ihl
      if (incl < tcp - 16 + 14) return
      if (r[tcp] * 256 + r[tcp + 1] != sport) return
      flags = r[tcp + 13]
      if (int(flags / 2) % 2 != 1 || int(flags / 16) % 2 == 1) return  # SYN set, ACK clear
      printf "%d %d %d\n", r[tcp + 2] * 256 + r[tcp + 3], sec, frac
    }
    {
      for (i = 1; i <= NF; i++) {
        if (n < 24) { g[n++] = $i; if (n == 24) global_header(); continue }
        r[k++] = $i
        if (k == 16) incl = u32(r, 8, be)
        if (k >= 16 && k == 16 + incl) { packet(); k = 0 }
      }
    }'
}

# traffic_latency_stats SRC_SYNS DST_SYNS : match SYNs by destination port (one probe per
# port in a step) and print the one-way latency statistics in nanoseconds as JSON:
# {"count":..,"min":..,"mean":..,"p50":..,"p90":..,"p99":..,"max":..} (null fields when none).
traffic_latency_stats() {
  awk 'NR == FNR { if (!($1 in s)) { s[$1] = $2; ns[$1] = $3 }; next }
       ($1 in s) && !($1 in seen) { seen[$1] = 1; printf "%.0f\n", ($2 - s[$1]) * 1e9 + ($3 - ns[$1]) }' "$1" "$2" |
    sort -n | awk '
      { v[n++] = $1; sum += $1 }
      function q(p,   i) { i = int(p * n); if (i >= n) i = n - 1; return v[i] }
      END {
        if (n == 0) { printf "{\"count\":0,\"min\":null,\"mean\":null,\"p50\":null,\"p90\":null,\"p99\":null,\"max\":null}"; exit }
        printf "{\"count\":%d,\"min\":%d,\"mean\":%.0f,\"p50\":%d,\"p90\":%d,\"p99\":%d,\"max\":%d}", n, v[0], sum / n, q(0.5), q(0.9), q(0.99), v[n - 1]
      }'
}
