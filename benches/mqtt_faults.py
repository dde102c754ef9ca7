#!/usr/bin/env python3
"""Helpers for benches/mqtt_faults.sh (standard library only).

  mqtt_faults.py freeport                          -> a free 127.0.0.1 TCP port
  mqtt_faults.py gen N TOPIC TOPICS.txt PAYLOADS.hex
        message i: protobuf field 1 = i (varint), field 2 = PAD (a string); topic TOPIC
  mqtt_faults.py wait-log FILE TEXT SECONDS [OFFSET]
        until TEXT is in FILE (past byte OFFSET); exit 1 if it is not in time
  mqtt_faults.py wait-progress FILE K SECONDS [PID]
        until the publisher's stderr FILE has a line `progress A ...` with A >= K;
        exit 1 on timeout, exit 3 when PID has exited first
  mqtt_faults.py wait-idle SECONDS TIMEOUT FILE...
        until none of FILE... has grown for SECONDS (exit 1 after TIMEOUT seconds)
  mqtt_faults.py stop PID SECONDS
        SIGTERM to PID, then waits for it to end (a zombie counts as ended); SIGKILL
        after SECONDS. Prints the seconds it took and whether it had to be killed
  mqtt_faults.py consume OUT SUMMARY.json
        a consumer for a pipe: copies stdin to OUT; at EOF writes to SUMMARY.json how
        many lines it read, and how many after its last SIGCONT (once stopped with
        SIGSTOP: what it still took out of the pipe when it went on)
  mqtt_faults.py count N SCENARIO QOS PUB.json EVENTS.jsonl LISTEN.jsonl[,MORE...] CONTROL.jsonl
        counts what the listener (its files in run order, comma-separated) and the
        control printed against what the publisher had acknowledged; one JSON object
        with the verdict; exit 1 when a target is missed
  mqtt_faults.py report RESULTS.jsonl              -> the markdown report
"""
import json
import os
import signal
import socket
import sys
import time

PAD = "fault-bench-0123456789abcdef"


def varint(n):
    out = bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out.append(b | 0x80)
        else:
            out.append(b)
            return bytes(out)


def cmd_freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_gen(n, topic, topics_path, payloads_path):
    pad = PAD.encode()
    tail = b"\x12" + varint(len(pad)) + pad
    with open(topics_path, "w") as t, open(payloads_path, "w") as p:
        for i in range(int(n)):
            t.write(topic + "\n")
            p.write((b"\x08" + varint(i) + tail).hex() + "\n")


def cmd_wait_log(path, text, seconds, offset=0):
    deadline = time.monotonic() + float(seconds)
    while time.monotonic() < deadline:
        try:
            with open(path, "rb") as f:
                f.seek(int(offset))
                if text.encode() in f.read():
                    return
        except FileNotFoundError:
            pass
        time.sleep(0.02)
    sys.exit(1)


def alive(pid):
    try:
        with open(f"/proc/{pid}/stat") as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, ProcessLookupError):
        return False


def cmd_wait_progress(path, k, seconds, pid=None):
    k = int(k)
    deadline = time.monotonic() + float(seconds)
    pos = 0
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                f.seek(pos)
                data = f.read()
        except FileNotFoundError:
            data = ""
        # Only whole lines; the rest is read again next time.
        cut = data.rfind("\n") + 1
        pos += len(data[:cut].encode())
        for line in data[:cut].splitlines():
            w = line.split()
            if len(w) >= 2 and w[0] == "progress" and int(w[1]) >= k:
                return
        if pid and not alive(pid):
            sys.exit(3)
        time.sleep(0.01)
    sys.exit(1)


def cmd_wait_idle(seconds, timeout, *paths):
    seconds, timeout = float(seconds), float(timeout)
    t0 = last = time.monotonic()
    sizes = None
    while True:
        now = time.monotonic()
        cur = [os.path.getsize(p) if os.path.exists(p) else -1 for p in paths]
        if cur != sizes:
            sizes, last = cur, now
        if now - last >= seconds:
            return
        if now - t0 >= timeout:
            sys.exit(1)
        time.sleep(0.05)


def cmd_stop(pid, seconds):
    pid, seconds = int(pid), float(seconds)
    t0 = time.monotonic()
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        print(json.dumps({"stop_s": 0.0, "killed": False, "gone": True}))
        return
    killed = False
    while alive(pid):
        if not killed and time.monotonic() - t0 > seconds:
            os.kill(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.005)
    print(json.dumps({"stop_s": round(time.monotonic() - t0, 3), "killed": killed}))


def cmd_consume(out_path, summary_path):
    state = {"at_cont": None}
    lines = 0

    def on_cont(_sig, _frame):
        state["at_cont"] = lines

    signal.signal(signal.SIGCONT, on_cont)
    with open(out_path, "wb") as out:
        while True:
            try:
                b = os.read(0, 65536)
            except InterruptedError:
                continue
            if not b:
                break
            out.write(b)
            out.flush()
            lines += b.count(b"\n")
    with open(summary_path, "w") as f:
        at = state["at_cont"]
        json.dump({"lines": lines, "after_cont": None if at is None else lines - at}, f)


def ranges(seqs, limit=12):
    """[3, 4, 5, 9] -> "3-5, 9" (the first `limit` ranges)."""
    out, start, prev = [], None, None
    for s in sorted(seqs):
        if start is None:
            start = prev = s
        elif s == prev + 1:
            prev = s
        else:
            out.append((start, prev))
            start = prev = s
    if start is not None:
        out.append((start, prev))
    text = ", ".join(f"{a}" if a == b else f"{a}-{b}" for a, b in out[:limit])
    if len(out) > limit:
        text += f", ... ({len(out)} ranges)"
    return text


def read_records(path, n):
    """Sequence numbers in the order printed, and the count of lines that are not a record."""
    seqs, bad = [], 0
    try:
        f = open(path, "rb")
    except FileNotFoundError:
        return seqs, bad
    with f:
        for line in f:
            try:
                msg = json.loads(line)["message"]
                seq = msg["1"]
                ok = isinstance(seq, int) and 0 <= seq < n and msg.get("2") == PAD
            except (ValueError, KeyError, TypeError):
                ok = False
            if ok:
                seqs.append(seq)
            else:
                bad += 1
    return seqs, bad


def tally(paths, n, sent):
    counts = [0] * n
    runs, bad = [], 0
    for p in paths:
        seqs, b = read_records(p, n)
        bad += b
        for s in seqs:
            counts[s] += 1
        runs.append({"file": os.path.basename(p), "records": len(seqs), "bad": b,
                     "first": seqs[0] if seqs else None, "last": seqs[-1] if seqs else None,
                     "set": set(seqs), "inside_dups": len(seqs) - len(set(seqs))})
    records = sum(counts)
    distinct = sum(1 for c in counts if c)
    missing = [i for i, c in enumerate(counts) if c == 0]
    dups = [i for i, c in enumerate(counts) if c > 1]
    r = {"records": records, "distinct": distinct, "lost": max(0, sent - distinct),
         "duplicated": records - distinct, "bad_lines": bad,
         "missing": ranges(missing), "duplicate_seqs": ranges(dups)}
    # Where the duplicates come from: each run's records that an earlier run had printed.
    if len(runs) > 1:
        seen, per_run = set(), []
        for run in runs:
            again = run["set"] & seen
            per_run.append({"file": run["file"], "records": run["records"], "first": run["first"],
                            "last": run["last"], "again_from_earlier_runs": len(again),
                            "again_seqs": ranges(again, 4), "dups_inside": run["inside_dups"]})
            seen |= run["set"]
        r["runs"] = per_run
    return r, counts


def cmd_count(n, scenario, qos, pub_path, events_path, listen, control):
    n, qos = int(n), int(qos)
    try:
        pub = json.load(open(pub_path))
    except (OSError, ValueError):
        pub = {}
    sent = pub.get("acked", 0)
    complete = bool(pub.get("complete")) and sent == n
    lis, lc = tally([p for p in listen.split(",") if p], n, sent)
    ctl, cc = tally([control], n, sent)
    # What the listener missed or repeated beyond what the control did (the broker's own
    # losses and repeats, and the publisher's, reach both).
    lis["lost_beyond_control"] = sum(1 for a, b in zip(lc, cc) if a == 0 and b > 0)
    lis["missing_beyond_control"] = ranges([i for i, (a, b) in enumerate(zip(lc, cc)) if a == 0 and b > 0])
    lis["duplicated_beyond_control"] = sum(max(0, a - max(b, 1)) for a, b in zip(lc, cc))
    events = []
    try:
        events = [json.loads(line) for line in open(events_path)]
    except (OSError, ValueError):
        pass
    fails, notes = [], []
    if not complete:
        fails.append(f"publisher acknowledged {sent:,} of {n:,}")
    if lis["bad_lines"] or ctl["bad_lines"]:
        fails.append(f"{lis['bad_lines']} listener / {ctl['bad_lines']} control lines are not a sent record")
    if lis["lost"]:
        if ctl["lost"] == 0:
            fails.append(f"{lis['lost']:,} lost (control lost none)")
        else:
            notes.append(f"loss target n/a: the control lost {ctl['lost']:,} (broker); "
                         f"listener lost {lis['lost_beyond_control']:,} the control got")
    crash = scenario == "B"  # the only scenario with a crash (the broker's)
    if lis["duplicated"]:
        if qos == 2 and not ctl["duplicated"]:
            fails.append(f"{lis['duplicated']:,} duplicated at QoS 2")
        elif qos == 2:
            notes.append(f"QoS 2 duplicate target n/a: the control got {ctl['duplicated']:,} "
                         f"duplicates too (broker/publisher); listener "
                         f"{lis['duplicated_beyond_control']:,} beyond the control")
        elif not crash:
            fails.append(f"{lis['duplicated']:,} duplicated at QoS 1 with clean stops only")
    for e in events:
        if e.get("killed"):
            fails.append(f"listener did not stop within the limit after SIGTERM ({e.get('what')})")
        if e.get("rc") not in (None, 0, 130, 143):
            notes.append(f"{e.get('what')}: exit status {e.get('rc')}")
    stops = [e["stop_s"] for e in events if "stop_s" in e and e.get("who") == "listener"]
    result = "FAIL: " + "; ".join(fails) if fails else ("pass" if not notes else "pass (" + "; ".join(notes) + ")")
    out = {"scenario": scenario, "qos": qos, "n": n, "sent": sent, "publisher_complete": complete,
           "listener": lis, "control": ctl, "max_stop_s": max(stops) if stops else None,
           "pass": not fails, "result": result}
    print(json.dumps(out))
    sys.exit(1 if fails else 0)


SCENARIOS = {
    "A": "A baseline",
    "B": "B broker SIGKILL ×3",
    "C": "C listener SIGTERM ×{restarts}",
    "D": "D stalled consumer + SIGTERM",
}


def cmd_report(path):
    recs = [json.loads(line) for line in open(path)]
    env = next(r for r in recs if r["tag"] == "env")
    runs = [r for r in recs if r["tag"] == "run"]
    end = next((r for r in recs if r["tag"] == "end"), {})
    p = print
    p("### Environment\n")
    p("| | |")
    p("|---|---|")
    p(f"| command | `{env['command']}` |")
    p(f"| commander | `{env['commander']}` ({env['commander_version']}) |")
    p(f"| CPU | {env['cpu']}, nproc {env['nproc']} |")
    p(f"| broker | {env['mosquitto']} on 127.0.0.1, persistence true, autosave_interval "
      f"{env['autosave']} s, max_queued_messages 0 (unlimited), max_inflight_messages "
      f"{env['inflight']} |")
    p(f"| publisher | benches/publisher (rumqttc {env['rumqttc']}, MQTT 3.1.1), {env['rate']:,} msg/s, "
      f"at least once to the broker (reconnects, publishes again what was not acknowledged) |")
    p(f"| messages | {env['n']:,} per run, raw protobuf {{1: seq, 2: \"{PAD}\"}}, one topic |")
    p(f"| listener | `{env['listen_cmd']}` |")
    p(f"| control | the same with `--session` of its own and its own output, never stopped |")
    p(f"| drain | after the publisher, until neither has printed for {env['idle']} s |")
    p("")
    p("| scenario | QoS | sent | listener received | lost | duplicated | control received | lost "
      "| duplicated | listener stop (max s) | result |")
    p("|---|---|---|---|---|---|---|---|---|---|---|")
    for r in runs:
        c = r["count"]
        li, co = c["listener"], c["control"]
        name = SCENARIOS.get(r["scenario"], r["scenario"]).format(restarts=env.get("restarts", 3))
        stop = "-" if c.get("max_stop_s") is None else f"{c['max_stop_s']:.2f}"
        p(f"| {name} | {r['qos']} | {c['sent']:,} | {li['records']:,} | {li['lost']:,} | "
          f"{li['duplicated']:,} | {co['records']:,} | {co['lost']:,} | {co['duplicated']:,} | "
          f"{stop} | {c['result']} |")
    notes = []
    for r in runs:
        c, tag = r["count"], f"{r['scenario']} QoS {r['qos']}"
        li, co = c["listener"], c["control"]
        pub = r.get("pub", {})
        if pub.get("connections", 1) > 1 or pub.get("resent"):
            notes.append(f"{tag}: publisher {pub.get('connections')} connections, "
                         f"{pub.get('resent', 0):,} published again")
        for who, x in (("listener", li), ("control", co)):
            if x["lost"]:
                notes.append(f"{tag}: {who} missing {x['missing']}")
            if x["duplicated"]:
                notes.append(f"{tag}: {who} duplicates {x['duplicate_seqs']}")
        if li.get("lost_beyond_control") or li.get("duplicated_beyond_control"):
            notes.append(f"{tag}: listener beyond the control: {li['lost_beyond_control']:,} lost "
                         f"({li['missing_beyond_control']}), {li['duplicated_beyond_control']:,} duplicated")
        for run in li.get("runs", []):
            if run["again_from_earlier_runs"] or run["dups_inside"]:
                notes.append(f"{tag}: {run['file']} printed again {run['again_from_earlier_runs']:,} "
                             f"records of earlier runs ({run['again_seqs']}), {run['dups_inside']:,} twice itself")
        for e in r.get("events", []):
            if e.get("residue") and e.get("after_cont"):
                notes.append(f"{tag}: the stalled consumer took {e['after_cont']:,} records out of the "
                             f"pipe after the listener had stopped ({e.get('what')})")
    if notes:
        p("\n" + "\n".join(f"- {x}" for x in notes))
    total = sum(1 for r in runs if not r["count"]["pass"])
    p(f"\n{len(runs) - total} of {len(runs)} runs meet the targets; "
      f"{end.get('elapsed_s', '?')} s in all.")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    fn = {"freeport": cmd_freeport, "gen": cmd_gen, "wait-log": cmd_wait_log,
          "wait-progress": cmd_wait_progress, "wait-idle": cmd_wait_idle, "stop": cmd_stop,
          "consume": cmd_consume, "count": cmd_count, "report": cmd_report}.get(cmd)
    if fn is None:
        sys.exit(__doc__)
    fn(*args)


if __name__ == "__main__":
    main()
