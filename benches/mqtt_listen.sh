#!/usr/bin/env bash
# Load benchmark of `commander listen`: a local mosquitto, one listener decoding
# cvp.CommandResponseMessage at QoS 1 into JSON Lines, and a fast publisher sending
# N realistic responses at full speed to /device/<VIN>/MQTTPROTOBUF/commandresponse
# (500 vehicles). Measures the publish rate, the listener's decode rate (messages/s
# from its first to its last line, by the receive times it prints), the end-to-end
# time, and checks that every message arrived, unaltered: each one carries its
# sequence number in the last 12 digits of its message_id; missing ones, duplicates
# (QoS 1 allows them) and reordering are counted separately.
#
#   benches/mqtt_listen.sh
#
# Environment knobs (defaults in brackets):
#   N [100000]        messages per run (the listener runs with --count N)
#   RUNS [2]          runs of each mode, each with a fresh broker and listener
#   MODES [live backlog]
#                     live: the listener is subscribed and the publisher sends at full
#                     speed, both at once (the listener's rate is capped by what arrives);
#                     backlog: the listener subscribes with a persistent session
#                     (--session) and leaves, all N messages are published and queued by
#                     the broker, then the listener returns and drains the queue: its own
#                     ceiling through the broker
#   SEED [1]          seed for benches/gen_responses.py
#   QOS [1]           QoS of the publisher and of the listener's subscription
#   INFLIGHT [1000]   mosquitto max_inflight_messages (to the listener, and the Receive
#                     Maximum it gives MQTT 5 clients) and the publisher's in-flight window
#   QUEUE [0]         mosquitto max_queued_messages per client, 0 = unlimited (mosquitto's
#                     own default, 1000, drops QoS 1 messages for a listener that falls behind)
#   IDLE [20]         after the publisher is done, stop the listener when it has printed
#                     nothing for this many seconds (messages lost: it never reaches N)
#   COMMANDER         use this binary instead of building with `cargo build --release`
#   PUBLISHER         use this publisher binary instead of building benches/publisher
#   PYTHON [python3]  interpreter for the helpers (standard library only, no venv)
#
# Installs mosquitto (Debian package, apt-get as root or through sudo) when missing.
# Builds commander and benches/publisher (rumqttc, the same version as commander, no
# TLS; `cargo build --release --manifest-path benches/publisher/Cargo.toml`) into
# ${CARGO_TARGET_DIR:-target}. Data, logs and results go to target/mqtt-bench/; the
# markdown report is printed at the end. Exits non-zero when a message is missing,
# altered or did not decode.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

N=${N:-100000}
RUNS=${RUNS:-2}
SEED=${SEED:-1}
QOS=${QOS:-1}
INFLIGHT=${INFLIGHT:-1000}
QUEUE=${QUEUE:-0}
IDLE=${IDLE:-20}
MODES=${MODES:-live backlog}
TYPE=cvp.CommandResponseMessage
FILTER=/device/+/MQTTPROTOBUF/commandresponse
DATA=$ROOT/target/mqtt-bench
H=$ROOT/benches/mqtt_listen.py
PY=${PYTHON:-python3}

log() { printf '[mqtt-bench] %s\n' "$*" >&2; }

# ---------------------------------------------------------------- tools
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    log "installing the Debian package mosquitto"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto >/dev/null
fi
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
# The package starts a system broker on 1883; ours runs on its own port, so leave it be.

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -n "${COMMANDER:-}" ]; then
    BIN=$COMMANDER
else
    log "cargo build --release"
    cargo build --release --quiet
    BIN=$TARGET/release/commander
fi
if [ -n "${PUBLISHER:-}" ]; then
    PUB=$PUBLISHER
else
    log "cargo build --release --manifest-path benches/publisher/Cargo.toml"
    CARGO_TARGET_DIR=$TARGET cargo build --release --quiet --manifest-path benches/publisher/Cargo.toml
    PUB=$TARGET/release/mqtt-bench-publisher
fi
BIN=$(realpath "$BIN")
PUB=$(realpath "$PUB")
[ -x "$BIN" ] || { log "no binary at $BIN"; exit 2; }
[ -x "$PUB" ] || { log "no publisher at $PUB"; exit 2; }

# ---------------------------------------------------------------- data
mkdir -p "$DATA"
cd "$DATA"
RES=$DATA/results.jsonl
: >"$RES"

log "generating $N messages (seed $SEED)"
"$PY" "$ROOT/benches/gen_responses.py" "$N" "$SEED" >generated.jsonl
"$PY" "$H" prepare generated.jsonl responses.jsonl topics.txt
"$BIN" encode -m CommandResponseMessage responses.jsonl >payloads.hex
# What the listener should print for each message: the same bytes decoded offline.
"$BIN" decode -m CommandResponseMessage --file payloads.hex -o jsonl >expected.jsonl
[ "$(wc -l <payloads.hex)" -eq "$N" ] && [ "$(wc -l <expected.jsonl)" -eq "$N" ] \
    || { log "encoding the data set failed"; exit 2; }
payload_bytes=$(($(tr -d '\n' <payloads.hex | wc -c) / 2))

LISTEN=("$BIN" listen --broker "mqtt://127.0.0.1:PORT" -o jsonl
    --qos "$QOS" --count "$N" --topic "$FILTER" --type "$FILTER=$TYPE")
listen_cmd=$(printf '%q ' commander "${LISTEN[@]:1}" --client-id bench-listener)
listen_cmd=${listen_cmd% }
rumqttc=$(sed -n '/^name = "rumqttc"/{n;s/^version = "\(.*\)"/\1/p}' "$ROOT/benches/publisher/Cargo.lock")
# The knobs that differ from their defaults, for the command shown in the report.
knobs=
for kv in N=100000 RUNS=2 SEED=1 QOS=1 INFLIGHT=1000 QUEUE=0 IDLE=20 "MODES=live backlog"; do
    v=${kv%%=*}
    [ "${!v}" = "${kv#*=}" ] || knobs+="$v=$(printf '%q' "${!v}") "
done
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
jstr() { "$PY" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }
printf '{"tag": "env", "nproc": %d, "cpu": %s, "kernel": %s, "mosquitto": %s, "rumqttc": "%s", "n": %d, "seed": %d, "qos": %d, "inflight": %d, "queue": %d, "payload_bytes": %d, "topics": %d, "listen_cmd": %s, "command": %s}\n' \
    "$(nproc)" "$(jstr "$cpu")" "$(jstr "$(uname -r)")" \
    "$(jstr "$("$MOSQUITTO" -h | sed -n 's/^mosquitto version /mosquitto /p' | head -1)")" \
    "$rumqttc" "$N" "$SEED" "$QOS" "$INFLIGHT" "$QUEUE" "$payload_bytes" "$(sort -u topics.txt | wc -l)" \
    "$(jstr "$listen_cmd")" "$(jstr "${knobs}benches/mqtt_listen.sh")" \
    >>"$RES"

# ---------------------------------------------------------------- runs
BROKER_PID=
BG_PID=
cleanup() {
    [ -z "$BG_PID" ] || kill "$BG_PID" 2>/dev/null || true
    [ -z "$BROKER_PID" ] || kill "$BROKER_PID" 2>/dev/null || true
}
trap cleanup EXIT

# `start_broker DIR`: a fresh mosquitto on a free port ($port), its log in DIR.
start_broker() {
    local dir=$1
    port=$("$PY" "$H" freeport)
    cat >"$dir/mosquitto.conf" <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages $QUEUE
max_queued_bytes 0
max_inflight_messages $INFLIGHT
max_inflight_bytes 0
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
EOF
    "$MOSQUITTO" -c "$dir/mosquitto.conf" 2>"$dir/mosquitto.log" &
    BROKER_PID=$!
    "$PY" "$H" wait-log "$dir/mosquitto.log" " running" 10 \
        || { log "mosquitto did not start:"; cat "$dir/mosquitto.log" >&2; exit 2; }
}

stop_broker() {
    broker_cpu=$("$PY" "$H" cpu "$BROKER_PID" 2>/dev/null || echo null)
    kill "$BROKER_PID"
    wait "$BROKER_PID" || true
    BROKER_PID=
}

# `wait_subscribed DIR`: until the broker has the listener's subscription.
wait_subscribed() {
    "$PY" "$H" wait-log "$1/mosquitto.log" "bench-listener $QOS $FILTER" 10 \
        || { log "the listener did not subscribe:"; cat "$1"/*.err "$1/mosquitto.log" >&2; exit 2; }
}

publish() {
    local dir=$1
    pubrun=$("$PY" "$H" run --timeout 600 "$dir/pub.json" "$dir/pub.err" -- \
        "$PUB" 127.0.0.1 "$port" "$QOS" "$INFLIGHT" "$DATA/topics.txt" "$DATA/payloads.hex")
    [ -s "$dir/pub.json" ] || { log "publisher failed:"; cat "$dir/pub.err" >&2; }
    log "$tag: published $(cat "$dir/pub.json" 2>/dev/null)"
}

status=0
for ((run = 1; run <= RUNS; run++)); do
    for mode in $MODES; do
        tag="run $run/$RUNS $mode"
        dir=$DATA/run$run-$mode
        rm -rf "$dir"
        mkdir -p "$dir"
        start_broker "$dir"
        log "$tag: mosquitto on 127.0.0.1:$port"
        argv=("${LISTEN[@]}")
        argv[3]=mqtt://127.0.0.1:$port
        case $mode in
        live)
            # The listener is subscribed, then the publisher starts: both run at once.
            argv+=(--client-id bench-listener)
            "$PY" "$H" run --stop-file "$dir/published" --idle "$IDLE" \
                "$dir/listen.jsonl" "$dir/listen.err" -- "${argv[@]}" >"$dir/listener.json" &
            BG_PID=$!
            wait_subscribed "$dir"
            log "$tag: publishing $N messages at QoS $QOS"
            publish "$dir"
            touch "$dir/published"
            ;;
        backlog)
            # The listener opens a persistent session with its subscription and goes
            # away; everything is published and queued by the broker; then the listener
            # comes back and drains the queue as fast as it can decode.
            argv+=(--session bench-listener)
            "${argv[@]}" >"$dir/prime.jsonl" 2>"$dir/prime.err" &
            BG_PID=$!
            wait_subscribed "$dir"
            kill "$BG_PID"
            wait "$BG_PID" || true
            BG_PID=
            # "Client bench-listener disconnected." after a DISCONNECT, "... closed its
            # connection." when the socket just closed (builds before the own MQTT layer).
            "$PY" "$H" wait-log "$dir/mosquitto.log" "Client bench-listener " 10 \
                || { log "the broker did not see the listener leave"; exit 2; }
            log "$tag: publishing $N messages at QoS $QOS to the broker's queue"
            publish "$dir"
            touch "$dir/published"
            log "$tag: listener draining the queue"
            "$PY" "$H" run --stop-file "$dir/published" --idle "$IDLE" \
                "$dir/listen.jsonl" "$dir/listen.err" -- "${argv[@]}" >"$dir/listener.json" &
            BG_PID=$!
            ;;
        *)
            log "unknown mode '$mode' (MODES: live, backlog)"
            exit 2
            ;;
        esac
        wait "$BG_PID" || true
        BG_PID=
        stop_broker

        check=$("$PY" "$H" check "$dir/listen.jsonl" "$DATA/expected.jsonl" "$DATA/topics.txt" "$dir/pub.json") \
            || status=1
        printf '{"tag": "run", "run": %d, "mode": "%s", "port": %d, "pub": %s, "pubrun": %s, "listener": %s, "broker_cpu_s": %s, "check": %s}\n' \
            "$run" "$mode" "$port" "$(cat "$dir/pub.json" 2>/dev/null || echo '{}')" "$pubrun" \
            "$(cat "$dir/listener.json")" "$broker_cpu" "$check" >>"$RES"
        log "$tag: $check"
        if grep -qv '^listening on' "$dir/listen.err"; then
            log "$tag: listener stderr (first lines):"
            head -n 5 "$dir/listen.err" >&2
        fi
    done
done

"$PY" "$H" report "$RES"
exit $status
