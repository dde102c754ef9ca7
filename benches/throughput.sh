#!/usr/bin/env bash
# Decode/encode throughput of commander against a tight Python protobuf (upb) loop,
# the `xxd -r -p` floor, max RSS as the input grows, whole-process single-message
# decode against protoc, and a differential correctness check, all in one run.
#
#   benches/throughput.sh
#
# Environment knobs (defaults in brackets):
#   N [200000]       messages in the main data set
#   REPEATS [3]      timed runs per throughput measurement; the table shows the median
#                    and the best of them, ratios use the medians
#   SEED [1]         seed for benches/gen_responses.py
#   COMMANDER        use this binary instead of building with `cargo build --release`
#   PYTHON [python3] interpreter used to create the venv (target/bench-venv)
#
# Installs what is missing: Debian packages protobuf-compiler, hyperfine, time, xxd
# (apt-get, as root or through sudo) and the pinned `protobuf` from benches/requirements.txt
# into target/bench-venv. Data goes to target/bench-data/. Exits non-zero when the
# correctness check finds a mismatch.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

N=${N:-200000}
REPEATS=${REPEATS:-3}
SEED=${SEED:-1}
TYPE=cvp.CommandResponseMessage
DATA=$ROOT/target/bench-data
VENV=$ROOT/target/bench-venv
H=$ROOT/benches/pybench.py

log() { printf '[bench] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- tools
need=()
command -v protoc >/dev/null 2>&1 || need+=(protobuf-compiler)
command -v hyperfine >/dev/null 2>&1 || need+=(hyperfine)
[ -x /usr/bin/time ] || need+=(time)
command -v xxd >/dev/null 2>&1 || need+=(xxd)
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

# ---------------------------------------------------------------- data
mkdir -p "$DATA"
cd "$DATA"
RES=$DATA/results.jsonl
: >"$RES"
record() { printf '%s\n' "$1" >>"$RES"; }

log "generating $N messages (seed $SEED)"
"$PY" "$ROOT/benches/gen_responses.py" "$N" "$SEED" >responses.jsonl
protoc --descriptor_set_out=cvp.pb --include_imports -I "$ROOT/proto" "$ROOT"/proto/cvp/*.proto

# `timed TAG STDIN STDOUT CMD...`: REPEATS runs of CMD, wall/cpu/maxrss of each.
timed() {
    local tag=$1 in=$2 out=$3 i r
    shift 3
    for ((i = 1; i <= REPEATS; i++)); do
        r=$("$PY" "$H" run "$in" "$out" "$@") || { log "$tag failed: $*"; exit 2; }
        record "{\"tag\": \"$tag\", \"run\": $i, \"r\": $r}"
    done
}
# `pyloop TAG MODE IN OUT`: REPEATS runs of the Python loop, each in its own process
# (the loop times itself; the process wall time is kept too).
pyloop() {
    local tag=$1 mode=$2 in=$3 out=$4 i r
    for ((i = 1; i <= REPEATS; i++)); do
        r=$("$PY" "$H" run - loop.json "$PY" "$H" "$mode" cvp.pb "$TYPE" "$in" "$out") \
            || { log "$tag failed"; exit 2; }
        record "{\"tag\": \"$tag\", \"run\": $i, \"r\": $r, \"loop\": $(cat loop.json)}"
    done
    rm -f loop.json
}
record "{\"tag\": \"env\", \"nproc\": $(nproc), \"cpu\": \"$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)\", \"n\": $N, \"repeats\": $REPEATS, \"python\": $("$PY" "$H" info), \"commander\": \"$BIN\", \"jsonl_bytes\": $(stat -c %s responses.jsonl)}"

# ---------------------------------------------------------------- 2. encode
log "encode: commander x$REPEATS"
timed encode-commander - commander.hex "$BIN" encode -m CommandResponseMessage responses.jsonl
log "encode: python x$REPEATS"
pyloop encode-python encode responses.jsonl python.hex
record "{\"tag\": \"hex\", \"hex_bytes\": $(stat -c %s python.hex)}"

# ---------------------------------------------------------------- 1. decode, 3. xxd floor
# Input: the hex written by Python's SerializeToString (the reference encoder).
log "decode: commander x$REPEATS"
timed decode-commander - commander.jsonl "$BIN" decode --file python.hex -o jsonl
log "decode: python x$REPEATS"
pyloop decode-python decode python.hex python.jsonl
log "xxd -r -p x$REPEATS"
timed xxd python.hex xxd.bin xxd -r -p

# ---------------------------------------------------------------- 4. memory
log "max RSS at 1/4x, 1x, 4x the input"
head -n $((N / 4)) python.hex >quarter.hex
cat python.hex python.hex python.hex python.hex >quad.hex
head -n $((N / 4)) responses.jsonl >quarter.jsonl
cat responses.jsonl responses.jsonl responses.jsonl responses.jsonl >quad.jsonl
for f in quarter python quad; do
    lines=$(wc -l <$f.hex)
    /usr/bin/time -f %M -o rss.txt "$BIN" decode --file $f.hex -o jsonl >/dev/null
    record "{\"tag\": \"rss-decode\", \"lines\": $lines, \"kib\": $(tail -1 rss.txt)}"
done
for f in quarter responses quad; do
    lines=$(wc -l <$f.jsonl)
    /usr/bin/time -f %M -o rss.txt "$BIN" encode -m CommandResponseMessage $f.jsonl >/dev/null
    record "{\"tag\": \"rss-encode\", \"lines\": $lines, \"kib\": $(tail -1 rss.txt)}"
done
rm -f quarter.hex quad.hex quarter.jsonl quad.jsonl rss.txt

# ---------------------------------------------------------------- 5. one message, whole process
log "single message: hyperfine"
head -n 1 python.hex >one.hex
xxd -r -p one.hex >one.bin
PROTOC_DECODE="protoc --decode=$TYPE -I $ROOT/proto $ROOT/proto/cvp/response.proto"
# Sanity: both print the message.
"$BIN" decode --file one.hex >one.commander.txt
$PROTOC_DECODE <one.bin >one.protoc.txt
[ -s one.commander.txt ] && [ -s one.protoc.txt ] || { log "single-message decode printed nothing"; exit 2; }
: >hf.log  # hyperfine's warnings (outliers on a busy machine) go here
HF=(hyperfine --style none --warmup 5 --min-runs 40)
if hyperfine --help | grep -q -- '--input'; then
    "${HF[@]}" -N --input one.bin --export-json hf.json \
        -n commander "$BIN decode --file one.hex" -n protoc "$PROTOC_DECODE" >/dev/null 2>>hf.log
    record "{\"tag\": \"hf\", \"mode\": \"-N --input\", \"runs\": $(tr -d "\n" <hf.json)}"
else
    # hyperfine < 1.16 has no --input and -N gives commands /dev/null as stdin, so protoc
    # is run as `sh -c 'exec protoc ... < one.bin'`, and commander the same way for the
    # ratio (both pay one sh start; nothing subtracted, so the ratio leans towards 1).
    # commander alone with plain -N as well.
    "${HF[@]}" -N --export-json hf-n.json -n commander "$BIN decode --file one.hex" >/dev/null 2>>hf.log
    "${HF[@]}" -N --export-json hf.json \
        -n commander "sh -c 'exec $BIN decode --file one.hex'" \
        -n protoc "sh -c 'exec $PROTOC_DECODE < one.bin'" >/dev/null 2>>hf.log
    record "{\"tag\": \"hf\", \"mode\": \"shell\", \"runs\": $(tr -d "\n" <hf.json), \"n_runs\": $(tr -d "\n" <hf-n.json)}"
fi

# Cross-check without any shell: both spawned directly, stdin from a file, interleaved.
r=$("$PY" "$H" spawnbench 200 10 "[{\"name\": \"commander\", \"stdin\": \"/dev/null\", \"argv\": [\"$BIN\", \"decode\", \"--file\", \"one.hex\"]}, {\"name\": \"protoc\", \"stdin\": \"one.bin\", \"argv\": [\"protoc\", \"--decode=$TYPE\", \"-I\", \"$ROOT/proto\", \"$ROOT/proto/cvp/response.proto\"]}]")
record "{\"tag\": \"spawn\", \"r\": $r}"

# ---------------------------------------------------------------- 6. correctness
log "correctness"
ok=0
r=$("$PY" "$H" compare-json commander.jsonl python.jsonl) || ok=1
record "{\"tag\": \"check-decode\", \"r\": $r}"
r=$("$PY" "$H" compare-hex cvp.pb "$TYPE" responses.jsonl commander.hex python.hex) || ok=1
record "{\"tag\": \"check-encode\", \"r\": $r}"

"$PY" "$H" report "$RES"
exit $ok
