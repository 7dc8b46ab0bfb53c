# shellcheck shell=bash
# Building JSON in bash without external tools. Every value that is not produced by
# a JSON-emitting tool goes through orch_json_string. Sourced, never executed.

# orch_json_string VALUE : print VALUE as a JSON string literal (no newline).
orch_json_string() {
  local s=$1 out='' c i code
  # Fast path: nothing that needs escaping.
  if [[ $s != *[\"\\[:cntrl:]]* ]]; then
    printf '"%s"' "$s"
    return
  fi
  for ((i = 0; i < ${#s}; i++)); do
    c=${s:i:1}
    case $c in
      '"') out+='\"' ;;
      \\) out+="\\\\" ;;
      $'\n') out+='\n' ;;
      $'\r') out+='\r' ;;
      $'\t') out+='\t' ;;
      [[:cntrl:]])
        printf -v code '%d' "'$c"
        printf -v c '\\u%04x' "$code"
        out+=$c
        ;;
      *) out+=$c ;;
    esac
  done
  printf '"%s"' "$out"
}

# orch_json_number VALUE : print VALUE if it is a JSON number, else null.
orch_json_number() {
  if [[ $1 =~ ^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then
    printf '%s' "$1"
  else
    printf 'null'
  fi
}

# orch_json_object KEY TYPE VALUE [KEY TYPE VALUE...] : print a flat JSON object.
# TYPE is s (string), n (number), b (true/false), or j (already JSON, inserted as is:
# only for output of the project's own JSON functions or of tools that print JSON).
orch_json_object() {
  local sep='' key type value
  printf '{'
  while (($# >= 3)); do
    key=$1 type=$2 value=$3
    shift 3
    printf '%s' "$sep"
    orch_json_string "$key"
    printf ':'
    case $type in
      s) orch_json_string "$value" ;;
      n) orch_json_number "$value" ;;
      b) if [[ $value == true ]]; then printf 'true'; else printf 'false'; fi ;;
      j) if [[ -n $value ]]; then printf '%s' "$value"; else printf 'null'; fi ;;
      *) orch_die "orch_json_object: unknown type '$type' for key '$key'" ;;
    esac
    sep=,
  done
  printf '}'
}
