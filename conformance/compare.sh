#!/usr/bin/env bash
# Google's conformance suite (33.2, editions included) through commander and
# through Google's Python runtime (upb, the protobuf version of
# benches/requirements.txt) in the same run: how many tests each passes and
# fails, per suite. commander's testee is examples/conformance.rs, Python's
# conformance/upb_testee.py; both load conformance/test_messages.binpb.
#
#   conformance/compare.sh
set -euo pipefail
cd "$(dirname "$0")/.."
ROOT=$PWD
RUNNER=${COMMANDER_CONFORMANCE_RUNNER:-$ROOT/../shared/conformance/runner}
VENV=$ROOT/target/bench-venv
SET=$ROOT/conformance/test_messages.binpb
work=$(mktemp -d); [ -z "${KEEP:-}" ] || echo "work: $work" >&2
trap '[ -n "${KEEP:-}" ] || rm -rf "$work"' EXIT

cargo build -q --example conformance
if [ ! -x "$VENV/bin/python" ]; then
    "${PYTHON:-python3}" -m venv "$VENV"
fi
want=$(sed -n 's/^protobuf==//p' benches/requirements.txt)
have=$("$VENV/bin/python" -c 'import google.protobuf as g; print(g.__version__)' 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r benches/requirements.txt
fi
backend=$("$VENV/bin/python" -c 'from google.protobuf.internal import api_implementation as a; print(a.Type())')
printf '#!/bin/sh\nexec "%s" "%s" "$@"\n' "$VENV/bin/python" "$ROOT/conformance/upb_testee.py" > "$work/upb"
chmod +x "$work/upb"

# One testee: each suite's summary, its failures taken as expected and the
# run repeated until both suites pass (the runner stops after a failing
# binary/JSON suite, so the text suite's failures show on a later run).
run() {
    local name=$1 testee=$2
    : > "$work/$name.bin"
    : > "$work/$name.text"
    for attempt in 1 2 3; do
        (cd "$work" && "$RUNNER" --maximum_edition 2023 --failure_list "$work/$name.bin" \
            --text_format_failure_list "$work/$name.text" "$testee" "$SET" > "$work/$name.$attempt" 2>&1) && break
        grep '^  Required\.\|^  Recommended\.' "$work/$name.$attempt" | sed 's/^  //' > "$work/$name.new" || true
        grep 'TextFormat' "$work/$name.new" >> "$work/$name.text" || true
        grep -v 'TextFormat' "$work/$name.new" >> "$work/$name.bin" || true
    done
    grep -o 'CONFORMANCE SUITE [A-Z]*: [0-9]* successes, [0-9]* skipped, [0-9]* expected failures' "$work/$name.$attempt" \
        | sed -E 's/CONFORMANCE SUITE [A-Z]*: ([0-9]*) successes, ([0-9]*) skipped, ([0-9]*) expected failures/\1 \2 \3/'
}
mapfile -t ours < <(run commander "$ROOT/target/debug/examples/conformance")
mapfile -t upb < <(run upb "$work/upb")

echo "| suite (--maximum_edition 2023) | commander: passed / failed | Python $want ($backend): passed / failed |"
echo "|---|---:|---:|"
names=("binary and JSON" "text format")
for i in 0 1; do
    read -r op os of <<< "${ours[$i]}"
    read -r up us uf <<< "${upb[$i]}"
    echo "| ${names[$i]} | $op / $of | $up / $uf |"
done
echo
echo "failed by commander only:"
comm -23 <(cut -d' ' -f1 "$work/commander.bin" "$work/commander.text" | sort) \
         <(cut -d' ' -f1 "$work/upb.bin" "$work/upb.text" | sort) | sed 's/^/  /'
echo "failed by Python only:"
comm -13 <(cut -d' ' -f1 "$work/commander.bin" "$work/commander.text" | sort) \
         <(cut -d' ' -f1 "$work/upb.bin" "$work/upb.text" | sort) | sed 's/^/  /'
