#!/usr/bin/env bash
# Load benchmark of `commander simulate`: a local mosquitto, a fleet of N_VEHICLES
# simulated vehicles (`commander simulate --vehicles N`, the built-in profile: telemetry
# every second and an event every 10 s per vehicle, at QOS) and, for DURATION seconds,
# SENDERS loops of sequential `commander send` processes to random vehicles of the
# fleet with random subtypes, each checked for the right reply (its own correlation id,
# the vehicle, the subtype, SUCCESS). Beside them a round-trip probe (benches/publisher
# in its round-trip mode: one persistent MQTT connection, one command at a time,
# PROBE_RATE per second) times publish → reply without any process start. A
# `commander listen --qos QOS` on the telemetry and event topics runs for the whole
# run: what it received is set against what the simulator says it published (its
# `done` summary at SIGTERM), per vehicle by the telemetry's sequence numbers.
#
# Timeline: broker; listener; baseline (an idle simulator: one device, nothing
# published; BASELINE sends, BASELINE `send --no-reply`, 5 s worth of probes); the
# fleet simulator; WARMUP s; the window: DURATION s of send loops and the probe;
# SIGTERM to the simulator; the listener drains (IDLE s without output) and stops.
#
# Reported: commands answered per second (sends completed OK / DURATION), failures
# and timeouts; reply latency median/p99/max as the simulator logs it (`latency_ms`:
# command received → reply handed to its MQTT client), as the probe sees it (round
# trip through the broker), and the wall time of each `send` process (with the idle
# baseline, and `send --no-reply` for the part that is not the reply); the simulator's
# CPU (in the window, /proc utime+stime; and over its life, wait4) and peak memory
# (VmHWM from /proc just before the SIGTERM; not ru_maxrss, which for a child forked
# from Python carries the parent's peak from before the exec); messages lost (published - distinct received), duplicates,
# sequence gaps; the telemetry rate made (messages stamped by the simulator in the
# window / DURATION) against the N_VEHICLES/s asked, and how late against its schedule.
#
#   bash benches/simulate.sh
#
# Environment knobs (defaults in brackets):
#   N_VEHICLES [1000]  simulated vehicles (ids SIM0001..; at most 9999)
#   DURATION [30]      seconds of send loops (the measurement window)
#   QOS [1]            QoS of the simulator (its subscription and everything it
#                      publishes), of the sends and the probe, and of the listener
#   SENDERS [1]        parallel sequential send loops
#   PROBE_RATE [20]    round-trip probes per second during the window (0: no probe)
#   WARMUP [2]         seconds between the simulator's start and the window
#   BASELINE [20]      sends (and sends --no-reply) against the idle simulator
#   INFLIGHT [1000]    mosquitto max_inflight_messages: QoS 1/2 messages in flight to
#                      each client, and the Receive Maximum it gives MQTT 5 clients
#                      (the simulator holds back its publishes when that many await
#                      their PUBACK); max_queued_messages is 0 (no limit)
#   NODELAY [true]     mosquitto set_tcp_nodelay. Its default, false, lets Nagle's
#                      algorithm hold the broker's second small write to a client (the
#                      reply after the PUBACK) until the client's delayed ACK, ~40 ms on
#                      Linux: with false, both the probe's round trip and each `send`
#                      take ~43 ms, whatever the simulator does (measured: DURATION=10
#                      NODELAY=false, 22 sends/s per loop instead of ~300)
#   SEND_TIMEOUT [10s] send --timeout
#   RATE_MIN [0.99]    target: the telemetry rate made is at least this share of asked
#   IDLE [2]           drain: stop the listener once it has printed nothing for IDLE s
#   STOP_WAIT [5]      seconds the simulator has to exit after SIGTERM (then SIGKILL)
#   SEED [1]           seed of the simulator and of the random vehicles and subtypes
#   COMMANDER          use this binary instead of building with `cargo build --release`
#                      (copied to target/simulate-bench/ first either way)
#   PUBLISHER          use this publisher binary instead of building benches/publisher
#   PYTHON [python3]   interpreter for benches/simulate.py (standard library only)
#
# Installs mosquitto (Debian package, apt-get as root or through sudo) when missing.
# Everything listens on 127.0.0.1 only, on free ports. Data, logs (every process's
# stderr, the broker's log), results.json go to target/simulate-bench/; the markdown
# report is printed at the end. Every process started is stopped on exit. Exits 1 when
# a target is missed: a telemetry or event message lost at QoS >= 1, a send or probe
# failed (timeout or wrong reply), the simulator did not run to the end (crash, no
# `done` summary, exit status other than 130), the telemetry rate below RATE_MIN.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

N_VEHICLES=${N_VEHICLES:-1000}
DURATION=${DURATION:-30}
QOS=${QOS:-1}
SENDERS=${SENDERS:-1}
PROBE_RATE=${PROBE_RATE:-20}
WARMUP=${WARMUP:-2}
BASELINE=${BASELINE:-20}
INFLIGHT=${INFLIGHT:-1000}
NODELAY=${NODELAY:-true}
SEND_TIMEOUT=${SEND_TIMEOUT:-10s}
RATE_MIN=${RATE_MIN:-0.99}
IDLE=${IDLE:-2}
STOP_WAIT=${STOP_WAIT:-5}
SEED=${SEED:-1}
DATA=$ROOT/target/simulate-bench
H=$ROOT/benches/simulate.py
PY=${PYTHON:-python3}
TELEMETRY=/device/+/MQTTPROTOBUF/telemetry
EVENTS=/device/+/MQTTPROTOBUF/vehicleevents
REPLIES=/device/+/MQTTPROTOBUF/commandresponse

log() { printf '[simulate-bench %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
now() { "$PY" -c 'import time; print(repr(time.time()))'; }

if [ "$N_VEHICLES" -lt 1 ] || [ "$N_VEHICLES" -gt 9999 ]; then
    log "N_VEHICLES: 1 to 9999 (ids SIM0001..SIM9999)"
    exit 2
fi

# ---------------------------------------------------------------- tools
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    log "installing the Debian package mosquitto"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto >/dev/null
fi
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
# The package starts a system broker on 1883; ours runs on a port of its own.

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -n "${COMMANDER:-}" ]; then
    SRC_BIN=$COMMANDER
else
    log "cargo build --release"
    cargo build --release --quiet
    SRC_BIN=$TARGET/release/commander
fi
if [ -n "${PUBLISHER:-}" ]; then
    PUB=$PUBLISHER
else
    log "cargo build --release --manifest-path benches/publisher/Cargo.toml"
    CARGO_TARGET_DIR=$TARGET cargo build --release --quiet --manifest-path benches/publisher/Cargo.toml
    PUB=$TARGET/release/mqtt-bench-publisher
fi
[ -x "$SRC_BIN" ] || { log "no binary at $SRC_BIN"; exit 2; }
SRC_BIN=$(realpath "$SRC_BIN")
[ -x "$PUB" ] || { log "no publisher at $PUB"; exit 2; }
PUB=$(realpath "$PUB")
rm -rf "$DATA"
mkdir -p "$DATA/baseline"
BIN=$DATA/commander
cp "$SRC_BIN" "$BIN"
log "commander: $SRC_BIN (copied to $BIN), $("$BIN" --version)"
cd "$DATA"

# ---------------------------------------------------------------- processes
BROKER_PID='' LIS_SUP='' SIM_SUP='' IDLE_SUP='' PROBE_PID=''
LOOP_PIDS=()
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local p f
    for p in "${LOOP_PIDS[@]}" "$PROBE_PID" "$IDLE_SUP" "$SIM_SUP" "$LIS_SUP"; do
        [ -z "$p" ] || kill "$p" 2>/dev/null || true
    done
    sleep 0.3
    # What a supervisor ran, should it still be there (and still be commander).
    for f in "$DATA/sim.pid" "$DATA/baseline/sim.pid" "$DATA/listen.pid"; do
        if [ -s "$f" ]; then
            "$PY" "$H" stop "$(cat "$f")" 1 "$BIN" >/dev/null 2>&1 || true
        fi
    done
    [ -z "$BROKER_PID" ] || kill "$BROKER_PID" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 130' INT TERM

port=$("$PY" "$H" freeport)
URL=mqtt://127.0.0.1:$port
cat >mosquitto.conf <<EOF
listener $port 127.0.0.1
allow_anonymous true
persistence false
max_queued_messages 0
max_queued_bytes 0
max_inflight_messages $INFLIGHT
max_inflight_bytes 0
set_tcp_nodelay $NODELAY
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
log_type subscribe
EOF
[ "$(id -u)" -ne 0 ] || echo "user root" >>mosquitto.conf
"$MOSQUITTO" -c mosquitto.conf 2>mosquitto.log &
BROKER_PID=$!
"$PY" "$H" wait-log mosquitto.log " running" 10 \
    || { log "mosquitto did not start:"; cat mosquitto.log >&2; exit 2; }
log "mosquitto on 127.0.0.1:$port"

# `wait_subscribed CLIENT FILTER`: until the broker has CLIENT's subscription.
wait_subscribed() {
    "$PY" "$H" wait-log mosquitto.log "$1 $QOS $2" 15 \
        || { log "$1 did not subscribe to $2:"; tail -n 20 mosquitto.log ./*.err baseline/*.err >&2; exit 2; }
}

# `probe OUT PREFIX [SECONDS]`: the round-trip probe over PREFIX.{topics,hex,keys}.
probe() {
    PUB_RTT_KEYS=$2.keys PUB_RATE=$PROBE_RATE PUB_RTT_SECONDS=${3:-} \
        PUB_CLIENT_ID=bench-probe PUB_RTT_FILTER=$REPLIES \
        "$PUB" 127.0.0.1 "$port" "$QOS" "$INFLIGHT" "$2.topics" "$2.hex" >"$1" 2>"${1%.jsonl}.err"
}

# The listener for the loss count: telemetry and events, the whole run.
LISTEN=("$BIN" listen --broker "$URL" --qos "$QOS" -o jsonl --client-id bench-listener
    --topic "$TELEMETRY" --topic "$EVENTS")
"$PY" "$H" supervise listen.run.json listen.pid listen.jsonl listen.err -- "${LISTEN[@]}" &
LIS_SUP=$!
wait_subscribed bench-listener "$EVENTS"

# ---------------------------------------------------------------- baseline
SIM_IDLE=("$BIN" simulate --broker "$URL" --vehicle SIM0001 --no-publish --qos "$QOS" -o jsonl
    --client-id bench-sim-idle --seed "$SEED")
"$PY" "$H" supervise baseline/sim.run.json baseline/sim.pid /dev/null baseline/sim.err -- "${SIM_IDLE[@]}" &
IDLE_SUP=$!
wait_subscribed bench-sim-idle /device/+/MQTTPROTOBUF/command
log "baseline: $BASELINE sends, $BASELINE sends --no-reply to an idle simulator (1 device)"
SEND_LOOP=("$PY" "$H" send-loop --bin "$BIN" --url "$URL" --vehicles "$N_VEHICLES" --timeout "$SEND_TIMEOUT"
    --seed "$SEED")
"${SEND_LOOP[@]}" --alive "$(cat baseline/sim.pid)" --loop base --vehicle SIM0001 --count "$BASELINE" baseline/send.jsonl
"${SEND_LOOP[@]}" --alive "$(cat baseline/sim.pid)" --loop base-noreply --vehicle SIM0001 --count "$BASELINE" --no-reply baseline/send-noreply.jsonl
base_probes=0
if [ "$PROBE_RATE" -gt 0 ]; then
    base_probes=$((PROBE_RATE * 5))
    log "baseline: $base_probes probes at $PROBE_RATE/s"
    "$PY" "$H" probes 1 "$base_probes" "$SEED" baseline/probe SIM0001
    "$BIN" encode -m CommandMessage baseline/probe.jsonl >baseline/probe.hex
    probe baseline/probe.jsonl baseline/probe 6 || log "baseline probe: exit status $? ($(tail -n 1 baseline/probe.err))"
fi
"$PY" "$H" stop "$(cat baseline/sim.pid)" "$STOP_WAIT" "$BIN" >baseline/sim.stop.json
wait "$IDLE_SUP" || true
IDLE_SUP=

# ---------------------------------------------------------------- the fleet
SIM=("$BIN" simulate --broker "$URL" --vehicles "$N_VEHICLES" --qos "$QOS" -o jsonl
    --client-id bench-sim --seed "$SEED")
if [ "$PROBE_RATE" -gt 0 ]; then
    "$PY" "$H" probes "$N_VEHICLES" $((PROBE_RATE * DURATION + PROBE_RATE)) "$SEED" probe
    "$BIN" encode -m CommandMessage probe.jsonl >probe.hex
fi
log "starting the simulator: $N_VEHICLES vehicles"
"$PY" "$H" supervise sim.run.json sim.pid /dev/null sim.err -- "${SIM[@]}" &
SIM_SUP=$!
wait_subscribed bench-sim /device/+/MQTTPROTOBUF/command
"$PY" "$H" wait-log sim.err '"simulating ' 10 || { log "the simulator did not start:"; cat sim.err >&2; exit 2; }
SIM_PID=$(cat sim.pid)
sleep "$WARMUP"

log "window: $DURATION s, $SENDERS send loop(s)$([ "$PROBE_RATE" -gt 0 ] && echo ", probe at $PROBE_RATE/s")"
w0=$(now)
sim0=$("$PY" "$H" proc "$SIM_PID")
broker0=$("$PY" "$H" proc "$BROKER_PID")
for ((i = 1; i <= SENDERS; i++)); do
    "${SEND_LOOP[@]}" --alive "$SIM_PID" --loop "$i" --duration "$DURATION" "send.$i.jsonl" &
    LOOP_PIDS+=($!)
done
if [ "$PROBE_RATE" -gt 0 ]; then
    probe probe.jsonl probe "$DURATION" &
    PROBE_PID=$!
fi
for p in "${LOOP_PIDS[@]}"; do
    wait "$p" || log "a send loop ended with status $?"
done
LOOP_PIDS=()
if [ -n "$PROBE_PID" ]; then
    wait "$PROBE_PID" || log "probe: exit status $? ($(tail -n 1 probe.err))"
    PROBE_PID=
fi
w1=$(now)
sim1=$("$PY" "$H" proc "$SIM_PID")
broker1=$("$PY" "$H" proc "$BROKER_PID")

log "SIGTERM to the simulator"
sim_last=$("$PY" "$H" proc "$SIM_PID")
printf '{"w0": %s, "w1": %s, "sim0": %s, "sim1": %s, "sim_last": %s, "broker0": %s, "broker1": %s}\n' \
    "$w0" "$w1" "$sim0" "$sim1" "$sim_last" "$broker0" "$broker1" >window.json
"$PY" "$H" stop "$SIM_PID" "$STOP_WAIT" "$BIN" >sim.stop.json
wait "$SIM_SUP" || true
SIM_SUP=
log "simulator: $(grep '"event":"done"' sim.err || echo 'no done summary') $(cat sim.run.json)"
"$PY" "$H" wait-idle listen.jsonl "$IDLE" 120 || log "the listener was still printing after 120 s"
"$PY" "$H" stop "$(cat listen.pid)" "$STOP_WAIT" "$BIN" >listen.stop.json
wait "$LIS_SUP" || true
LIS_SUP=
kill "$BROKER_PID"
wait "$BROKER_PID" || true
BROKER_PID=

# ---------------------------------------------------------------- report
knobs=
for kv in N_VEHICLES=1000 DURATION=30 QOS=1 SENDERS=1 PROBE_RATE=20 WARMUP=2 BASELINE=20 \
    INFLIGHT=1000 NODELAY=true SEND_TIMEOUT=10s RATE_MIN=0.99 IDLE=2 STOP_WAIT=5 SEED=1; do
    v=${kv%%=*}
    [ "${!v}" = "${kv#*=}" ] || knobs+="$v=$(printf '%q' "${!v}") "
done
[ -z "${COMMANDER:-}" ] || knobs+="COMMANDER=$(printf '%q' "$COMMANDER") "
show() { # show ARGV...: the command as run, commander for the binary, PORT for the port
    local s
    s=$(printf '%q ' "$@")
    s=${s% }
    s=${s//$BIN/commander}
    printf '%s' "${s//$port/PORT}"
}
rumqttc=$(sed -n '/^name = "rumqttc"/{n;s/^version = "\(.*\)"/\1/p}' "$ROOT/benches/publisher/Cargo.lock")
"$PY" "$H" env env.json \
    "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
    "nproc=$(nproc)" "kernel=$(uname -r)" \
    "mosquitto=$("$MOSQUITTO" -h | sed -n 's/^mosquitto version /mosquitto /p' | head -1)" \
    "commander=$SRC_BIN" "commander_version=$("$BIN" --version)" "rumqttc=$rumqttc" \
    "n_vehicles=$N_VEHICLES" "duration=$DURATION" "qos=$QOS" "senders=$SENDERS" \
    "probe_rate=$PROBE_RATE" "warmup=$WARMUP" "baseline_sends=$BASELINE" "baseline_probes=$base_probes" \
    "inflight=$INFLIGHT" "nodelay=$NODELAY" "rate_min=$RATE_MIN" \
    "subtypes=$("$PY" -B -c 'import sys; sys.path.insert(0, sys.argv[1]); import simulate; print(", ".join(simulate.SUBTYPES))' "$ROOT/benches")" \
    "sim_cmd=$(show "${SIM[@]}")" "baseline_sim_cmd=$(show "${SIM_IDLE[@]}")" \
    "listen_cmd=$(show "${LISTEN[@]}")" \
    "send_cmd=commander send --broker mqtt://127.0.0.1:PORT --json '{\"vehicle_id\":\"SIMnnnn\",\"subtype\":\"…\",\"correlation_id\":\"bench-…\"}' -o jsonl -q --timeout $SEND_TIMEOUT" \
    "probe_cmd=PUB_RTT_KEYS=probe.keys PUB_RATE=$PROBE_RATE PUB_RTT_SECONDS=$DURATION mqtt-bench-publisher 127.0.0.1 PORT $QOS $INFLIGHT probe.topics probe.hex" \
    "command=${knobs}bash benches/simulate.sh"

status=0
"$PY" "$H" analyze "$DATA" || status=1
"$PY" "$H" report "$DATA/results.json"
exit $status
