#!/usr/bin/env bash
# Hostile sizes (issue 8, item 3): every command linear in its input, peak memory a
# small multiple of the largest single message. Wall time and peak RSS of commander,
# of an older commander ("before", killed after OLD_TIMEOUT) and of a peer on the
# same bytes in the same run, with a correctness check per case:
#
#   1. decode --raw -o json / jsonl / text of one field repeated N times
#      (RAW_KB sizes), peer protoc --decode_raw
#   2. encode of one JSON value pretty-printed over many lines (indent 2, as `jq .`),
#      and of the same value on one line; peer Python json_format.Parse + Serialize
#   3. decode -m cvp.VehicleTelemetryMessage of TIRES_N repeated tires: table, text,
#      json; peers protoc --decode and Python text_format / MessageToJson
#   4. decode --raw -o text of a NEST_MB message nested NEST_DEPTH levels in field 1,
#      each level carrying payload; peers protoc --decode_raw and protoc --decode with
#      a schema (protoc's raw printer stops nesting after 10 levels)
#   5. decode of one HUGE_MB hex line on stdin (a telemetry message whose raw_can_frame
#      holds about half of it): table and -o json; floor `xxd -r -p`
#
#   COMMANDER=/path/to/commander OLD=/path/to/old/commander benches/hostile_sizes.sh
#   QUICK=1 benches/hostile_sizes.sh        # small sizes, about a minute
#
# Environment knobs (defaults in brackets; QUICK=1 changes the defaults to the second value):
#   COMMANDER          the binary to measure; unset: `cargo build --release`
#   OLD                an older binary to measure beside it; unset: no "old" column
#   OLD_TIMEOUT [60|10] seconds before the old binary is killed ("> 60 s")
#   CMD_TIMEOUT [600]  seconds before commander or a peer is killed
#   MEM_LIMIT_MB [8192] address-space limit (ulimit -v) of every measured process, so a
#                      runaway old binary cannot take the shared machine down
#   REPEATS [3|1]      runs of commander and of each peer (median shown); the old binary
#                      runs once
#   RAW_KB ["40 160 8000"|"4 16 160"]  case 1 sizes, KB = 1000 bytes
#   RAW_SHAPE [small]  case 1 entries: small ({1: i%128}, 4 bytes) or tyre (~16 bytes)
#   PRETTY_LINES [40000|4000], PRETTY_KB [738|74]  case 2, the value the issue cites
#   PRETTY_BIG_KB [4000|400]                       case 2, a `jq .`-style file of MBs
#   TIRES_N [320000|32000]                         case 3
#   NEST_MB [32|2], NEST_DEPTH [100]               case 4
#   HUGE_MB [1024|64]  case 5, MB of hex (the message is half); 0 skips the case. The
#                      file is kept in target/bench-data/ and reused by the next run
#   PYTHON [python3]   interpreter used to create the venv (target/bench-venv)
#
# Installs what is missing: Debian packages protobuf-compiler, time, xxd (apt-get, as
# root or through sudo) and the pinned `protobuf` from benches/requirements.txt into
# target/bench-venv. Data goes to target/bench-data/; the Markdown table to
# target/bench-data/hostile_sizes.md (hostile_sizes-quick.md with QUICK=1, so a quick
# check does not overwrite the figures of a full run). Exits 1 when a check fails or
# commander fails.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

QUICK=${QUICK:-0}
if [ "$QUICK" = 1 ]; then
    d_old_timeout=10 d_repeats=1 d_raw="4 16 160" d_pl=4000 d_pkb=74 d_pbig=400 d_tires=32000 d_nest=2 d_huge=64
else
    d_old_timeout=60 d_repeats=3 d_raw="40 160 8000" d_pl=40000 d_pkb=738 d_pbig=4000 d_tires=320000 d_nest=32 d_huge=1024
fi
OLD_TIMEOUT=${OLD_TIMEOUT:-$d_old_timeout}
CMD_TIMEOUT=${CMD_TIMEOUT:-600}
MEM_LIMIT_MB=${MEM_LIMIT_MB:-8192}
REPEATS=${REPEATS:-$d_repeats}
RAW_KB=${RAW_KB:-$d_raw}
RAW_SHAPE=${RAW_SHAPE:-small}
PRETTY_LINES=${PRETTY_LINES:-$d_pl}
PRETTY_KB=${PRETTY_KB:-$d_pkb}
PRETTY_BIG_KB=${PRETTY_BIG_KB:-$d_pbig}
TIRES_N=${TIRES_N:-$d_tires}
NEST_MB=${NEST_MB:-$d_nest}
NEST_DEPTH=${NEST_DEPTH:-100}
HUGE_MB=${HUGE_MB:-$d_huge}
TYPE=cvp.VehicleTelemetryMessage
DATA=$ROOT/target/bench-data
VENV=$ROOT/target/bench-venv
G=$ROOT/benches/hostile_gen.py

log() { printf '[hostile] %s\n' "$*" >&2; }
START=$SECONDS

# ---------------------------------------------------------------- tools
need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
[ -x /usr/bin/time ] || need+=(time)
command -v xxd >/dev/null 2>&1 || need+=(xxd)
command -v timeout >/dev/null 2>&1 || need+=(coreutils)
if ((${#need[@]})); then
    log "installing Debian packages: ${need[*]}"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "${PYTHON:-python3}" -m venv "$VENV"
fi
PY=$VENV/bin/python
want=$(sed -n 's/^protobuf==//p' benches/requirements.txt)
have=$("$PY" -c 'import google.protobuf as g; print(g.__version__)' 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    log "installing protobuf==$want into $VENV"
    "$PY" -m pip install -q --disable-pip-version-check -r benches/requirements.txt
fi

if [ -n "${COMMANDER:-}" ]; then
    BIN=$COMMANDER
else
    log "cargo build --release"
    cargo build --release --quiet
    BIN=${CARGO_TARGET_DIR:-$ROOT/target}/release/commander
fi
BIN=$(realpath "$BIN")
[ -x "$BIN" ] || { log "no binary at $BIN"; exit 2; }
OLDBIN=
if [ -n "${OLD:-}" ]; then
    OLDBIN=$(realpath "$OLD")
    [ -x "$OLDBIN" ] || { log "no binary at $OLDBIN"; exit 2; }
fi

# ---------------------------------------------------------------- recording
mkdir -p "$DATA"
cd "$DATA"
RES=$DATA/hostile_results.jsonl
: >"$RES"
record() { printf '%s\n' "$1" >>"$RES"; }
# A JSON string of $1.
js() {
    local s=${1//\\/\\\\}
    s=${s//\"/\\\"}
    printf '"%s"' "$s"
}
FAILED=0

# `row ID GROUP LABEL BYTES INPUT PEER_ROW [PEER...]`: one line of the table. BYTES is
# the message (decode) or the JSON text (encode), for the RSS ratio; the peers shown
# are those named PEER... measured under PEER_ROW (a row of its own, or a shared id
# when one peer run stands for several rows).
row() {
    local id=$1 group=$2 label=$3 bytes=$4 input=$5 peer_row=$6 p peers=""
    shift 6
    for p in "$@"; do peers+="${peers:+, }$(js "$p")"; done
    record "{\"tag\": \"row\", \"row\": $(js "$id"), \"group\": $(js "$group"), \"label\": $(js "$label"), \"bytes\": $bytes, \"input\": $(js "$input"), \"peer_row\": $(js "$peer_row"), \"peers\": [$peers]}"
}

# `measure ROW TOOL STDIN CMD...`: runs CMD with stdin from STDIN and stdout to
# /dev/null, REPEATS times (the old binary once), under GNU time, a timeout and the
# address-space limit; records wall seconds, peak RSS (KiB) and how it ended.
measure() {
    local row=$1 tool=$2 in=$3 i rc reps=$REPEATS limit=$CMD_TIMEOUT status wall kib
    shift 3
    if [ "$tool" = old ]; then
        reps=1
        limit=$OLD_TIMEOUT
    fi
    for ((i = 1; i <= reps; i++)); do
        rc=0
        (
            ulimit -v $((MEM_LIMIT_MB * 1024))
            exec /usr/bin/time -f '%e %M' -o time.txt timeout -k 5 "$limit" "$@" <"$in" >/dev/null 2>stderr.txt
        ) || rc=$?
        read -r wall kib < <(tail -n 1 time.txt)
        status=ok
        if [ "$rc" -eq 124 ]; then
            status=timeout
        elif grep -qE 'memory allocation of|MemoryError|Cannot allocate|bad_alloc|out of memory' stderr.txt; then
            status=memory
        elif [ "$rc" -ne 0 ]; then
            status=failed
        fi
        record "{\"tag\": \"run\", \"row\": $(js "$row"), \"tool\": $(js "$tool"), \"rep\": $i, \"wall\": $wall, \"kib\": $kib, \"rc\": $rc, \"status\": \"$status\", \"limit\": $limit, \"mem_limit_mb\": $MEM_LIMIT_MB}"
        log "  $row $tool: $status ${wall}s $((kib / 1024)) MiB"
        if [ "$status" != ok ]; then
            if [ "$tool" != old ]; then log "  $(head -c 300 stderr.txt)"; fi
            if [ "$tool" = commander ]; then FAILED=1; fi
            break
        fi
    done
}
# `both ROW STDIN ARGS...`: commander ARGS, then the old binary ARGS (when OLD is set).
both() {
    local row=$1 in=$2
    shift 2
    measure "$row" commander "$in" "$BIN" "$@"
    [ -z "$OLDBIN" ] || measure "$row" old "$in" "$OLDBIN" "$@"
}
# `peer ROW NAME STDIN CMD...`: a peer, recorded under NAME.
peer() {
    local row=$1 name=$2 in=$3
    shift 3
    measure "$row" "peer:$name" "$in" "$@"
}
# `check ROW CHECK_ARGS...`: records hostile_gen.py's verdict.
check() {
    local row=$1 r
    shift
    r=$("$PY" "$G" "$@") || r="{\"ok\": false, \"detail\": \"the check itself failed\"}"
    record "{\"tag\": \"check\", \"row\": $(js "$row"), $(printf '%s' "${r#\{}")"
    case $r in *'"ok": true'*) log "  check $row: ok" ;; *) log "  check $row: FAILED $r"; FAILED=1 ;; esac
}
note() { record "{\"tag\": \"note\", \"text\": $(js "$1")}"; }
jget() { "$PY" -c 'import json, sys; print(json.loads(sys.argv[1])[sys.argv[2]])' "$1" "$2"; }
human() { "$PY" -c 'import sys; sys.path.insert(0, sys.argv[2]); from hostile_gen import human; print(human(int(sys.argv[1])))' "$1" "$ROOT/benches"; }
commas() { "$PY" -c 'import sys; print(f"{int(sys.argv[1]):,}")' "$1"; }

protoc --descriptor_set_out=cvp.pb --include_imports -I "$ROOT/proto" "$ROOT"/proto/cvp/*.proto
pyinfo=$("$PY" "$ROOT/benches/pybench.py" info)
record "{\"tag\": \"env\", \"date\": $(js "$(date -u '+%Y-%m-%d %H:%M UTC')"), \"nproc\": $(nproc), \"cpu\": $(js "$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)"), \"quick\": $([ "$QUICK" = 1 ] && echo true || echo false), \"repeats\": $REPEATS, \"old_timeout\": $OLD_TIMEOUT, \"commander\": $(js "$BIN"), \"old\": $(js "${OLDBIN:-none}"), \"protoc\": $(js "$(protoc --version | sed 's/libprotoc //')"), \"python\": $pyinfo}"

# commander's own start-up footprint, subtracted before RSS is compared with the message.
measure base commander /dev/null "$BIN" decode -m "$TYPE" 1a024142

# ---------------------------------------------------------------- 1. one field repeated
for kb in $RAW_KB; do
    f=raw-${kb}KB.bin
    g=$("$PY" "$G" repeated $((kb * 1000)) "$f" "$RAW_SHAPE")
    n=$(jget "$g" entries) bytes=$(jget "$g" bytes)
    log "1. decode --raw: $f, $n entries"
    input="$(human "$bytes") ($(commas "$n") × field 1)"
    peer "1-$kb" "\`protoc --decode_raw\`" "$f" protoc --decode_raw
    first=1
    for o in json jsonl text; do
        r=1-$kb-$o
        if [ $first = 1 ]; then label="1. \`decode --raw -o $o\`, one field repeated"; else label="1. \`decode --raw -o $o\`"; fi
        first=0
        row "$r" "1-$kb" "$label" "$bytes" "$input" "1-$kb" "\`protoc --decode_raw\`"
        both "$r" /dev/null decode --raw -i binary --file "$f" -o "$o"
        "$BIN" decode --raw -i binary --file "$f" -o "$o" >"out.$o" || true
        case $o in
            text)
                protoc --decode_raw <"$f" >out.protoc
                check "$r" check-raw-text out.text out.protoc
                ;;
            *) check "$r" check-raw-json "out.$o" "$n" ;;
        esac
    done
    rm -f out.json out.jsonl out.text out.protoc
done

# ---------------------------------------------------------------- 2. encode, pretty JSON
for spec in "small $PRETTY_KB $PRETTY_LINES" "big $PRETTY_BIG_KB $((PRETTY_BIG_KB * PRETTY_LINES / PRETTY_KB))"; do
    read -r name kb lines <<<"$spec"
    g=$("$PY" "$G" pretty $((kb * 1000)) "$lines" "pretty-$name.json" "line-$name.json")
    pb=$(jget "$g" bytes) pl=$(jget "$g" lines) lb=$(jget "$g" line_bytes)
    log "2. encode: pretty-$name.json, $pl lines, $pb bytes ($(jget "$g" signals) signals, $(jget "$g" tires) tires)"
    for form in pretty line; do
        r=2-$name-$form f=$form-$name.json
        if [ $form = pretty ]; then
            row "$r" "2-$name" "2. \`encode -m $TYPE\`, one value over many lines (indent 2)" "$pb" \
                "$(human "$pb"), $(commas "$pl") lines" "$r" "Python Parse + Serialize"
        else
            row "$r" "2-$name" "2. the same value on one line" "$lb" "$(human "$lb"), 1 line" "$r" \
                "Python Parse + Serialize"
        fi
        both "$r" /dev/null encode -m "$TYPE" "$f"
        peer "$r" "Python Parse + Serialize" /dev/null "$PY" "$G" py-encode cvp.pb "$TYPE" "$f" /dev/null
        "$BIN" encode -m "$TYPE" "$f" >"out-$form.hex" || true
    done
    "$PY" "$G" py-encode cvp.pb "$TYPE" "pretty-$name.json" out-py.hex
    check "2-$name-pretty" check-encode cvp.pb "$TYPE" out-py.hex out-pretty.hex out-line.hex
    check "2-$name-line" check-encode cvp.pb "$TYPE" out-py.hex out-line.hex
    rm -f out-pretty.hex out-line.hex out-py.hex
done

# ---------------------------------------------------------------- 3. many repeated entries, schema
g=$("$PY" "$G" tires "$TIRES_N" tires.bin)
bytes=$(jget "$g" bytes)
log "3. decode -m $TYPE: tires.bin, $TIRES_N tires, $bytes bytes"
input="$(human "$bytes"), $(commas "$TIRES_N") tires"
PROTOC_DECODE=(protoc "--decode=$TYPE" -I "$ROOT/proto" "$ROOT/proto/cvp/telemetry.proto")
row 3-table 3 "3. \`decode -m $TYPE -i binary\` (table)" "$bytes" "$input" 3-table
both 3-table /dev/null decode -m "$TYPE" -i binary --file tires.bin
"$BIN" decode -m "$TYPE" -i binary --file tires.bin >out.table || true
check 3-table check-table out.table "$TIRES_N"
rm -f out.table

row 3-text 3 "3. \`decode -m $TYPE -i binary -o text\`" "$bytes" "$input" 3-text "\`protoc --decode\`" "Python text_format"
both 3-text /dev/null decode -m "$TYPE" -i binary --file tires.bin -o text
peer 3-text "\`protoc --decode\`" tires.bin "${PROTOC_DECODE[@]}"
peer 3-text "Python text_format" /dev/null "$PY" "$G" py-decode cvp.pb "$TYPE" tires.bin /dev/null text
"$BIN" decode -m "$TYPE" -i binary --file tires.bin -o text >out.text || true
"${PROTOC_DECODE[@]}" <tires.bin >out.protoc
check 3-text check-text out.text out.protoc "protoc --decode"
rm -f out.text out.protoc

row 3-json 3 "3. \`decode -m $TYPE -i binary -o json\`" "$bytes" "$input" 3-json "Python MessageToJson"
both 3-json /dev/null decode -m "$TYPE" -i binary --file tires.bin -o json
peer 3-json "Python MessageToJson" /dev/null "$PY" "$G" py-decode cvp.pb "$TYPE" tires.bin /dev/null json
"$BIN" decode -m "$TYPE" -i binary --file tires.bin -o json >out.json || true
"$PY" "$G" py-decode cvp.pb "$TYPE" tires.bin out-py.json json
check 3-json check-json cvp.pb "$TYPE" out.json out-py.json "$TIRES_N"
rm -f out.json out-py.json

# ---------------------------------------------------------------- 4. deep nesting, raw
g=$("$PY" "$G" nested $((NEST_MB * 1000000)) "$NEST_DEPTH" nested.bin node.proto)
bytes=$(jget "$g" bytes)
log "4. decode --raw -o text: nested.bin, $NEST_DEPTH levels, $bytes bytes"
row 4-text 4 "4. \`decode --raw -o text\`, messages nested in field 1, payload at every level" "$bytes" \
    "$(human "$bytes"), $NEST_DEPTH levels × $(human "$(jget "$g" payload_per_level)")" 4-text \
    "\`protoc --decode_raw\` (nests 10 levels, deeper as bytes)" "\`protoc --decode=Node\` (a schema)"
both 4-text /dev/null decode --raw -i binary --file nested.bin -o text
peer 4-text "\`protoc --decode_raw\` (nests 10 levels, deeper as bytes)" nested.bin protoc --decode_raw
peer 4-text "\`protoc --decode=Node\` (a schema)" nested.bin protoc --decode=Node -I . node.proto
"$BIN" decode --raw -i binary --file nested.bin -o text >out.text || true
protoc --decode=Node -I . node.proto <nested.bin >out.protoc
check 4-text check-nested out.text out.protoc "$NEST_DEPTH"
rm -f out.text out.protoc

# ---------------------------------------------------------------- 5. one huge hex line
if [ "$HUGE_MB" -gt 0 ]; then
    f=huge-${HUGE_MB}MB.hex
    if [ -s "$f" ] && [ -s "$f.json" ]; then
        log "5. reusing $f"
    else
        log "5. writing $f (one hex line of $HUGE_MB MB)"
        "$PY" "$G" huge $((HUGE_MB * 1000000)) "$f" >"$f.json.tmp"
        mv "$f.json.tmp" "$f.json"
    fi
    g=$(cat "$f.json")
    bytes=$(jget "$g" bytes) payload=$(jget "$g" payload)
    input="$(human "$(jget "$g" hex_bytes)") hex line ($(human "$bytes") message)"
    peer 5 "\`xxd -r -p\` (hex to bytes, no protobuf)" "$f" xxd -r -p
    row 5-table 5 "5. \`decode -m $TYPE\` of one hex line on stdin (table)" "$bytes" "$input" 5 \
        "\`xxd -r -p\` (hex to bytes, no protobuf)"
    both 5-table "$f" decode -m "$TYPE"
    "$BIN" decode -m "$TYPE" <"$f" >out.table || true
    check 5-table check-huge-table out.table "$payload"
    rm -f out.table
    row 5-json 5 "5. \`decode -m $TYPE -o json\` of the same line" "$bytes" "$input" 5 \
        "\`xxd -r -p\` (hex to bytes, no protobuf)"
    both 5-json "$f" decode -m "$TYPE" -o json
    set +o pipefail
    r=$("$BIN" decode -m "$TYPE" -o json <"$f" | "$PY" "$G" check-huge-json "$(jget "$g" sha256)" "$payload")
    set -o pipefail
    record "{\"tag\": \"check\", \"row\": \"5-json\", ${r#\{}"
    case $r in *'"ok": true'*) log "  check 5-json: ok" ;; *) log "  check 5-json: FAILED $r"; FAILED=1 ;; esac
fi

# ---------------------------------------------------------------- report
note "Case 1 entries: $RAW_SHAPE (RAW_SHAPE). Checks run the measured commander once more, its output to a file. The old binary and the peers are not checked."
note "Total run time of the script: $((SECONDS - START)) s."
rm -f time.txt stderr.txt
MD=$DATA/hostile_sizes.md
[ "$QUICK" != 1 ] || MD=$DATA/hostile_sizes-quick.md
"$PY" "$G" report "$RES" "$MD" || FAILED=1
log "table written to $MD; raw results in $RES"
exit $FAILED
