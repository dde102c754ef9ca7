#!/usr/bin/env python3
"""Helpers for benches/mqtt_listen.sh (standard library only).

  mqtt_listen.py freeport                                  -> a free 127.0.0.1 TCP port
  mqtt_listen.py prepare RESPONSES.jsonl OUT.jsonl TOPICS.txt
        gives message i (0-based) a message_id ending in its sequence number (the last
        12 digits of the UUID) and writes its topic, /device/<vehicle_id>/MQTTPROTOBUF/
        commandresponse, as line i of TOPICS.txt
  mqtt_listen.py run [--stop-file F --idle S] [--timeout S] STDOUT STDERR -- CMD...
        runs CMD (stdin /dev/null), prints one JSON object: wall/user/sys seconds, max
        RSS, exit status. With --stop-file, once F exists CMD is killed (SIGTERM) when
        STDOUT has not grown for S seconds; --timeout kills it after S seconds anyway
  mqtt_listen.py cpu PID                                   -> user+sys seconds of PID so far
  mqtt_listen.py wait-log FILE TEXT SECONDS                -> exit 1 if TEXT is not in FILE in time
  mqtt_listen.py check LISTEN.jsonl EXPECTED.jsonl TOPICS.txt PUB.json
        checks what the listener printed against what was published; prints one JSON
        object; exit 1 when a message is missing, altered or did not decode
  mqtt_listen.py report RESULTS.jsonl                      -> the markdown tables
"""
import datetime
import json
import os
import signal
import socket
import subprocess
import sys
import time

SEQ_DIGITS = 12


def seq_of(message_id):
    return int(message_id[-SEQ_DIGITS:])


def cmd_freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_prepare(src, out_path, topics_path):
    with open(src) as f, open(out_path, "w") as out, open(topics_path, "w") as topics:
        for i, line in enumerate(f):
            m = json.loads(line)
            # Same length and UUID shape as the generated id: random head, sequence tail.
            m["message_id"] = m["message_id"][:-SEQ_DIGITS] + f"{i:0{SEQ_DIGITS}d}"
            out.write(json.dumps(m, separators=(",", ":")) + "\n")
            topics.write(f"/device/{m['vehicle_id']}/MQTTPROTOBUF/commandresponse\n")


def cmd_run(args):
    stop_file = idle = timeout = None
    while args and args[0].startswith("--") and args[0] != "--":
        opt, val = args[0], args[1]
        args = args[2:]
        if opt == "--stop-file":
            stop_file = val
        elif opt == "--idle":
            idle = float(val)
        elif opt == "--timeout":
            timeout = float(val)
        else:
            sys.exit(f"run: unknown option {opt}")
    out_path, err_path = args[0], args[1]
    assert args[2] == "--", "run: expected -- before the command"
    cmd = args[3:]
    with open(out_path, "wb") as out, open(err_path, "wb") as err, open(os.devnull, "rb") as nul:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=nul, stdout=out, stderr=err)
        killed = None
        last_size, last_change, stopped_at = -1, time.monotonic(), None
        while True:
            pid, status, ru = os.wait4(p.pid, os.WNOHANG)
            if pid:
                break
            time.sleep(0.05)
            now = time.monotonic()
            size = os.path.getsize(out_path)
            if size != last_size:
                last_size, last_change = size, now
            if killed:
                continue
            if stopped_at is None and stop_file and os.path.exists(stop_file):
                stopped_at = now
            if timeout is not None and time.perf_counter() - t0 > timeout:
                killed = f"timeout after {timeout:g}s"
            elif stopped_at is not None and idle is not None and now - max(last_change, stopped_at) > idle:
                killed = f"no output for {idle:g}s after the publisher finished"
            if killed:
                os.kill(p.pid, signal.SIGTERM)
        wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    print(json.dumps({"wall_s": round(wall, 4), "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
                      "maxrss_kib": ru.ru_maxrss, "rc": rc, "killed": killed}))


def cmd_cpu(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    print((int(fields[11]) + int(fields[12])) / tick)  # utime, stime (fields 14, 15)


def cmd_wait_log(path, text, seconds):
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                if text in f.read():
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.05)
    sys.exit(1)


def parse_time(s):
    """RFC 3339 UTC with up to 9 fractional digits -> Unix seconds."""
    assert s.endswith("Z"), s
    s = s[:-1]
    frac = 0.0
    if "." in s:
        s, f = s.split(".")
        frac = int(f) / 10 ** len(f)
    dt = datetime.datetime.strptime(s, "%Y-%m-%dT%H:%M:%S").replace(tzinfo=datetime.timezone.utc)
    return dt.timestamp() + frac


def cmd_check(listen_path, expected_path, topics_path, pub_path):
    with open(expected_path) as f:
        expected = [json.loads(line) for line in f]
    with open(topics_path) as f:
        topics = f.read().splitlines()
    n = len(expected)
    try:
        pub = json.load(open(pub_path))
    except (OSError, ValueError):
        pub = {}
    seen = [0] * n
    r = {"published": n, "lines": 0, "bad_lines": 0, "not_decoded": 0, "wrong_type": 0,
         "wrong_topic": 0, "altered": 0, "unknown_seq": 0, "out_of_order": 0}
    first_t = last_t = None
    prev_max = -1
    with open(listen_path, errors="replace") as f:
        for line in f:
            r["lines"] += 1
            try:
                rec = json.loads(line)
                t = parse_time(rec["time"])
            except (ValueError, KeyError, AssertionError):
                r["bad_lines"] += 1
                continue
            first_t = t if first_t is None else first_t
            last_t = t
            if "message" not in rec:
                r["not_decoded"] += 1
                continue
            msg = rec["message"]
            try:
                seq = seq_of(msg["message_id"])
            except (KeyError, ValueError):
                seq = -1
            if not 0 <= seq < n:
                r["unknown_seq"] += 1
                continue
            seen[seq] += 1
            if seq < prev_max:
                r["out_of_order"] += 1
            prev_max = max(prev_max, seq)
            if rec.get("type") != "cvp.CommandResponseMessage":
                r["wrong_type"] += 1
            if rec.get("topic") != topics[seq]:
                r["wrong_topic"] += 1
            if msg != expected[seq]:
                r["altered"] += 1
    missing = [i for i, c in enumerate(seen) if c == 0]
    r["unique"] = n - len(missing)
    r["missing"] = len(missing)
    r["missing_first"] = missing[:10]
    r["duplicates"] = sum(c - 1 for c in seen if c > 1)
    if first_t is not None:
        span = last_t - first_t
        r["listen_span_s"] = round(span, 6)
        r["listen_rate"] = round((r["lines"] - 1) / span, 1) if span > 0 else None
        if "start_unix" in pub:
            r["e2e_s"] = round(last_t - pub["start_unix"], 6)
            r["e2e_rate"] = round(r["lines"] / (last_t - pub["start_unix"]), 1)
            r["first_latency_s"] = round(first_t - pub["start_unix"], 6)
            r["lag_after_publisher_s"] = round(last_t - pub["end_unix"], 6)
    print(json.dumps(r))
    bad = r["missing"] or r["altered"] or r["not_decoded"] or r["bad_lines"] or r["unknown_seq"] \
        or r["wrong_type"] or r["wrong_topic"]
    sys.exit(1 if bad else 0)


def fmt(x, nd=0):
    if x is None:
        return "-"
    if isinstance(x, float) and nd:
        return f"{x:,.{nd}f}"
    return f"{round(x):,}" if isinstance(x, (int, float)) else str(x)


def cmd_report(path):
    recs = [json.loads(line) for line in open(path)]
    env = next(r for r in recs if r["tag"] == "env")
    runs = [r for r in recs if r["tag"] == "run"]
    p = print
    p("### Environment\n")
    p("| | |")
    p("|---|---|")
    p(f"| CPU | {env['cpu']} |")
    p(f"| nproc | {env['nproc']} |")
    p(f"| kernel | {env['kernel']} |")
    p(f"| broker | {env['mosquitto']} on 127.0.0.1, persistence off, max_queued_messages "
      f"{env['queue']}, max_inflight_messages {env['inflight']} |")
    p(f"| publisher | benches/publisher (rumqttc {env['rumqttc']}, MQTT 3.1.1, one connection, "
      f"in flight {env['inflight']}), QoS {env['qos']} |")
    p(f"| messages | {env['n']:,} cvp.CommandResponseMessage (gen_responses.py seed {env['seed']}), "
      f"{env['payload_bytes'] / env['n']:.1f} bytes on average, {env['topics']} topics |")
    p(f"| listener | `{env['listen_cmd']}` (backlog mode: `--session bench-listener` instead of "
      f"`--client-id bench-listener`) |")
    p(f"| command | `{env['command']}` |")
    p("")
    p("### Results\n")
    p("| run | mode | publish rate (msg/s) | publish time (s) | listen decode rate (msg/s, first→last line) "
      "| listen span (s) | end-to-end (s, first publish→last line) | lines | unique | missing "
      "| duplicates | out of order | altered / undecoded | listener CPU (s) | listener max RSS (MiB) "
      "| broker CPU (s) | publisher CPU (s) |")
    p("|" + "---|" * 17)
    for r in runs:
        c, pub, lis = r["check"], r.get("pub", {}), r["listener"]
        e2e = c.get("e2e_s") if r["mode"] == "live" else None
        p(f"| {r['run']} | {r['mode']} | {fmt(pub.get('rate'))} | {fmt(pub.get('seconds'), 3)} "
          f"| {fmt(c.get('listen_rate'))} | {fmt(c.get('listen_span_s'), 3)} | {fmt(e2e, 3)} "
          f"| {c['lines']:,} | {c['unique']:,} | {c['missing']:,} | {c['duplicates']:,} "
          f"| {c['out_of_order']:,} | {c['altered'] + c['not_decoded'] + c['bad_lines']:,} "
          f"| {lis['user_s'] + lis['sys_s']:.2f} | {lis['maxrss_kib'] / 1024:.1f} "
          f"| {fmt(r.get('broker_cpu_s'), 2)} "
          f"| {fmt(r['pubrun']['user_s'] + r['pubrun']['sys_s'], 2) if 'pubrun' in r else '-'} |")
    notes = []
    for r in runs:
        c, lis = r["check"], r["listener"]
        if lis.get("killed"):
            notes.append(f"run {r['run']} {r['mode']}: listener killed ({lis['killed']}), exit status {lis['rc']}")
        elif lis["rc"] != 0:
            notes.append(f"run {r['run']} {r['mode']}: listener exit status {lis['rc']}")
        if c["missing"]:
            notes.append(f"run {r['run']} {r['mode']}: {c['missing']:,} missing, first sequence numbers "
                         f"{c['missing_first']}")
        for k in ("altered", "not_decoded", "bad_lines", "unknown_seq", "wrong_type", "wrong_topic"):
            if c[k]:
                notes.append(f"run {r['run']} {r['mode']}: {c[k]:,} {k.replace('_', ' ')}")
        if r.get("pubrun", {}).get("rc"):
            notes.append(f"run {r['run']} {r['mode']}: publisher exit status {r['pubrun']['rc']}")
    if notes:
        p("\n" + "\n".join(f"- {n}" for n in notes))


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "freeport":
        cmd_freeport()
    elif cmd == "prepare":
        cmd_prepare(*args)
    elif cmd == "run":
        cmd_run(args)
    elif cmd == "cpu":
        cmd_cpu(*args)
    elif cmd == "wait-log":
        cmd_wait_log(*args)
    elif cmd == "check":
        cmd_check(*args)
    elif cmd == "report":
        cmd_report(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
