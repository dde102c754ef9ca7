#!/usr/bin/env bash
# Benchmark of `commander web`'s page in a real headless Chromium (issue 12): page
# weight, time to first render, time to render the form of the largest corpus
# messages (meshtastic AdminMessage, Tesla CarServer.Action; target under TARGET_MS),
# and how the live view holds the simulated fleet (~1,000 messages/s) for DURATION s.
#
#   1. page weight: the files the page loads (index.html, app.js, style.css) as the
#      browser fetched them (Resource/Navigation Timing: transferSize, body sizes),
#      their raw size from a plain HTTP GET and gzip -6 size for reference, and the
#      requests made until the page is ready (the files, then /api/info, /api/model,
#      /api/build). Served by `commander web` with the built-in schema and profile.
#   2. time to first render: LOADS cold loads (each in a new tab; the server sends
#      Cache-Control: no-store, so nothing is cached), from navigation start to first
#      contentful paint, to DOMContentLoaded, to `document.body.dataset.ready === "1"`
#      (info, model and first build in) and to the paint after it.
#   3. form of a large message, for each corpus message (`commander web -s ... -m TYPE`):
#      a. RUNS cold loads of the page on that type, until ready and painted;
#      b. RUNS switches of `#type` to it from the type listed first: from the change
#         event until the form is in the DOM and the first /api/build answered
#         (`data-building` goes 1 then 0), and until the paint after; split with a
#         wrapped `fetch` into the network part (the /api/model and /api/build
#         requests) and the page's own work (model JSON parsed and form rendered:
#         model body read -> build request made; build answer shown);
#      c. each member of the message's oneofs (and of the oneofs these open, 2 levels)
#         picked in turn: the change handler's synchronous DOM work and the time to the
#         next paint (the form builds nested messages only when they are set or
#         opened, so this is where the large parts render).
#   4. live view: a mosquitto broker, `commander web --broker URL` (built-in profile),
#      its Live tab subscribed to the profile's filters, then `commander simulate
#      --vehicles N_VEHICLES` (built-in profile: telemetry every 1 s and an event every
#      10 s per vehicle: ~1,100 messages/s for 1,000), WARMUP s, then DURATION s of
#      measurement in the page: every animation frame's gap (requestAnimationFrame),
#      long tasks (PerformanceObserver), the lag of the rows each table update adds
#      (now - the server's receive time `time` of the newest and oldest row added, and
#      now - the telemetry's own time_stamp set by the simulator), the JS heap
#      (performance.memory with --enable-precise-memory-info) and the rows in the DOM
#      every SAMPLE s; the web process's CPU (/proc) and peak RSS (VmHWM), Chromium's
#      CPU (all its processes). Then SIGTERM to the simulator: what its `done` summary
#      says it published against what the tab counted as received and dropped.
#
#   bash benches/web.sh
#
# Environment knobs (defaults in brackets):
#   DURATION [60]      seconds of live measurement
#   N_VEHICLES [1000]  simulated vehicles (each publishes telemetry every second)
#   WARMUP [5]         seconds between the simulator's start and the live measurement
#   LOADS [7]          cold loads of the start page (item 2)
#   RUNS [10]          cold loads and type switches per corpus message (item 3)
#   SAMPLE [5]         seconds between heap / rows / process samples in the live view
#   TARGET_MS [100]    target for the form of a large message (median and max of the
#                      switches, max of the oneof members' renders)
#   ROWS_MAX [500]     target: rows in the live table at most this many
#   CORPUS [/work/shared/corpus, else ../shared/corpus beside the repo]
#   WINDOW [1280x900]  browser window size
#   COMMANDER          use this binary instead of building with `cargo build --release`
#                      (copied to target/web-bench/ first either way)
#   CHROMIUM [/usr/bin/chromium], CHROMEDRIVER [/usr/bin/chromedriver]
#   PYTHON [python3]   interpreter that creates the venv target/web-bench-venv (selenium,
#                      pinned in benches/web-requirements.txt)
#
# Installs mosquitto, chromium and chromium-driver (Debian packages, apt-get as root or
# through sudo) when missing. Everything listens on 127.0.0.1 only, on free ports.
# Logs (every process's stderr), raw samples and results.json go to target/web-bench/;
# the markdown report and one JSON line (the figures, for machines) are printed at the
# end. Every process started is stopped on exit. Exits 1 when a target is missed (form
# render over TARGET_MS, live table over ROWS_MAX rows, messages dropped for the tab or
# lost), 2 when the run could not be made.
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"

DURATION=${DURATION:-60}
N_VEHICLES=${N_VEHICLES:-1000}
WARMUP=${WARMUP:-5}
LOADS=${LOADS:-7}
RUNS=${RUNS:-10}
SAMPLE=${SAMPLE:-5}
TARGET_MS=${TARGET_MS:-100}
ROWS_MAX=${ROWS_MAX:-500}
WINDOW=${WINDOW:-1280x900}
CHROMIUM=${CHROMIUM:-/usr/bin/chromium}
CHROMEDRIVER=${CHROMEDRIVER:-/usr/bin/chromedriver}
if [ -z "${CORPUS:-}" ]; then
    CORPUS=/work/shared/corpus
    [ -d "$CORPUS" ] || CORPUS=$(cd "$ROOT/.." && pwd)/shared/corpus
fi
DATA=$ROOT/target/web-bench
VENV=$ROOT/target/web-bench-venv
H=$ROOT/benches/web.py

log() { printf '[web-bench %s] %s\n' "$(date +%T.%3N)" "$*" >&2; }

load_start=$(cut -d' ' -f1-3 /proc/loadavg)

# ---------------------------------------------------------------- tools
need=()
command -v mosquitto >/dev/null 2>&1 || [ -x /usr/sbin/mosquitto ] || need+=(mosquitto)
[ -x "$CHROMIUM" ] || command -v chromium >/dev/null 2>&1 || need+=(chromium)
[ -x "$CHROMEDRIVER" ] || command -v chromedriver >/dev/null 2>&1 || need+=(chromium-driver)
if ((${#need[@]})); then
    log "installing Debian packages: ${need[*]}"
    SUDO=
    [ "$(id -u)" -eq 0 ] || SUDO=sudo
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
MOSQUITTO=$(command -v mosquitto || echo /usr/sbin/mosquitto)
[ -x "$CHROMIUM" ] || CHROMIUM=$(command -v chromium)
[ -x "$CHROMEDRIVER" ] || CHROMEDRIVER=$(command -v chromedriver)
# The package starts a system broker on 1883; ours runs on a port of its own.

if [ ! -x "$VENV/bin/python" ]; then
    log "creating $VENV"
    "${PYTHON:-python3}" -m venv "$VENV"
fi
PY=$VENV/bin/python
want=$(grep -v '^#' benches/web-requirements.txt | grep . | sort)
have=$("$PY" -m pip freeze --disable-pip-version-check 2>/dev/null | sort)
if [ -n "$(comm -23 <(printf '%s\n' "$want") <(printf '%s\n' "$have"))" ]; then
    log "installing benches/web-requirements.txt into $VENV"
    "$PY" -m pip install -q --disable-pip-version-check -r benches/web-requirements.txt
fi

TARGET=${CARGO_TARGET_DIR:-$ROOT/target}
if [ -n "${COMMANDER:-}" ]; then
    SRC_BIN=$COMMANDER
else
    log "cargo build --release"
    cargo build --release --quiet
    SRC_BIN=$TARGET/release/commander
fi
[ -x "$SRC_BIN" ] || { log "no binary at $SRC_BIN"; exit 2; }
SRC_BIN=$(realpath "$SRC_BIN")
if [ ! -d "$CORPUS/meshtastic" ] || [ ! -d "$CORPUS/tesla" ]; then
    log "no corpus at $CORPUS (CORPUS=...)"
    exit 2
fi
rm -rf "$DATA"
mkdir -p "$DATA"
BIN=$DATA/commander
cp "$SRC_BIN" "$BIN"
log "commander: $SRC_BIN (copied to $BIN), $("$BIN" --version)"
cd "$DATA"

# ---------------------------------------------------------------- processes
BROKER_PID='' DRIVER_PID=''
# shellcheck disable=SC2317  # called by the EXIT trap
cleanup() {
    # The driver stops what it started (its `finally`); a SIGTERM makes it do so.
    if [ -n "$DRIVER_PID" ]; then
        kill "$DRIVER_PID" 2>/dev/null || true
        for _ in $(seq 50); do kill -0 "$DRIVER_PID" 2>/dev/null || break; sleep 0.2; done
        kill -9 "$DRIVER_PID" 2>/dev/null || true
    fi
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
max_inflight_messages 1000
max_inflight_bytes 0
set_tcp_nodelay true
log_dest stderr
log_type error
log_type warning
log_type notice
log_type information
EOF
[ "$(id -u)" -ne 0 ] || echo "user root" >>mosquitto.conf
"$MOSQUITTO" -c mosquitto.conf 2>mosquitto.log &
BROKER_PID=$!
"$PY" "$H" wait-log mosquitto.log " running" 10 \
    || { log "mosquitto did not start:"; cat mosquitto.log >&2; exit 2; }
log "mosquitto on 127.0.0.1:$port"

knobs=
for kv in DURATION=60 N_VEHICLES=1000 WARMUP=5 LOADS=7 RUNS=10 SAMPLE=5 TARGET_MS=100 \
    ROWS_MAX=500 WINDOW=1280x900; do
    v=${kv%%=*}
    [ "${!v}" = "${kv#*=}" ] || knobs+="$v=$(printf '%q' "${!v}") "
done
[ -z "${COMMANDER:-}" ] || knobs+="COMMANDER=$(printf '%q' "$COMMANDER") "

"$PY" "$H" env env.json \
    "cpu=$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" \
    "nproc=$(nproc)" "kernel=$(uname -r)" \
    "mem_total=$(sed -n 's/^MemTotal:[[:space:]]*//p' /proc/meminfo)" \
    "load_start=$load_start" "load_before=$(cut -d' ' -f1-3 /proc/loadavg)" \
    "chromium=$("$CHROMIUM" --version 2>/dev/null | head -1)" \
    "chromedriver=$("$CHROMEDRIVER" --version 2>/dev/null | head -1)" \
    "selenium=$("$PY" -c 'import selenium; print(selenium.__version__)')" \
    "mosquitto=$("$MOSQUITTO" -h | sed -n 's/^mosquitto version /mosquitto /p' | head -1)" \
    "commander=$SRC_BIN" "commander_version=$("$BIN" --version)" \
    "duration=$DURATION" "n_vehicles=$N_VEHICLES" "warmup=$WARMUP" "loads=$LOADS" \
    "runs=$RUNS" "sample=$SAMPLE" "target_ms=$TARGET_MS" "rows_max=$ROWS_MAX" \
    "window=$WINDOW" "corpus=$CORPUS" \
    "command=${knobs}bash benches/web.sh"

log "measuring (the live view takes WARMUP + DURATION = $((WARMUP + DURATION)) s)"
drv=0
"$PY" "$H" run --bin "$BIN" --broker "$URL" --data "$DATA" --env env.json \
    --chromium "$CHROMIUM" --chromedriver "$CHROMEDRIVER" --corpus "$CORPUS" &
DRIVER_PID=$!
wait "$DRIVER_PID" || drv=$?
DRIVER_PID=
kill "$BROKER_PID" 2>/dev/null || true
wait "$BROKER_PID" 2>/dev/null || true
BROKER_PID=
[ -s results.json ] || { log "no results (driver exit status $drv)"; exit 2; }
rep=0
"$PY" "$H" report results.json || rep=$?
exit $((drv > rep ? drv : rep))
