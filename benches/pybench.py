#!/usr/bin/env python3
"""Helpers for benches/throughput.sh: the Python protobuf baseline, a process
timer and the correctness checks.

  pybench.py info
  pybench.py decode DESC_SET TYPE HEX_IN JSONL_OUT      -> one JSON line of timings
  pybench.py encode DESC_SET TYPE JSONL_IN HEX_OUT      -> one JSON line of timings
  pybench.py run STDIN|- STDOUT|- CMD...               -> wall/cpu/maxrss of one process
  pybench.py compare-json A.jsonl B.jsonl              -> report, exit 1 on mismatch
  pybench.py compare-hex DESC_SET TYPE JSONL CMD.hex PY.hex
                                                       -> report, exit 1 on mismatch
  pybench.py spawnbench RUNS WARMUP SPEC_JSON           -> whole-process times, no shell
  pybench.py report RESULTS.jsonl                      -> the markdown tables

The message class is built at run time from a descriptor set (protoc
--descriptor_set_out --include_imports) with descriptor_pool and
message_factory.GetMessageClass: no generated code.
"""
import json
import math
import os
import struct
import subprocess
import sys
import time

from google.protobuf import descriptor_pb2, descriptor_pool, json_format, message_factory
from google.protobuf.internal import api_implementation


def message_class(desc_set, full_name):
    fds = descriptor_pb2.FileDescriptorSet.FromString(open(desc_set, "rb").read())
    pool = descriptor_pool.DescriptorPool()
    for fd in fds.file:  # --include_imports lists dependencies first
        pool.Add(fd)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName(full_name))


def cmd_info():
    import google.protobuf

    print(json.dumps({"backend": api_implementation.Type(), "version": google.protobuf.__version__,
                      "python": sys.version.split()[0]}))


def cmd_decode(desc_set, full_name, hex_in, out_path):
    t0 = time.perf_counter()
    cls = message_class(desc_set, full_name)
    from_string = cls.FromString
    to_json = json_format.MessageToJson
    fromhex = bytes.fromhex
    n = 0
    t1 = time.perf_counter()
    c1 = time.process_time()
    with open(hex_in) as f, open(out_path, "w") as out:
        w = out.write
        for line in f:
            m = from_string(fromhex(line))
            w(to_json(m, preserving_proto_field_name=True, indent=None))
            w("\n")
            n += 1
    t2 = time.perf_counter()
    c2 = time.process_time()
    print(json.dumps({"messages": n, "setup_s": t1 - t0, "loop_s": t2 - t1, "loop_cpu_s": c2 - c1}))


def cmd_encode(desc_set, full_name, jsonl_in, out_path):
    t0 = time.perf_counter()
    cls = message_class(desc_set, full_name)
    parse = json_format.Parse
    n = 0
    t1 = time.perf_counter()
    c1 = time.process_time()
    with open(jsonl_in) as f, open(out_path, "w") as out:
        w = out.write
        for line in f:
            m = parse(line, cls())
            w(m.SerializeToString().hex())
            w("\n")
            n += 1
    t2 = time.perf_counter()
    c2 = time.process_time()
    print(json.dumps({"messages": n, "setup_s": t1 - t0, "loop_s": t2 - t1, "loop_cpu_s": c2 - c1}))


def cmd_run(stdin, stdout, argv):
    """Runs argv once; reports wall seconds, child CPU seconds and max RSS (KiB)."""
    fin = open(stdin, "rb") if stdin != "-" else subprocess.DEVNULL
    fout = open(stdout, "wb") if stdout != "-" else subprocess.DEVNULL
    t0 = time.perf_counter()
    p = subprocess.Popen(argv, stdin=fin, stdout=fout)
    _, status, ru = os.wait4(p.pid, 0)
    wall = time.perf_counter() - t0
    p.returncode = os.waitstatus_to_exitcode(status)
    print(json.dumps({"wall_s": wall, "cpu_s": ru.ru_utime + ru.ru_stime, "maxrss_kib": ru.ru_maxrss,
                      "rc": p.returncode}))
    return 0 if p.returncode == 0 else 1


def cmd_spawnbench(runs, warmup, spec):
    """Whole-process timing without a shell, stdin from a file: each command in
    `spec` (JSON list of {name, stdin, argv}) is run `warmup` then `runs` times,
    the commands interleaved so machine noise hits them alike. Output is
    discarded. A cross-check for hyperfine when it cannot feed stdin with -N."""
    import gc
    import statistics

    cmds = json.loads(spec)
    times = {c["name"]: [] for c in cmds}
    cpus = {c["name"]: [] for c in cmds}
    gc.disable()
    for i in range(int(warmup) + int(runs)):
        for c in cmds:
            with open(c["stdin"], "rb") as fin:
                t0 = time.perf_counter()
                p = subprocess.Popen(c["argv"], stdin=fin, stdout=subprocess.DEVNULL)
                _, status, ru = os.wait4(p.pid, 0)
                t = time.perf_counter() - t0
            if os.waitstatus_to_exitcode(status) != 0:
                sys.exit(f"{c['name']} failed")
            if i >= int(warmup):
                times[c["name"]].append(t)
                cpus[c["name"]].append(ru.ru_utime + ru.ru_stime)
    print(json.dumps({name: {"mean": statistics.fmean(ts), "stddev": statistics.stdev(ts), "min": min(ts),
                             "median": statistics.median(ts), "runs": len(ts), "cpu_mean": statistics.fmean(cpus[name])}
                      for name, ts in times.items()}))


# ---------------------------------------------------------------- comparisons

def f32(x):
    try:
        return struct.unpack("<f", struct.pack("<f", x))[0]
    except OverflowError:
        return None


def same(a, b, path, notes):
    """Deep equality; numbers where either side is a float compare numerically
    (equal as doubles, or as floats once rounded to float32). Returns a list of
    differences; float-only formatting differences are counted in notes."""
    num = (int, float)
    if isinstance(a, bool) or isinstance(b, bool):
        return [] if (type(a) is type(b) and a == b) else [f"{path}: {a!r} != {b!r}"]
    if isinstance(a, num) and isinstance(b, num):
        if type(a) is int and type(b) is int:
            return [] if a == b else [f"{path}: {a!r} != {b!r}"]
        fa, fb = float(a), float(b)
        if fa == 0 and fb == 0 and math.copysign(1, fa) != math.copysign(1, fb):
            return [f"{path}: {a!r} != {b!r} (sign of zero)"]
        if fa == fb or (math.isnan(fa) and math.isnan(fb)):
            if repr(a) != repr(b):
                notes["float_format"] += 1
            return []
        if f32(fa) is not None and f32(fa) == f32(fb):
            notes["float32_repr"] += 1
            return []
        return [f"{path}: {a!r} != {b!r}"]
    if type(a) is not type(b):
        return [f"{path}: {a!r} ({type(a).__name__}) != {b!r} ({type(b).__name__})"]
    if isinstance(a, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            if k not in a:
                out.append(f"{path}.{k}: missing on the left, right has {b[k]!r}")
            elif k not in b:
                out.append(f"{path}.{k}: missing on the right, left has {a[k]!r}")
            else:
                out += same(a[k], b[k], f"{path}.{k}", notes)
        return out
    if isinstance(a, list):
        if len(a) != len(b):
            return [f"{path}: {len(a)} items != {len(b)} items"]
        out = []
        for i, (x, y) in enumerate(zip(a, b)):
            out += same(x, y, f"{path}[{i}]", notes)
        return out
    return [] if a == b else [f"{path}: {a!r} != {b!r}"]


def cmd_compare_json(left, right):
    notes = {"float_format": 0, "float32_repr": 0}
    n = bad = 0
    examples = []
    with open(left) as fa, open(right) as fb:
        while True:
            la, lb = fa.readline(), fb.readline()
            if not la and not lb:
                break
            n += 1
            if not la or not lb:
                bad += 1
                examples.append(f"line {n}: one file ends early")
                break
            diffs = same(json.loads(la), json.loads(lb), "$", notes)
            if diffs:
                bad += 1
                if len(examples) < 5:
                    examples.append(f"line {n}: " + "; ".join(diffs[:3]))
    print(json.dumps({"lines": n, "mismatches": bad, **notes, "examples": examples}))
    return 1 if bad else 0


def cmd_compare_hex(desc_set, full_name, jsonl, cmd_hex, py_hex):
    """commander's hex vs Python's SerializeToString hex, line by line. upb writes
    map entries in hash order (random per process; even deterministic=True is not
    key order), commander in key order: a line whose bytes differ is counted as
    'order only' when both parse to the same message and have the same length,
    else as a mismatch."""
    cls = None
    n = bad = order_only = 0
    examples = []
    with open(jsonl) as fj, open(cmd_hex) as fc, open(py_hex) as fp:
        for lj, lc, lp in zip(fj, fc, fp):
            n += 1
            lc, lp = lc.strip(), lp.strip()
            if lc == lp:
                continue
            cls = cls or message_class(desc_set, full_name)
            want = json_format.Parse(lj, cls())
            try:
                got = cls.FromString(bytes.fromhex(lc))
                same_msg = (len(lc) == len(lp) and got == want
                            and got.SerializeToString(deterministic=True) == want.SerializeToString(deterministic=True))
            except Exception:  # noqa: BLE001 - unparsable output is a mismatch
                same_msg = False
            if same_msg:
                order_only += 1
                continue
            bad += 1
            if len(examples) < 5:
                examples.append({"line": n, "json": lj.strip(), "commander": lc, "python": lp})
    total = {"cmd": sum(1 for _ in open(cmd_hex)), "py": sum(1 for _ in open(py_hex))}
    if total["cmd"] != total["py"]:
        bad += 1
        examples.append(f"line counts differ: commander {total['cmd']}, python {total['py']}")
    print(json.dumps({"lines": n, "mismatches": bad, "identical": n - bad - order_only,
                      "map_order_only": order_only, "examples": examples}))
    return 1 if bad else 0


# ---------------------------------------------------------------- report

def median(xs):
    xs = sorted(xs)
    k = len(xs) // 2
    return xs[k] if len(xs) % 2 else (xs[k - 1] + xs[k]) / 2


def cmd_report(path):
    rows = [json.loads(l) for l in open(path)]
    env = next(r for r in rows if r["tag"] == "env")
    hex_bytes = next(r for r in rows if r["tag"] == "hex")["hex_bytes"]
    n, reps = env["n"], env["repeats"]

    def walls(tag, key=None):
        rs = [r for r in rows if r["tag"] == tag]
        if key == "loop":
            return ([r["loop"]["loop_s"] for r in rs], [r["r"]["wall_s"] for r in rs],
                    [r["loop"]["loop_cpu_s"] for r in rs])
        return [r["r"]["wall_s"] for r in rs], None, [r["r"]["cpu_s"] for r in rs]

    py = env["python"]
    print()
    print(f"## commander throughput ({n:,} x {env['n'] and 'cvp.CommandResponseMessage'})")
    print()
    print(f"- machine: nproc={env['nproc']}, CPU: {env['cpu']}")
    print(f"- Python {py['python']}, protobuf {py['version']}, backend `{py['backend']}` "
          "(classes from a descriptor set via GetMessageClass, no generated code)")
    print(f"- commander: {env['commander']}")
    print(f"- input: {hex_bytes / 1e6:.1f} MB of hex lines, {env['jsonl_bytes'] / 1e6:.1f} MB of JSON lines "
          f"(MB = 10^6 bytes); each timed job run {reps}x: median shown, best in brackets; ratios from medians")
    print("- commander times are whole processes (start, schema load, I/O); Python times are the loop only "
          "(file read + parse + write), its interpreter start and class building excluded; CPU = user+sys "
          "(less disturbed than wall when the machine is shared; both sides are single-threaded)")
    print()
    print("| job | tool | wall s: median (best) | CPU s (median) | msg/s | MB/s | commander speed-up: wall "
          "(CPU) |")
    print("|---|---|---|---|---|---|---|")

    def line(job, tool, w, cpu, nbytes, speedup="", extra=""):
        m = median(w)
        print(f"| {job} | {tool}{extra} | {m:.3f} ({min(w):.3f}) | {median(cpu):.2f} | {n / m:,.0f} | "
              f"{nbytes / 1e6 / m:.1f} | {speedup} |")
        return m

    dc, _, dcc = walls("decode-commander")
    dp, dpw, dpc = walls("decode-python", "loop")
    xw, _, xc = walls("xxd")
    ec, _, ecc = walls("encode-commander")
    ep, epw, epc = walls("encode-python", "loop")
    dec_ratio = median(dp) / median(dc)
    enc_ratio = median(ep) / median(ec)
    dec_cpu = median(dpc) / median(dcc)
    enc_cpu = median(epc) / median(ecc)
    line("decode hex -> jsonl", "commander decode -o jsonl", dc, dcc, hex_bytes,
         f"**{dec_ratio:.1f}x** ({dec_cpu:.1f}x)")
    line("decode hex -> jsonl", "Python loop", dp, dpc, hex_bytes, "1x",
         f" (process wall {median(dpw):.2f} s)")
    line("hex -> bytes (floor)", "xxd -r -p", xw, xc, hex_bytes,
         f"commander at {median(xw) / median(dc):.2f}x xxd's speed")
    line("encode jsonl -> hex", "commander encode", ec, ecc, env["jsonl_bytes"],
         f"**{enc_ratio:.1f}x** ({enc_cpu:.1f}x)")
    line("encode jsonl -> hex", "Python loop", ep, epc, env["jsonl_bytes"], "1x",
         f" (process wall {median(epw):.2f} s)")

    print()
    print("| max RSS (GNU time %M) | lines | decode -o jsonl | encode |")
    print("|---|---|---|---|")
    rd = [r for r in rows if r["tag"] == "rss-decode"]
    re_ = [r for r in rows if r["tag"] == "rss-encode"]
    for a, b in zip(rd, re_):
        print(f"| | {a['lines']:,} | {a['kib'] / 1024:.1f} MiB | {b['kib'] / 1024:.1f} MiB |")
    growth = rd[-1]["kib"] / rd[0]["kib"]
    egrowth = re_[-1]["kib"] / re_[0]["kib"]

    hf = next(r for r in rows if r["tag"] == "hf")
    res = {x["command"]: x for x in hf["runs"]["results"]}
    c, p = res["commander"], res["protoc"]
    single = c["mean"] / p["mean"]
    print()
    mode = ("hyperfine -N --input one.bin" if hf["mode"] != "shell" else
            "hyperfine -N; it has no --input, so both as `sh -c 'exec ...'`, each paying one sh start")
    print(f"| one message incl. schema load ({mode}) | mean ms ± σ | median ms | min ms | runs | "
          "vs protoc: mean (median) |")
    print("|---|---|---|---|---|---|")

    def hrow(label, x, ratio):
        print(f"| {label} | {x['mean'] * 1e3:.2f} ± {x['stddev'] * 1e3:.2f} | {x['median'] * 1e3:.2f} | "
              f"{x['min'] * 1e3:.2f} | {len(x['times'])} | {ratio} |")

    wrap = "`sh -c 'exec ...'`: " if hf["mode"] == "shell" else ""
    hrow(wrap + "`commander decode --file one.hex` (table)", c,
         f"**{single:.2f}x** ({c['median'] / p['median']:.2f}x)")
    if hf["mode"] == "shell":
        cn = hf["n_runs"]["results"][0]
        hrow("`commander decode --file one.hex`, plain -N", cn, f"{cn['mean'] / p['mean']:.2f}x ({cn['median'] / p['median']:.2f}x)")
    hrow(wrap + "`protoc --decode=cvp.CommandResponseMessage ... < one.bin`", p, "1x")
    est = None
    if hf["mode"] == "shell":
        sh_cost = c["mean"] - cn["mean"]
        est = cn["mean"] / (p["mean"] - sh_cost)
        print(f"\nEstimate without the sh start (its cost taken as sh-wrapped minus plain commander, "
              f"{sh_cost * 1e3:.2f} ms): commander {cn['mean'] * 1e3:.2f} ms vs protoc "
              f"{(p['mean'] - sh_cost) * 1e3:.2f} ms = {est:.2f}x")

    sp = next(r for r in rows if r["tag"] == "spawn")["r"]
    spc, spp = sp["commander"], sp["protoc"]
    spawn_ratio = spc["mean"] / spp["mean"]
    print()
    print("| one message, cross-check: spawned directly from Python (no shell, stdin from file), "
          "interleaved | mean ms ± σ | median ms | min ms | CPU ms mean | runs | vs protoc: mean (median; CPU) |")
    print("|---|---|---|---|---|---|---|")
    for name, x in (("commander", spc), ("protoc", spp)):
        print(f"| {name} | {x['mean'] * 1e3:.2f} ± {x['stddev'] * 1e3:.2f} | {x['median'] * 1e3:.2f} | "
              f"{x['min'] * 1e3:.2f} | {x['cpu_mean'] * 1e3:.2f} | {x['runs']} | {x['mean'] / spp['mean']:.2f}x "
              f"({x['median'] / spp['median']:.2f}x; {x['cpu_mean'] / spp['cpu_mean']:.2f}x) |")

    cd = next(r for r in rows if r["tag"] == "check-decode")["r"]
    ce = next(r for r in rows if r["tag"] == "check-encode")["r"]
    print()
    print("| correctness | lines | mismatches | notes |")
    print("|---|---|---|---|")
    print(f"| decode: commander jsonl vs Python MessageToJson (parsed, floats numerically) | {cd['lines']:,} | "
          f"{cd['mismatches']} | float text differs but same double: {cd['float_format']}, "
          f"same float32: {cd['float32_repr']} |")
    print(f"| encode: commander hex vs Python SerializeToString hex | {ce['lines']:,} | {ce['mismatches']} | "
          f"byte-identical: {ce['identical']:,}; same message and length, map entries in another order "
          f"(upb writes maps in hash order): {ce['map_order_only']:,} |")
    for ex in cd["examples"] + ce["examples"]:
        print(f"\n    mismatch: {ex}")

    ok = lambda b: "met" if b else "NOT met"
    print()
    print(f"Targets: decode >= 10x Python: {ok(dec_ratio >= 10)} ({dec_ratio:.1f}x, CPU {dec_cpu:.1f}x); "
          f"encode (no target): {enc_ratio:.1f}x, CPU {enc_cpu:.1f}x; "
          f"single message <= 0.5x protoc (means): {ok(single <= 0.5)} (hyperfine {single:.2f}x, "
          f"medians {c['median'] / p['median']:.2f}x{'' if est is None else f', sh start removed {est:.2f}x'}; "
          f"direct spawn {spawn_ratio:.2f}x, "
          f"CPU {spc['cpu_mean'] / spp['cpu_mean']:.2f}x); "
          f"RSS at 16x the lines: decode {growth:.2f}x, encode {egrowth:.2f}x; "
          f"correctness: {'PASS' if cd['mismatches'] == 0 and ce['mismatches'] == 0 else 'FAIL'}")


def main():
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "info":
        return cmd_info()
    if cmd == "decode":
        return cmd_decode(*args)
    if cmd == "encode":
        return cmd_encode(*args)
    if cmd == "run":
        return cmd_run(args[0], args[1], args[2:])
    if cmd == "compare-json":
        return cmd_compare_json(*args)
    if cmd == "compare-hex":
        return cmd_compare_hex(*args)
    if cmd == "spawnbench":
        return cmd_spawnbench(*args)
    if cmd == "report":
        return cmd_report(*args)
    sys.exit(f"unknown command {cmd}")


if __name__ == "__main__":
    sys.exit(main() or 0)
