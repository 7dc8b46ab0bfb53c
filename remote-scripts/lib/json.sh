# shellcheck shell=bash
# Building JSON in bash without external tools. Every value that is not produced by
# a JSON-emitting tool goes through orch_json_string. Sourced, never executed.

# These functions assign to a variable named by their first argument (printf -v), so
# callers never pay for a $(...) subshell; the printing forms wrap them.

# orch_json_string_to VAR VALUE : set VAR to VALUE as a JSON string literal.
orch_json_string_to() {
  local -n _orch_out=$1
  local s=$2 out='' c i code
  # Fast path: nothing that needs escaping.
  if [[ $s != *[\"\\[:cntrl:]]* ]]; then
    _orch_out="\"$s\""
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
  _orch_out="\"$out\""
}

# orch_json_string VALUE : print VALUE as a JSON string literal (no newline).
orch_json_string() {
  local text
  orch_json_string_to text "$1"
  printf '%s' "$text"
}

# orch_json_number_to VAR VALUE : set VAR to VALUE if it is a JSON number, else null.
orch_json_number_to() {
  local -n _orch_num=$1
  if [[ $2 =~ ^-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?$ ]]; then
    _orch_num=$2
  else
    _orch_num=null
  fi
}

# orch_json_number VALUE : print VALUE if it is a JSON number, else null.
orch_json_number() {
  local number
  orch_json_number_to number "$1"
  printf '%s' "$number"
}

# orch_json_object_to VAR KEY TYPE VALUE [KEY TYPE VALUE...] : set VAR to a flat JSON object.
# TYPE is s (string), n (number), b (true/false), or j (already JSON, inserted as is:
# only for output of the project's own JSON functions or of tools that print JSON).
orch_json_object_to() {
  local -n _orch_obj=$1
  shift
  local body='' sep='' key type value k v
  while (($# >= 3)); do
    key=$1 type=$2 value=$3
    shift 3
    orch_json_string_to k "$key"
    case $type in
      s) orch_json_string_to v "$value" ;;
      n) orch_json_number_to v "$value" ;;
      b) if [[ $value == true ]]; then v=true; else v=false; fi ;;
      j) if [[ -n $value ]]; then v=$value; else v=null; fi ;;
      *) orch_die "orch_json_object: unknown type '$type' for key '$key'" ;;
    esac
    body+="$sep$k:$v"
    sep=,
  done
  _orch_obj="{$body}"
}

# orch_json_object KEY TYPE VALUE [KEY TYPE VALUE...] : print a flat JSON object.
orch_json_object() {
  local object
  orch_json_object_to object "$@"
  printf '%s' "$object"
}
