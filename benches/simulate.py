#!/usr/bin/env python3
"""Helpers for benches/simulate.sh (standard library only).

  simulate.py freeport                       -> a free 127.0.0.1 TCP port
  simulate.py wait-log FILE TEXT SECONDS     -> exit 1 if TEXT is not in FILE in time
  simulate.py wait-idle FILE IDLE LIMIT      -> until FILE has not grown for IDLE s (exit 1
        after LIMIT s)
  simulate.py env OUT.json KEY=VALUE...      -> the run's environment as a JSON object
  simulate.py proc PID                       -> {"t", "cpu_s", "vmhwm_kib", "vmrss_kib"} of PID now
  simulate.py supervise OUT.json PIDFILE STDOUT STDERR -- CMD...
        runs CMD (stdin /dev/null, stdout and stderr to the files), writes its pid to
        PIDFILE, waits for it and writes OUT.json: wall/user/sys seconds, max RSS (KiB),
        exit status. A SIGTERM or SIGINT to this process is passed on to CMD.
  simulate.py stop PID SECONDS [EXE]         -> SIGTERM, wait until PID is gone (SIGKILL
        after SECONDS); prints {"stop_s", "killed"}, or {"gone": true} when PID had ended
        (or, with EXE, runs another program than EXE)
  simulate.py probes N_VEHICLES COUNT SEED PREFIX [VEHICLE]
        commands for the round-trip prober: PREFIX.jsonl (CommandMessage JSON, each with a
        correlation id of its own), PREFIX.topics, PREFIX.keys (the correlation ids);
        random vehicles SIM0001.. (or all to VEHICLE), random subtypes
  simulate.py send-loop OPTIONS OUT.jsonl
        sequential `commander send` processes for --duration seconds (or --count sends),
        each to a random vehicle and subtype with its own correlation id; one JSON line
        per send: wall time, exit status, whether the reply was the right one. With
        --alive PID, it ends early (a line {"sim_gone": true}) once PID is gone
  simulate.py analyze DATA_DIR               -> results.json in DATA_DIR; exit 1 when a
        target was missed
  simulate.py report RESULTS.json            -> the markdown report
"""
import datetime
import json
import math
import os
import random
import signal
import socket
import statistics
import subprocess
import sys
import time

# The commands the send loops and the prober choose from (cvp.CommandSubtype).
SUBTYPES = ["ENGINE_START", "ENGINE_STOP", "DOOR_LOCK", "DOOR_UNLOCK", "HORN_AND_LIGHTS",
            "CLIMATE_CONTROL", "LOCATE_VEHICLE", "CHARGE_CONTROL"]
TELEMETRY = "/telemetry"
EVENTS = "/vehicleevents"


def vehicle_id(n):
    return f"SIM{n:04d}"  # the built-in profile's [simulate] ids = "SIM{n:04}"


def cmd_freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


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


def cmd_wait_idle(path, idle, limit):
    """Until FILE has not grown for IDLE seconds (exit 1 after LIMIT seconds)."""
    idle, limit = float(idle), float(limit)
    t0 = last_change = time.monotonic()
    last = -1
    while True:
        now = time.monotonic()
        size = os.path.getsize(path) if os.path.exists(path) else 0
        if size != last:
            last, last_change = size, now
        if now - last_change >= idle:
            return
        if now - t0 > limit:
            sys.exit(1)
        time.sleep(0.05)


def cmd_env(out_path, *pairs):
    """KEY=VALUE pairs -> a JSON object (numbers where they parse)."""
    env = {}
    for kv in pairs:
        k, _, v = kv.partition("=")
        for conv in (int, float):
            try:
                v = conv(v)
                break
            except ValueError:
                pass
        env[k] = v
    with open(out_path, "w") as f:
        json.dump(env, f, indent=1)
        f.write("\n")


def proc_sample(pid):
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    r = {"t": time.time(), "cpu_s": (int(fields[11]) + int(fields[12])) / tick}
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            k, _, v = line.partition(":")
            if k in ("VmHWM", "VmRSS"):
                r[k.lower() + "_kib"] = int(v.split()[0])
    return r


def cmd_proc(pid):
    try:
        print(json.dumps(proc_sample(pid)))
    except OSError:
        print("null")


def cmd_supervise(out_path, pid_path, stdout_path, err_path, dashdash, *cmd):
    assert dashdash == "--", "supervise: expected -- before the command"
    with open(stdout_path, "wb") as stdout, open(err_path, "wb") as err, \
            open(os.devnull, "rb") as nul:
        t0 = time.perf_counter()
        p = subprocess.Popen(cmd, stdin=nul, stdout=stdout, stderr=err)
        with open(pid_path, "w") as f:
            f.write(f"{p.pid}\n")

        forwarded = []

        def forward(sig, _frame):
            forwarded.append(signal.Signals(sig).name)
            if p.returncode is None:
                p.send_signal(signal.SIGTERM)

        signal.signal(signal.SIGTERM, forward)
        signal.signal(signal.SIGINT, forward)
        while True:
            try:
                _, status, ru = os.wait4(p.pid, 0)
                p.returncode = os.waitstatus_to_exitcode(status)
                break
            except InterruptedError:
                continue
        wall = time.perf_counter() - t0
    rc = os.waitstatus_to_exitcode(status)
    with open(out_path, "w") as f:
        json.dump({"wall_s": round(wall, 4), "user_s": ru.ru_utime, "sys_s": ru.ru_stime,
                   "maxrss_kib": ru.ru_maxrss, "rc": rc, "end": time.time(),
                   "forwarded": forwarded}, f)
        f.write("\n")


def alive(pid, exe=None):
    """PID runs (not a zombie) and, with EXE, runs that program (its argv[0]): a pid
    taken over by an unrelated process since is not ours to signal."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            if f.read().rsplit(")", 1)[1].split()[0] == "Z":
                return False
        if exe is not None:
            with open(f"/proc/{pid}/cmdline", "rb") as f:
                return f.read().split(b"\0")[0].decode(errors="replace") == exe
        return True
    except OSError:
        return False


def cmd_stop(pid, seconds, exe=None):
    pid, seconds = int(pid), float(seconds)
    t0 = time.monotonic()
    killed = False
    if not alive(pid, exe):
        print(json.dumps({"stop_s": 0.0, "killed": False, "gone": True}))
        return
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        print(json.dumps({"stop_s": 0.0, "killed": False, "gone": True}))
        return

    while alive(pid):
        if not killed and time.monotonic() - t0 > seconds:
            os.kill(pid, signal.SIGKILL)
            killed = True
        time.sleep(0.02)
    print(json.dumps({"stop_s": round(time.monotonic() - t0, 3), "killed": killed}))


def cmd_probes(n_vehicles, count, seed, prefix, vehicle=None):
    rng = random.Random(f"probes-{seed}-{prefix}")
    n_vehicles, count = int(n_vehicles), int(count)
    with open(prefix + ".jsonl", "w") as js, open(prefix + ".topics", "w") as tp, \
            open(prefix + ".keys", "w") as ks:
        for i in range(count):
            v = vehicle or vehicle_id(rng.randint(1, n_vehicles))
            corr = f"probe-{i:06d}-{rng.getrandbits(48):012x}"
            js.write(json.dumps({"message_id": corr, "correlation_id": corr, "vehicle_id": v,
                                 "type": "COMMAND", "subtype": rng.choice(SUBTYPES),
                                 "version": 3}) + "\n")
            tp.write(f"/device/{v}/MQTTPROTOBUF/command\n")
            ks.write(corr + "\n")


CURRENT = [None]


def on_term(_sig, _frame):
    """A stopped send loop takes its running send with it."""
    if CURRENT[0] is not None:
        CURRENT[0].kill()
    sys.exit(143)


def cmd_send_loop(args):
    signal.signal(signal.SIGTERM, on_term)
    opts = {"--duration": None, "--count": None, "--vehicle": None, "--timeout": "10s",
            "--seed": "1", "--loop": "1", "--no-reply": None, "--alive": None}
    while args and args[0].startswith("--"):
        k = args.pop(0)
        if k == "--no-reply":
            opts[k] = True
            continue
        if k not in opts and k not in ("--bin", "--url", "--vehicles"):
            sys.exit(f"send-loop: unknown option {k}")
        opts[k] = args.pop(0)
    out_path = args[0]
    binary, url = opts["--bin"], opts["--url"]
    n_vehicles = int(opts.get("--vehicles") or 1)
    rng = random.Random(f"send-{opts['--seed']}-{opts['--loop']}")
    duration = float(opts["--duration"]) if opts["--duration"] else None
    count = int(opts["--count"]) if opts["--count"] else None
    t_end = time.monotonic() + duration if duration else None
    k = 0
    with open(out_path, "w") as out:
        while True:
            if count is not None and k >= count:
                break
            if t_end is not None and time.monotonic() >= t_end:
                break
            if opts["--alive"] and not alive(int(opts["--alive"]), binary):
                out.write(json.dumps({"sim_gone": True, "t": round(time.time(), 6)}) + "\n")
                break
            k += 1
            v = opts["--vehicle"] or vehicle_id(rng.randint(1, n_vehicles))
            sub = rng.choice(SUBTYPES)
            corr = f"bench-{opts['--loop']}-{k:06d}-{rng.getrandbits(32):08x}"
            msg = json.dumps({"vehicle_id": v, "subtype": sub, "correlation_id": corr},
                             separators=(",", ":"))
            argv = [binary, "send", "--broker", url, "--json", msg, "-o", "jsonl", "-q",
                    "--timeout", opts["--timeout"]]
            if opts["--no-reply"]:
                argv.append("--no-reply")
            t_unix = time.time()
            t0 = time.perf_counter()
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE)
            CURRENT[0] = child
            stdout, stderr = child.communicate()
            wall = time.perf_counter() - t0
            CURRENT[0] = None
            p = subprocess.CompletedProcess(argv, child.returncode, stdout, stderr)
            rec = {"k": k, "t": round(t_unix, 6), "wall_ms": round(wall * 1000, 3), "rc": p.returncode,
                   "vehicle": v, "subtype": sub, "corr": corr}
            if opts["--no-reply"]:
                rec["ok"] = p.returncode == 0
            else:
                problem = None
                try:
                    reply = json.loads(p.stdout.decode().splitlines()[0]) if p.stdout.strip() else None
                except ValueError:
                    reply = None
                if p.returncode != 0:
                    problem = "exit status %d" % p.returncode
                elif reply is None:
                    problem = "no reply printed"
                else:
                    for field, want in (("correlation_id", corr), ("vehicle_id", v),
                                        ("subtype", sub), ("type", "COMMAND_RESPONSE"),
                                        ("return_code", "SUCCESS")):
                        if reply.get(field) != want:
                            problem = f"reply {field} {reply.get(field)!r}, expected {want!r}"
                            break
                rec["ok"] = problem is None
                if problem:
                    rec["problem"] = problem
                    err = p.stderr.decode(errors="replace").strip().splitlines()
                    rec["stderr"] = err[-1] if err else ""
                    rec["timeout"] = "no reply" in rec["stderr"]
            out.write(json.dumps(rec) + "\n")
            out.flush()


# ---------------------------------------------------------------- analysis

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


def pct(values, q):
    """The q-quantile (nearest rank) of values; None when empty."""
    if not values:
        return None
    v = sorted(values)
    return v[max(0, min(len(v) - 1, math.ceil(q * len(v)) - 1))]


def dist(values):
    if not values:
        return {"n": 0}
    return {"n": len(values), "median": statistics.median(values), "p99": pct(values, 0.99),
            "max": max(values), "min": min(values), "mean": statistics.fmean(values)}


def read_jsonl(path):
    out = []
    try:
        with open(path, errors="replace") as f:
            for line in f:
                line = line.strip()
                if not line:
                    continue
                try:
                    out.append(json.loads(line))
                except ValueError:
                    out.append({"unparsed": line})
    except FileNotFoundError:
        pass
    return out


def read_json(path, default=None):
    try:
        with open(path) as f:
            return json.load(f)
    except (OSError, ValueError):
        return default


def sim_log(path):
    """The simulator's -o jsonl stderr: start time, replies, summaries, done, others."""
    recs = read_jsonl(path)
    r = {"start": None, "replies": [], "summaries": [], "done": None, "other": []}
    for rec in recs:
        ev = rec.get("event")
        if ev == "start" and r["start"] is None and rec.get("message", "").startswith("simulating"):
            r["start"] = parse_time(rec["time"])
        elif ev == "reply":
            r["replies"].append(rec)
        elif ev == "summary":
            r["summaries"].append(rec)
        elif ev == "done":
            r["done"] = rec
        elif ev != "start":
            r["other"].append(rec)
    return r


def send_stats(recs, duration=None):
    gone = any(r.get("sim_gone") for r in recs)
    recs = [r for r in recs if "k" in r]
    ok = [r for r in recs if r.get("ok")]
    r = {"sends": len(recs), "ok": len(ok), "failed": len(recs) - len(ok),
         "timeouts": sum(1 for x in recs if x.get("timeout")),
         "wrong_reply": sum(1 for x in recs if not x.get("ok") and x.get("rc") == 0),
         "wall_ms": dist([x["wall_ms"] for x in ok]), "sim_gone": gone,
         "problems": [f"{x['vehicle']} {x['subtype']} {x['corr']}: {x.get('problem')} ({x.get('stderr', '')})"
                      for x in recs if not x.get("ok")][:10]}
    if recs:
        span = max(x["t"] + x["wall_ms"] / 1000 for x in recs) - min(x["t"] for x in recs)
        r["span_s"] = span
    if duration:
        r["rate"] = len(ok) / duration
    return r


def probe_stats(path):
    recs = read_jsonl(path)
    summary = next((x for x in recs if x.get("summary")), None)
    rtts = [x["rtt_ms"] for x in recs if "rtt_ms" in x]
    return {"summary": summary, "rtt_ms": dist(rtts),
            "timeouts": sum(1 for x in recs if x.get("timeout"))}


def by_whom(run):
    """What an early exit status says (130: the simulator's own stop on SIGINT/SIGTERM)."""
    if run.get("rc") == 130 and not run.get("forwarded"):
        return " (its stop on SIGINT/SIGTERM, sent by none of this script's processes)"
    if run.get("rc") is not None and run["rc"] < 0:
        return f" (killed by signal {-run['rc']})"
    return ""


def cmd_analyze(data):
    p = lambda name: os.path.join(data, name)
    env = read_json(p("env.json"), {})
    marks = read_json(p("window.json"), {})
    n_veh, duration, qos = env["n_vehicles"], env["duration"], env["qos"]
    res = {"env": env, "window": marks, "targets": [], "notes": []}

    # ---- baseline (idle simulator: one device, nothing published)
    base = {"send": send_stats(read_jsonl(p("baseline/send.jsonl"))),
            "send_no_reply": send_stats(read_jsonl(p("baseline/send-noreply.jsonl"))),
            "probe": probe_stats(p("baseline/probe.jsonl"))}
    bsim = sim_log(p("baseline/sim.err"))
    base["sim_latency_ms"] = dist([r["latency_ms"] for r in bsim["replies"]])
    res["baseline"] = base

    # ---- the fleet simulator
    sim = sim_log(p("sim.err"))
    sup = read_json(p("sim.run.json"), {})
    stop = read_json(p("sim.stop.json"), {})
    done = sim["done"]
    res["sim"] = {"run": sup, "stop": stop, "done": done, "start": sim["start"],
                  "latency_ms": dist([r["latency_ms"] for r in sim["replies"]]),
                  "replies_logged": len(sim["replies"]),
                  "other_log": [json.dumps(x)[:300] for x in sim["other"][:10]],
                  "other_log_count": len(sim["other"])}
    w0, w1 = marks.get("w0"), marks.get("w1")
    p0, p1 = marks.get("sim0"), marks.get("sim1")
    if p0 and p1:
        res["sim"]["window_cpu_s"] = p1["cpu_s"] - p0["cpu_s"]
        res["sim"]["window_cpu_pct"] = 100 * (p1["cpu_s"] - p0["cpu_s"]) / (p1["t"] - p0["t"])
    # VmHWM: the peak resident set, from the kernel (ru_maxrss of a child forked from Python
    # would carry the Python parent's peak from before the exec).
    last = marks.get("sim_last") or p1
    if last:
        res["sim"]["vmhwm_kib"] = last.get("vmhwm_kib")
        res["sim"]["vmrss_kib"] = last.get("vmrss_kib")
    b0, b1 = marks.get("broker0"), marks.get("broker1")
    if b0 and b1:
        res["broker_window_cpu_pct"] = 100 * (b1["cpu_s"] - b0["cpu_s"]) / (b1["t"] - b0["t"])
    # The simulator's own count rate between the summaries around the window (telemetry
    # and events together, as it counts them).
    sums = [(parse_time(s["time"]), s["published"]) for s in sim["summaries"]]
    inside = [s for s in sums if w0 is not None and w0 <= s[0] <= w0 + duration]
    if len(inside) >= 2:
        (ta, ca), (tb, cb) = inside[0], inside[-1]
        res["sim"]["summary_rate"] = (cb - ca) / (tb - ta)
        res["sim"]["summary_span_s"] = tb - ta

    # ---- what the listener received
    tele = {}            # vehicle -> {seq: count}
    tele_stamp = []      # (vehicle n, seq, stamped, received)
    events = {}          # message_id -> count
    bad = other_topic = 0
    lines = 0
    with open(p("listen.jsonl"), errors="replace") as f:
        for line in f:
            lines += 1
            try:
                rec = json.loads(line)
                msg = rec["message"]
                topic = rec["topic"]
                received = parse_time(rec["time"])
            except (ValueError, KeyError, AssertionError):
                bad += 1
                continue
            if topic.endswith(TELEMETRY):
                v = msg.get("vehicle_id", "")
                try:
                    seq = int(msg.get("sequence", 0))
                    stamped = parse_time(msg["time_stamp"])
                except (ValueError, KeyError, AssertionError):
                    bad += 1
                    continue
                if topic.split("/")[2] != v:
                    bad += 1
                per = tele.setdefault(v, {})
                per[seq] = per.get(seq, 0) + 1
                if per[seq] == 1:
                    n = int(v[3:]) if v.startswith("SIM") and v[3:].isdigit() else None
                    tele_stamp.append((n, seq, stamped, received))
            elif topic.endswith(EVENTS):
                mid = msg.get("message_id", "")
                events[mid] = events.get(mid, 0) + 1
            else:
                other_topic += 1
    t_distinct = sum(len(s) for s in tele.values())
    t_dups = sum(c - 1 for s in tele.values() for c in s.values())
    gaps = 0
    gap_examples = []
    for v, s in tele.items():
        top = max(s)
        miss = [k for k in range(1, top + 1) if k not in s]
        gaps += len(miss)
        if miss and len(gap_examples) < 5:
            gap_examples.append(f"{v}: {miss[:5]}")
    silent = [vehicle_id(i) for i in range(1, n_veh + 1) if vehicle_id(i) not in tele]
    e_distinct = len(events)
    e_dups = sum(c - 1 for c in events.values())
    recv = {"lines": lines, "bad_lines": bad, "other_topics": other_topic,
            "telemetry": t_distinct, "telemetry_dups": t_dups, "telemetry_gaps": gaps,
            "gap_examples": gap_examples, "vehicles_with_telemetry": len(tele),
            "vehicles_silent": len(silent), "silent_examples": silent[:5],
            "events": e_distinct, "events_dups": e_dups}
    if done:
        recv["published"] = done["published"]
        recv["lost"] = done["published"] - (t_distinct + e_distinct)
        recv["unacknowledged"] = done["sent"] - done["acknowledged"]
    res["received"] = recv

    # Telemetry rate: messages stamped (time_stamp, set when the simulator makes them)
    # in [w0, w0 + DURATION), and received by the listener in that window.
    if w0 is not None:
        stamped_in = sum(1 for _, _, ts, _ in tele_stamp if w0 <= ts < w0 + duration)
        recv_in = sum(1 for _, _, _, tr in tele_stamp if w0 <= tr < w0 + duration)
        res["rate"] = {"asked": n_veh, "stamped": stamped_in / duration,
                       "received": recv_in / duration, "expected_in_window": n_veh * duration,
                       "stamped_in_window": stamped_in}
    # Lateness against the schedule: vehicle n's message k is due at start + (n-1)/N s
    # + (k-1) periods (the simulator spreads the first publication over the first period);
    # the start is the time of the simulator's "simulating ..." line.
    if sim["start"] is not None and tele_stamp:
        late = [(ts - (sim["start"] + (n - 1) / n_veh + (k - 1))) * 1000
                for n, k, ts, _ in tele_stamp if n is not None]
        res["lateness_ms"] = dist(late)
        if w0 is not None:
            res["lateness_window_ms"] = dist(
                [(ts - (sim["start"] + (n - 1) / n_veh + (k - 1))) * 1000
                 for n, k, ts, _ in tele_stamp if n is not None and w0 <= ts < w0 + duration])
    res["delivery_ms"] = dist([(tr - ts) * 1000 for _, _, ts, tr in tele_stamp])

    # ---- the send loops and the prober, during the window
    loops = []
    for i in range(1, env["senders"] + 1):
        loops.extend(read_jsonl(p(f"send.{i}.jsonl")))
    res["send"] = send_stats(loops, duration)
    res["send"]["per_loop"] = env["senders"]
    res["probe"] = probe_stats(p("probe.jsonl")) if env["probe_rate"] > 0 else None
    res["listener"] = read_json(p("listen.stop.json"), {})

    # ---- targets
    def target(name, ok, value):
        res["targets"].append({"name": name, "ok": bool(ok), "value": value})

    sim_rc = sup.get("rc")
    target("simulator ran to the end and stopped on SIGTERM with exit status 130, a `done` summary",
           sim_rc == 130 and done is not None and not stop.get("killed") and not stop.get("gone"),
           f"exit status {sim_rc}, done summary {'yes' if done else 'no'}"
           + (", SIGKILLed after the stop wait" if stop.get("killed") else "")
           + (f", it had ended before the SIGTERM (after {sup.get('wall_s')} s)" if stop.get("gone") else ""))
    bstop, brun = read_json(p("baseline/sim.stop.json"), {}), read_json(p("baseline/sim.run.json"), {})
    if bstop.get("gone"):
        res["notes"].append(f"the idle simulator of the baseline had ended before its SIGTERM: exit status "
                            f"{brun.get('rc')} after {brun.get('wall_s')} s{by_whom(brun)} "
                            "(baseline figures incomplete)")
    if stop.get("gone"):
        res["notes"].append(f"the simulator had ended before its SIGTERM: exit status {sup.get('rc')} "
                            f"after {sup.get('wall_s')} s{by_whom(sup)}")
    s = res["send"]
    target("every `send` answered with the right reply (correlation id, vehicle, subtype, SUCCESS)",
           s["sends"] > 0 and s["failed"] == 0,
           f"{s['ok']:,} of {s['sends']:,} ok, {s['timeouts']} timeouts, {s['wrong_reply']} wrong replies")
    if res["probe"] is not None:
        ps = res["probe"]["summary"] or {}
        target("every round-trip probe answered",
               ps.get("probes", 0) > 0 and ps.get("answered") == ps.get("probes") and not ps.get("error"),
               f"{ps.get('answered', 0):,} of {ps.get('probes', 0):,}"
               + (f", error: {ps['error']}" if ps.get("error") else ""))
    if qos >= 1:
        lost = recv.get("lost")
        target(f"no telemetry or event lost at QoS {qos} (published by the simulator - received distinct)",
               lost == 0 and gaps == 0 and not silent and not bad,
               "unknown (no done summary)" if lost is None else
               f"{lost:,} lost, {gaps} sequence gaps, {len(silent)} vehicles without telemetry")
    if "rate" in res:
        ratio = res["rate"]["stamped"] / n_veh
        target(f"telemetry rate made ≥ {env['rate_min']:.0%} of the {n_veh:,}/s asked (in the window)",
               ratio >= env["rate_min"], f"{res['rate']['stamped']:,.1f}/s ({ratio:.1%})")
    with open(p("results.json"), "w") as f:
        json.dump(res, f, indent=1)
    sys.exit(0 if all(t["ok"] for t in res["targets"]) else 1)


# ---------------------------------------------------------------- report

def f(x, nd=1):
    if x is None:
        return "-"
    if isinstance(x, int):
        return f"{x:,}"
    return f"{x:,.{nd}f}"


def fd(d, key, nd=2):
    return f(d.get(key), nd) if d and d.get("n") else "-"


def cmd_report(path):
    res = read_json(path)
    env, sim, recv = res["env"], res["sim"], res["received"]
    out = print
    out("### Environment\n")
    out("| | |")
    out("|---|---|")
    out(f"| CPU | {env['cpu']} |")
    out(f"| nproc | {env['nproc']} |")
    out(f"| kernel | {env['kernel']} |")
    out(f"| commander | {env['commander_version']} (`{env['commander']}`) |")
    out(f"| broker | {env['mosquitto']} on 127.0.0.1, persistence off, max_queued_messages 0 (no "
        f"limit), max_inflight_messages {env['inflight']} (also the Receive Maximum it gives the "
        f"simulator), set_tcp_nodelay {env['nodelay']} |")
    out(f"| simulator | `{env['sim_cmd']}` (built-in profile: telemetry every 1 s and an event every "
        f"10 s per vehicle, QoS {env['qos']}) |")
    out(f"| send loops | {env['senders']} × sequential `{env['send_cmd']}` for {env['duration']} s, "
        f"random vehicle of {env['n_vehicles']:,}, random subtype of {env['subtypes']} |")
    if env["probe_rate"] > 0:
        out(f"| round-trip probe | benches/publisher round-trip mode (rumqttc {env['rumqttc']}, MQTT 3.1.1, "
            f"one persistent connection, TCP_NODELAY): one command at a time, {env['probe_rate']}/s, "
            f"random vehicle and subtype, for {env['duration']} s: `{env['probe_cmd']}` |")
    out(f"| loss check | `{env['listen_cmd']}` for the whole run |")
    out(f"| baseline | before the fleet starts: `{env['baseline_sim_cmd']}`, "
        f"{env['baseline_sends']} sends and {env['baseline_sends']} `send --no-reply`, "
        f"{env['baseline_probes']} probes at {env['probe_rate']}/s |")
    out(f"| timeline | warm-up {env['warmup']} s after the simulator starts, then {env['duration']} s "
        f"of sends; then SIGTERM to the simulator |")
    out(f"| command | `{env['command']}` |")
    out("")

    out("### Commands answered\n")
    s = res["send"]
    out("| | sends | ok | failed | timeouts | wrong replies | answered per second |")
    out("|---|---|---|---|---|---|---|")
    out(f"| `send` loops ({env['senders']}) under load | {f(s['sends'])} | {f(s['ok'])} | {f(s['failed'])} "
        f"| {f(s['timeouts'])} | {f(s['wrong_reply'])} | {f(s.get('rate'), 2)} |")
    if res.get("probe"):
        ps = res["probe"]["summary"] or {}
        out(f"| round-trip probe under load | {f(ps.get('probes'))} | {f(ps.get('answered'))} "
            f"| {f((ps.get('probes') or 0) - (ps.get('answered') or 0))} | {f(ps.get('timeouts'))} | - "
            f"| {f((ps.get('answered') or 0) / env['duration'], 2)} |")
    out("\nanswered per second = sends completed OK / DURATION; a sequential loop is bound by each "
        "`send` process's own time (start, schema, connect, subscribe, publish, reply, disconnect).\n")

    out("### Reply latency (ms)\n")
    out("| what is measured | n | median | p99 | max |")
    out("|---|---|---|---|---|")
    rows = [
        ("simulator, under load: `latency_ms` in its log (command received → reply handed to "
         "its MQTT client)", sim["latency_ms"]),
        ("simulator, idle baseline (1 device, nothing published)", res["baseline"]["sim_latency_ms"]),
    ]
    if res.get("probe"):
        rows += [("round trip under load: probe publish → reply read by the probe (broker twice, "
                  "simulator; no process start)", res["probe"]["rtt_ms"]),
                 ("round trip, idle baseline", res["baseline"]["probe"]["rtt_ms"])]
    rows += [("`send` process wall time under load (ok sends; process start, schema, connect, "
              "subscribe, round trip, disconnect)", s["wall_ms"]),
             ("`send` process wall time, idle baseline", res["baseline"]["send"]["wall_ms"]),
             ("`send --no-reply` wall time, idle baseline (the same without waiting for a reply)",
              res["baseline"]["send_no_reply"]["wall_ms"])]
    for name, d in rows:
        out(f"| {name} | {f(d.get('n'))} | {fd(d, 'median', 3)} | {fd(d, 'p99', 3)} | {fd(d, 'max', 3)} |")
    out("")

    out("### Telemetry published and received\n")
    done = sim.get("done") or {}
    rate = res.get("rate", {})
    out("| | |")
    out("|---|---|")
    out(f"| simulator `done`: published unasked (telemetry + events) | {f(done.get('published'))} |")
    out(f"| simulator `done`: sent at QoS ≥ 1 (with replies) / acknowledged by the broker "
        f"| {f(done.get('sent'))} / {f(done.get('acknowledged'))} |")
    out(f"| simulator `done`: commands / answered / not published | {f(done.get('commands'))} / "
        f"{f(done.get('answered'))} / {f(done.get('not_published'))} |")
    out(f"| received distinct: telemetry + events | {f(recv['telemetry'])} + {f(recv['events'])} |")
    out(f"| **lost** (published − received distinct) | **{f(recv.get('lost'))}** |")
    out(f"| duplicates received: telemetry / events | {f(recv['telemetry_dups'])} / {f(recv['events_dups'])} |")
    out(f"| telemetry sequence gaps (per vehicle, 1..last) | {f(recv['telemetry_gaps'])} |")
    out(f"| vehicles with telemetry / without | {f(recv['vehicles_with_telemetry'])} / {f(recv['vehicles_silent'])} |")
    out(f"| undecodable or malformed lines | {f(recv['bad_lines'])} |")
    out(f"| telemetry rate asked | {f(rate.get('asked'))}/s |")
    out(f"| telemetry rate made (stamped by the simulator in the {env['duration']} s window) "
        f"| {f(rate.get('stamped'))}/s ({f(rate.get('stamped_in_window'))} of {f(rate.get('expected_in_window'))}) |")
    out(f"| telemetry rate received by the listener in the window | {f(rate.get('received'))}/s |")
    out(f"| simulator's own count rate in the window (telemetry + events, between its 5 s summaries) "
        f"| {f(sim.get('summary_rate'))}/s |")
    lw = res.get("lateness_window_ms", {})
    out(f"| publish lateness vs schedule in the window, ms (median / p99 / max) "
        f"| {fd(lw, 'median')} / {fd(lw, 'p99')} / {fd(lw, 'max')} |")
    dl = res.get("delivery_ms", {})
    out(f"| telemetry delivery, stamped → received by the listener, ms (median / p99 / max) "
        f"| {fd(dl, 'median')} / {fd(dl, 'p99')} / {fd(dl, 'max')} |")
    out("")

    out("### Simulator resources\n")
    run = sim.get("run") or {}
    out("| | |")
    out("|---|---|")
    out(f"| CPU in the {env['duration']} s window (/proc utime+stime) | {f(sim.get('window_cpu_s'), 2)} s "
        f"= {f(sim.get('window_cpu_pct'))} % of one core |")
    out(f"| CPU over its whole life (user + sys, wait4) | {f(run.get('user_s'), 2)} + {f(run.get('sys_s'), 2)} s "
        f"in {f(run.get('wall_s'), 1)} s |")
    out(f"| peak memory: VmHWM just before the SIGTERM / VmRSS then | {f((sim.get('vmhwm_kib') or 0) / 1024)} / "
        f"{f((sim.get('vmrss_kib') or 0) / 1024)} MiB |")
    out(f"| stop: SIGTERM → exit | {f((sim.get('stop') or {}).get('stop_s'), 3)} s, exit status {run.get('rc')} |")
    out(f"| broker CPU in the window | {f(res.get('broker_window_cpu_pct'))} % of one core |")
    out("")

    out("### Targets\n")
    out("| target | result | |")
    out("|---|---|---|")
    for t in res["targets"]:
        out(f"| {t['name']} | {t['value']} | {'ok' if t['ok'] else '**MISSED**'} |")
    notes = list(res.get("notes", []))
    if res["send"].get("sim_gone"):
        notes.append("the send loops stopped early: the simulator was gone")
    for pr in res["send"]["problems"]:
        notes.append(f"send: {pr}")
    if sim.get("other_log_count"):
        notes.append(f"simulator log: {sim['other_log_count']} notes/errors, first: " + "; ".join(sim["other_log"][:3]))
    if recv["gap_examples"]:
        notes.append("telemetry gaps: " + "; ".join(recv["gap_examples"]))
    if recv["silent_examples"]:
        notes.append("vehicles without telemetry: " + ", ".join(recv["silent_examples"]))
    if recv.get("unacknowledged"):
        notes.append(f"{recv['unacknowledged']} messages the simulator sent were not acknowledged by the broker when it exited")
    if notes:
        out("")
        for n in notes:
            out(f"- {n}")


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "freeport":
        cmd_freeport()
    elif cmd == "wait-log":
        cmd_wait_log(*args)
    elif cmd == "wait-idle":
        cmd_wait_idle(*args)
    elif cmd == "env":
        cmd_env(*args)
    elif cmd == "proc":
        cmd_proc(*args)
    elif cmd == "supervise":
        cmd_supervise(*args)
    elif cmd == "stop":
        cmd_stop(*args)
    elif cmd == "probes":
        cmd_probes(*args)
    elif cmd == "send-loop":
        cmd_send_loop(args)
    elif cmd == "analyze":
        cmd_analyze(*args)
    elif cmd == "report":
        cmd_report(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
