#!/usr/bin/env bash
# Fault injection for `commander listen`: does anything acknowledged get lost or
# repeated when the broker crashes, the listener is stopped and restarted, or its
# reader stalls? For each QoS and scenario: a mosquitto of its own (persistence on),
# a listener (`commander listen --session ... --raw -o jsonl`, the one under test),
# a control (a second `commander listen` with a persistent session of its own and its
# own output, never stopped: only the broker crash touches it, so what the broker
# itself lost is told apart from what the listener lost), and a publisher sending N
# numbered messages (raw protobuf, field 1 = sequence number) at a steady RATE to one
# topic, so that the faults land mid-stream:
#
#   A  baseline: no fault
#   B  broker crash: mosquitto SIGKILLed and restarted (same port and persistence
#      file) 3 times, at 1/4, 2/4 and 3/4 of the messages acknowledged to the publisher
#   C  listener restart: the listener SIGTERMed and restarted with its session RESTARTS
#      times (evenly through the run), each run with its own output file
#   D  stalled consumer: the listener's stdout is a pipe to a consumer; at 1/4 the
#      consumer stops reading (SIGSTOP) for STALL s, the listener is SIGTERMed halfway
#      through the stall, then the consumer goes on (takes what was left in the pipe,
#      then ends), and a new listener | consumer takes over the session; at 2/3 the new
#      consumer stalls for STALL s once more and drains
#
# After the publisher is done, both listeners run until neither has printed for IDLE s,
# then are stopped with SIGTERM. Counted for the listener (all its runs) and the
# control: sent (acknowledged to the publisher), received (records), lost (sent -
# distinct), duplicated (records - distinct). Targets (exit 1 when one is missed):
#   - 0 lost, at QoS 1 and 2, in every run where the control lost none;
#   - 0 duplicated at QoS 2 (when the control got duplicates too, they came from the
#     broker or the publisher: the target is then n/a, the listener's excess is shown);
#   - at QoS 1, duplicates only after a crash (scenario B, the broker's); none after the
#     clean stops of A, C and D;
#   - the listener ends within STOP_WAIT s of each SIGTERM (else it is SIGKILLed: fail).
# The publisher (benches/publisher with PUB_RATE, PUB_RETRY, PUB_PROGRESS) is at least
# once to the broker: after a lost connection it connects again (clean session) and
# publishes again every message not yet acknowledged, so a message whose PUBACK/PUBCOMP
# was lost in the crash reaches the broker twice (the control sees those duplicates too).
#
#   bash benches/mqtt_faults.sh
#
# Environment knobs (defaults in brackets):
#   N [20000]          messages per run
#   QOS [1 2]          QoS of the publisher and of both subscriptions; one run per QoS
#   SCENARIOS [A B C D]
#   RATE [2000]        publish rate, messages/s (N/RATE s of publishing per run)
#   IDLE [3]           drain: stop the listeners once neither has printed for IDLE s
#   AUTOSAVE [1]       mosquitto autosave_interval, seconds (what a SIGKILL can lose)
#   INFLIGHT [1000]    mosquitto max_inflight_messages, and the publisher's window
#   RESTARTS [3]       listener SIGTERM + restarts in scenario C
#   STALL [5]          seconds a stalled consumer stops reading in scenario D
#   DOWN [0.5]         seconds the broker stays down after each SIGKILL in scenario B
#   GAP [0.3]          seconds the listener stays away after each SIGTERM in scenario C
#   STOP_WAIT [5]      seconds a SIGTERMed listener may take to end before SIGKILL
#   BROKER_DEBUG       set (to anything): mosquitto logs every packet too (log_type debug),
#                      to follow a message's packet ids through a crash
#   COMMANDER          use this binary instead of building with `cargo build --release`
#                      (copied to target/mqtt-faults/ first either way, so a rebuild
#                      during the run does not change it)
#   PUBLISHER          use this publisher binary instead of building benches/publisher
#   PYTHON [python3]   interpreter for benches/mqtt_faults.py (standard library only)
#
# Installs mosquitto (Debian package, apt-get as root or through sudo) when missing.
# Everything listens on 127.0.0.1 only, on free ports. Data, logs (each process's
# stderr, each broker incarnation's log) and results.jsonl go to target/mqtt-faults/
# (one directory per scenario and QoS); the markdown report is printed at the end.
# Every process started is stopped on exit.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

N=${N:-20000}
QOS=${QOS:-1 2}
SCENARIOS=${SCENARIOS:-A B C D}
RATE=${RATE:-2000}
IDLE=${IDLE:-3}
AUTOSAVE=${AUTOSAVE:-1}
INFLIGHT=${INFLIGHT:-1000}
RESTARTS=${RESTARTS:-3}
STALL=${STALL:-5}
DOWN=${DOWN:-0.5}
GAP=${GAP:-0.3}
STOP_WAIT=${STOP_WAIT:-5}
TOPIC=bench/faults/seq
DATA=$ROOT/target/mqtt-faults
H=$ROOT/benches/mqtt_faults.py
PY=${PYTHON:-python3}
T_START=$(date +%s.%N)

log() { printf '[mqtt-faults %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }
now() { date +%s.%N; }

# ---------------------------------------------------------------- tools
if ! command -v mosquitto >/dev/null 2>&1 && [ ! -x /usr/sbin/mosquitto ]; then
    log "installing the Debian package mosquitto"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq mosquitto >/dev/null
fi
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
# The package starts a system broker on 1883; ours run on ports of their own.

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
mkdir -p "$DATA"
BIN=$DATA/commander
cp "$SRC_BIN" "$BIN.tmp"
mv -f "$BIN.tmp" "$BIN"
log "commander: $SRC_BIN (copied to $BIN), $("$BIN" --version)"

# ---------------------------------------------------------------- data
cd "$DATA"
RES=$DATA/results.jsonl
: >"$RES"
"$PY" "$H" gen "$N" "$TOPIC" topics.txt payloads.hex

LISTEN=("$BIN" listen --broker "mqtt://127.0.0.1:PORT" --qos Q -o jsonl --raw --guess none --topic "$TOPIC")
listen_cmd=$(printf '%q ' commander "${LISTEN[@]:1}" --session faults-listener)
listen_cmd=${listen_cmd% }
rumqttc=$(sed -n '/^name = "rumqttc"/{n;s/^version = "\(.*\)"/\1/p}' "$ROOT/benches/publisher/Cargo.lock")
knobs=
for kv in N=20000 "QOS=1 2" "SCENARIOS=A B C D" RATE=2000 IDLE=3 AUTOSAVE=1 INFLIGHT=1000 \
    RESTARTS=3 STALL=5 DOWN=0.5 GAP=0.3 STOP_WAIT=5; do
    v=${kv%%=*}
    [ "${!v}" = "${kv#*=}" ] || knobs+="$v=$(printf '%q' "${!v}") "
done
[ -z "${COMMANDER:-}" ] || knobs+="COMMANDER=$(printf '%q' "$COMMANDER") "
cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)
jstr() { "$PY" -c 'import json, sys; print(json.dumps(sys.argv[1]))' "$1"; }
printf '{"tag": "env", "nproc": %d, "cpu": %s, "mosquitto": %s, "rumqttc": "%s", "commander": %s, "commander_version": %s, "n": %d, "rate": %s, "idle": %s, "autosave": %s, "inflight": %d, "restarts": %d, "stall": %s, "listen_cmd": %s, "command": %s}\n' \
    "$(nproc)" "$(jstr "$cpu")" \
    "$(jstr "$("$MOSQUITTO" -h | sed -n 's/^mosquitto version /mosquitto /p' | head -1)")" \
    "$rumqttc" "$(jstr "$SRC_BIN")" "$(jstr "$("$BIN" --version)")" \
    "$N" "$RATE" "$IDLE" "$AUTOSAVE" "$INFLIGHT" "$RESTARTS" "$STALL" \
    "$(jstr "$listen_cmd")" "$(jstr "${knobs}bash benches/mqtt_faults.sh")" >>"$RES"

# ---------------------------------------------------------------- processes
BROKER_PID='' LIS_PID='' CTL_PID='' CON_PID='' PUB_PID=''
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    local p
    for p in "$PUB_PID" "$LIS_PID" "$CON_PID" "$CTL_PID" "$BROKER_PID"; do
        [ -z "$p" ] || kill -CONT "$p" 2>/dev/null || true
        [ -z "$p" ] || kill "$p" 2>/dev/null || true
    done
    sleep 0.2
    for p in "$PUB_PID" "$LIS_PID" "$CON_PID" "$CTL_PID" "$BROKER_PID"; do
        [ -z "$p" ] || kill -KILL "$p" 2>/dev/null || true
    done
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# `event JSON-FIELDS`: one line of the run's timeline (events.jsonl), with its time.
event() { printf '{"t": %s, %s}\n' "$(now)" "$1" >>"$dir/events.jsonl"; }

# `start_broker`: mosquitto on $port (chosen on the first start of a run; a restart
# keeps it, and the persistence file), its log in mosquitto.$incarnation.log.
start_broker() {
    incarnation=$((incarnation + 1))
    if [ "$incarnation" -eq 1 ]; then
        port=$("$PY" "$H" freeport)
        mkdir -p "$dir/db"
        {
            echo "listener $port 127.0.0.1"
            echo "allow_anonymous true"
            echo "persistence true"
            echo "persistence_location $dir/db/"
            echo "persistence_file mosquitto.db"
            echo "autosave_interval $AUTOSAVE"
            echo "autosave_on_changes false"
            echo "max_queued_messages 0"
            echo "max_queued_bytes 0"
            echo "max_inflight_messages $INFLIGHT"
            echo "max_inflight_bytes 0"
            [ "$(id -u)" -ne 0 ] || echo "user root"
            echo "log_dest stderr"
            for t in error warning notice information subscribe ${BROKER_DEBUG:+debug}; do
                echo "log_type $t"
            done
        } >"$dir/mosquitto.conf"
    fi
    local blog=$dir/mosquitto.$incarnation.log
    "$MOSQUITTO" -c "$dir/mosquitto.conf" 2>"$blog" &
    BROKER_PID=$!
    if ! "$PY" "$H" wait-log "$blog" " running" 10; then
        log "mosquitto did not start:"
        cat "$blog" >&2
        exit 2
    fi
    event "\"who\": \"broker\", \"what\": \"started (incarnation $incarnation)\", \"pid\": $BROKER_PID"
}

# `wait_saved INCARNATION`: until the broker has saved its database (autosave) after
# everything in its log so far.
wait_saved() {
    local blog=$dir/mosquitto.$1.log
    "$PY" "$H" wait-log "$blog" "Saving in-memory database" $((AUTOSAVE + 10)) "$(wc -c <"$blog")" \
        || { log "$tag: no autosave in $((AUTOSAVE + 10)) s"; exit 2; }
    sleep 0.2 # mosquitto logs that line before it writes the file
}

# `wait_back`: until both subscribers are connected to the broker's current
# incarnation and it has saved its database since (their sessions, what it holds
# for them), so that a crash loses no more than what arrived since that autosave.
wait_back() {
    local who blog=$dir/mosquitto.$incarnation.log
    for who in faults-listener faults-control; do
        "$PY" "$H" wait-log "$blog" " as $who " 30 \
            || { log "$tag: $who did not reconnect in 30 s"; return 0; }
    done
    wait_saved "$incarnation"
}

crash_broker() {
    kill -KILL "$BROKER_PID"
    wait "$BROKER_PID" 2>/dev/null || true
    event "\"who\": \"broker\", \"what\": \"SIGKILL (incarnation $incarnation)\""
    BROKER_PID=
}

stop_broker() {
    kill "$BROKER_PID"
    wait "$BROKER_PID" || true
    BROKER_PID=
}

listen_argv() { # listen_argv SESSION -> argv
    argv=("${LISTEN[@]}")
    argv[3]=mqtt://127.0.0.1:$port
    argv[5]=$q
    argv+=(--session "$1")
}

# `start_listener`: listener run $lrun; its stdout a file, or in scenario D a pipe
# (a FIFO) read by a consumer.
start_listener() {
    lrun=$((lrun + 1))
    listen_argv faults-listener
    local out=$dir/listen.$lrun.jsonl
    outs+=${outs:+,}$out
    if [ "$scenario" = D ]; then
        rm -f "$dir/pipe.$lrun"
        mkfifo "$dir/pipe.$lrun"
        "$PY" "$H" consume "$out" "$dir/consume.$lrun.json" <"$dir/pipe.$lrun" &
        CON_PID=$!
        "${argv[@]}" >"$dir/pipe.$lrun" 2>"$dir/listen.$lrun.err" &
        LIS_PID=$!
    else
        "${argv[@]}" >"$out" 2>"$dir/listen.$lrun.err" &
        LIS_PID=$!
    fi
    event "\"who\": \"listener\", \"what\": \"started run $lrun\", \"pid\": $LIS_PID"
}

# `stop_listener WHAT`: SIGTERM, wait (SIGKILL after STOP_WAIT s), note how long it took.
stop_listener() {
    local r rc=0
    r=$("$PY" "$H" stop "$LIS_PID" "$STOP_WAIT")
    wait "$LIS_PID" || rc=$?
    event "\"who\": \"listener\", \"what\": \"$1\", \"rc\": $rc, ${r:1:${#r}-2}"
    log "$tag: listener run $lrun stopped ($1): $r, exit status $rc"
    LIS_PID=
}

# `end_consumer RESIDUE`: wait for the consumer to reach the end of its pipe. RESIDUE
# true: its listener was stopped while it was stalled, so the lines it read after its
# SIGCONT were left in the pipe, unacknowledged, by a listener that had gone.
end_consumer() {
    wait "$CON_PID" || true
    CON_PID=
    event "\"who\": \"consumer\", \"what\": \"ended (run $lrun)\", \"residue\": $1, $(sed 's/^{//; s/}$//' "$dir/consume.$lrun.json")"
}

# `at_fraction I OF`: until I/OF of the messages are acknowledged to the publisher
# (returns 1 when the publisher ended first).
at_fraction() {
    local rc=0
    "$PY" "$H" wait-progress "$dir/pub.err" $((N * $1 / $2)) 300 "$PUB_PID" || rc=$?
    [ "$rc" -eq 0 ] || { log "$tag: the publisher did not get to $1/$2 (status $rc)"; return 1; }
}

status=0
for q in $QOS; do
    for scenario in $SCENARIOS; do
        tag="$scenario QoS $q"
        dir=$DATA/$scenario-qos$q
        rm -rf "$dir"
        mkdir -p "$dir"
        incarnation=0 lrun=0 outs=
        : >"$dir/events.jsonl"
        start_broker
        log "$tag: mosquitto on 127.0.0.1:$port"
        listen_argv faults-control
        "${argv[@]}" >"$dir/control.jsonl" 2>"$dir/control.err" &
        CTL_PID=$!
        start_listener
        for who in faults-control faults-listener; do
            "$PY" "$H" wait-log "$dir/mosquitto.1.log" "$who $q $TOPIC" 10 \
                || { log "$who did not subscribe:"; cat "$dir"/*.err "$dir/mosquitto.1.log" >&2; exit 2; }
        done
        # Both sessions and their subscriptions in the persistence file before the
        # first message: else a crash before the first autosave forgets them.
        wait_saved 1
        log "$tag: publishing $N messages at $RATE/s"
        PUB_RATE=$RATE PUB_RETRY=60 PUB_PROGRESS=20 PUB_CLIENT_ID=faults-publisher \
            "$PUB" 127.0.0.1 "$port" "$q" "$INFLIGHT" "$DATA/topics.txt" "$DATA/payloads.hex" \
            >"$dir/pub.json" 2>"$dir/pub.err" &
        PUB_PID=$!
        event "\"who\": \"publisher\", \"what\": \"started\", \"pid\": $PUB_PID"
        case $scenario in
        A) ;;
        B)
            for k in 1 2 3; do
                at_fraction "$k" 4 || break
                [ "$k" -eq 1 ] || wait_back
                crash_broker
                log "$tag: broker SIGKILLed ($k/3)"
                sleep "$DOWN"
                start_broker
            done
            ;;
        C)
            for ((k = 1; k <= RESTARTS; k++)); do
                at_fraction "$k" $((RESTARTS + 1)) || break
                stop_listener "SIGTERM $k/$RESTARTS"
                sleep "$GAP"
                start_listener
            done
            ;;
        D)
            if at_fraction 1 4; then
                kill -STOP "$CON_PID"
                event "\"who\": \"consumer\", \"what\": \"SIGSTOP (run $lrun)\""
                log "$tag: consumer stalled"
                sleep "$("$PY" -c "print($STALL / 2)")"
                stop_listener "SIGTERM while the consumer is stalled"
                sleep "$("$PY" -c "print($STALL / 2)")"
                kill -CONT "$CON_PID"
                event "\"who\": \"consumer\", \"what\": \"SIGCONT (run $lrun)\""
                end_consumer true
                start_listener
                if at_fraction 2 3; then
                    kill -STOP "$CON_PID"
                    event "\"who\": \"consumer\", \"what\": \"SIGSTOP (run $lrun)\""
                    log "$tag: consumer stalled again"
                    sleep "$STALL"
                    kill -CONT "$CON_PID"
                    event "\"who\": \"consumer\", \"what\": \"SIGCONT (run $lrun)\""
                fi
            fi
            ;;
        *)
            log "unknown scenario '$scenario' (SCENARIOS: A B C D)"
            exit 2
            ;;
        esac
        pub_rc=0
        wait "$PUB_PID" || pub_rc=$?
        PUB_PID=
        event "\"who\": \"publisher\", \"what\": \"ended\", \"rc\": $pub_rc"
        log "$tag: publisher done (status $pub_rc): $(cat "$dir/pub.json")"
        out=${outs##*,}
        "$PY" "$H" wait-idle "$IDLE" 300 "$out" "$dir/control.jsonl" \
            || log "$tag: still printing after 300 s"
        event "\"who\": \"drain\", \"what\": \"idle for $IDLE s\""
        stop_listener "SIGTERM after the drain"
        [ "$scenario" != D ] || end_consumer false
        r=$("$PY" "$H" stop "$CTL_PID" "$STOP_WAIT")
        crc=0
        wait "$CTL_PID" || crc=$?
        CTL_PID=
        event "\"who\": \"control\", \"what\": \"SIGTERM after the drain\", \"rc\": $crc, ${r:1:${#r}-2}"
        stop_broker

        count=$("$PY" "$H" count "$N" "$scenario" "$q" "$dir/pub.json" "$dir/events.jsonl" "$outs" \
            "$dir/control.jsonl") || status=1
        printf '{"tag": "run", "scenario": "%s", "qos": %d, "port": %d, "pub": %s, "events": [%s], "count": %s}\n' \
            "$scenario" "$q" "$port" "$(cat "$dir/pub.json" 2>/dev/null || echo '{}')" \
            "$(paste -sd, "$dir/events.jsonl")" "$count" >>"$RES"
        log "$tag: $("$PY" -c 'import json, sys; print(json.loads(sys.argv[1])["result"])' "$count")"
        for f in "$dir"/listen.*.err "$dir/control.err"; do
            if grep -qv '^listening on' "$f"; then
                log "$tag: $(basename "$f") (first lines):"
                grep -v '^listening on' "$f" | head -n 5 >&2
            fi
        done
    done
done

printf '{"tag": "end", "elapsed_s": %s}\n' \
    "$("$PY" -c 'import sys; print(round(float(sys.argv[2]) - float(sys.argv[1]), 1))' "$T_START" "$(now)")" >>"$RES"
"$PY" "$H" report "$RES"
exit $status
