#!/usr/bin/env python3
"""Inputs, Python peers, checks and the report for benches/hostile_sizes.sh
(issue 8, item 3: every command linear in its input, peak memory a small
multiple of the largest message).

Generators (each prints one JSON line describing what it wrote):
  hostile_gen.py repeated BYTES OUT.bin [SHAPE]  field 1 repeated: {1: i % 128} (small), or
                                                 {1: i, 2: "FL", 3: fixed32 kPa} (tyre)
  hostile_gen.py pretty BYTES LINES OUT.json ONE_LINE.json
                                                 one cvp.VehicleTelemetryMessage as JSON, indent 2
                                                 (`jq .` style), `signals` map + `tires` list sized to
                                                 about BYTES and LINES; the same value on one line
  hostile_gen.py tires N OUT.bin                 cvp.VehicleTelemetryMessage with N tires {"F", kpa}
  hostile_gen.py nested BYTES DEPTH OUT.bin OUT.proto
                                                 DEPTH levels in field 1, each level: 1: next level,
                                                 then varints (2) and strings (3) making up BYTES;
                                                 OUT.proto is a schema for it (the check's reference)
  hostile_gen.py huge HEX_BYTES OUT.hex          one hex line: a cvp.VehicleTelemetryMessage whose
                                                 raw_can_frame (23) holds about HEX_BYTES/2 bytes,
                                                 written in chunks (never whole in memory)
Peers (whole processes, timed by the caller):
  hostile_gen.py py-encode DESC_SET TYPE IN.json OUT.hex      json_format.Parse + SerializeToString
  hostile_gen.py py-decode DESC_SET TYPE IN.bin OUT text|json FromString + text_format / MessageToJson
Checks (print {"ok": bool, "detail": str}; exit 0 either way, the report shows them):
  hostile_gen.py check-raw-text COMMANDER.txt PROTOC.txt    equal once `  # ...` comments are removed
  hostile_gen.py check-raw-json OUT N                       field "1" holds N entries (json or jsonl)
  hostile_gen.py check-encode DESC_SET TYPE PY.hex CMD.hex [CMD2.hex]
  hostile_gen.py check-text A.txt B.txt                     byte-identical
  hostile_gen.py check-json DESC_SET TYPE COMMANDER.json PYTHON.json N
  hostile_gen.py check-table OUT.txt N                      a table with N tire rows
  hostile_gen.py check-nested COMMANDER.txt SCHEMA_PROTOC.txt DEPTH
  hostile_gen.py check-huge-json SHA256 LEN < commander -o json output (streamed)
  hostile_gen.py check-huge-table OUT.txt LEN
Report:
  hostile_gen.py report RESULTS.jsonl OUT.md
"""
import base64
import hashlib
import json
import os
import random
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))


# ---------------------------------------------------------------- wire helpers

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


def key(field, wire):
    return varint(field << 3 | wire)


def ld(field, data):
    return key(field, 2) + varint(len(data)) + data


def header_fields():
    """A realistic VehicleTelemetryMessage header (fields 1-11)."""
    return (ld(1, b"8f14e45f-ceea-467f-a0e6-2d2a1b1f3c5e") + ld(3, b"MH12VF1121") + key(4, 0) + varint(3)
            + key(8, 0) + varint(3) + ld(9, key(1, 0) + varint(1714557600)) + key(11, 0) + varint(424242))


def say(obj):
    print(json.dumps(obj))


# ---------------------------------------------------------------- generators

def gen_repeated(nbytes, out, shape="small"):
    """Field 1 repeated until the message reaches nbytes. shape "small": each a
    4-byte sub-message {1: i % 128} (a list of ids; many entries per byte, where
    the old binary was quadratic); "tyre": {1: i, 2: "FL", 3: fixed32 kPa},
    15-17 bytes, as a tyre reading would be."""
    n = 0
    size = 0
    with open(out, "wb") as f:
        parts = []
        while size < nbytes:
            if shape == "small":
                entry = ld(1, key(1, 0) + varint(n % 128))
            elif shape == "tyre":
                entry = ld(1, key(1, 0) + varint(n) + ld(2, b"FL") + key(3, 5)
                           + struct.pack("<f", 220 + (n % 64) * 0.25))
            else:
                sys.exit(f"unknown shape {shape}")
            parts.append(entry)
            size += len(entry)
            n += 1
            if len(parts) >= 65536:
                f.write(b"".join(parts))
                parts = []
        f.write(b"".join(parts))
    say({"bytes": size, "entries": n})


def telemetry_value(signals, tires):
    v = {
        "message_id": "8f14e45f-ceea-467f-a0e6-2d2a1b1f3c5e",
        "vehicle_id": "MH12VF1121",
        "type": "TELEMETRY",
        "version": 3,
        "time_stamp": "2024-05-01T10:00:00Z",
        "sequence": "424242",
        "speed_kph": 62.5,
        "odometer_km": 48213.7,
        "ignition": "ON",
        "tires": [{"position": ("FL", "FR", "RL", "RR")[i % 4], "kpa": 220 + (i % 64) * 0.25, "temp_c": 15 + i % 30}
                  for i in range(tires)],
        "signals": {f"sig{i:06d}": round((i * 37 % 100000) * 0.01, 2) for i in range(signals)},
    }
    return v


def pretty_cost(signals, tires):
    text = json.dumps(telemetry_value(signals, tires), indent=2)
    return len(text.encode()) + 1, text.count("\n") + 1


def gen_pretty(nbytes, lines, out_pretty, out_line):
    """Solves for the number of signals (one line each) and tires (five lines each)
    that give about `nbytes` bytes over about `lines` lines, indent 2 as `jq .`
    prints; falls back to signals alone when no mix fits."""
    b0, l0 = pretty_cost(0, 0)
    bs, ls = pretty_cost(1000, 0)
    bt, lt = pretty_cost(0, 1000)
    bs, ls, bt, lt = (bs - b0) / 1000, (ls - l0) / 1000, (bt - b0) / 1000, (lt - l0) / 1000
    B, L = nbytes - b0, lines - l0
    det = bs * lt - bt * ls
    s = (B * lt - bt * L) / det
    t = (bs * L - B * ls) / det
    if s < 0 or t < 0:
        s, t = B / bs, 0
    s, t = int(round(s)), int(round(t))
    v = telemetry_value(s, t)
    text = json.dumps(v, indent=2) + "\n"
    with open(out_pretty, "w") as f:
        f.write(text)
    one = json.dumps(v, separators=(",", ":")) + "\n"
    with open(out_line, "w") as f:
        f.write(one)
    say({"bytes": len(text.encode()), "lines": text.count("\n"), "line_bytes": len(one.encode()),
         "signals": s, "tires": t})


def gen_tires(n, out):
    body = bytearray(header_fields())
    for i in range(n):
        t = ld(1, b"F") + key(2, 5) + struct.pack("<f", 220 + (i % 64) * 0.25)
        body += ld(20, t)
    body += key(24, 0) + varint(7)
    with open(out, "wb") as f:
        f.write(body)
    say({"bytes": len(body), "entries": n})


def gen_nested(nbytes, depth, out, proto_out):
    """A chain of `depth` messages in field 1; every level carries the same share
    of the payload (varints in field 2, short strings in field 3) after its
    child, so a decoder that re-reads a sub-message's bytes at each level (to
    guess whether they are a message) does depth x the work. Field order on the
    wire is field-number order, so a schema-aware printer prints it in the same
    order as a raw one."""
    per_level = max(0, nbytes // depth)

    def payload(level):
        # Pairs of (2: varint, 3: "lvlNNN:iiiiii"); about 20 bytes per pair.
        nums, strs = bytearray(), bytearray()
        i, size = 0, 0
        while size < per_level:
            a = key(2, 0) + varint(level * 1_000_003 + i)
            b = ld(3, b"lvl%03d:%06d" % (level, i))
            nums += a
            strs += b
            size += len(a) + len(b)
            i += 1
        return bytes(nums + strs)

    # Sizes bottom-up, then write top-down (no level is built whole with its children).
    payloads = [payload(k) for k in range(depth)]
    sizes = [0] * depth
    inner = 0
    for k in range(depth - 1, -1, -1):
        sizes[k] = (ld_len(1, inner) if k < depth - 1 else 0) + len(payloads[k])
        inner = sizes[k]
    with open(out, "wb") as f:
        for k in range(depth):
            if k < depth - 1:
                f.write(key(1, 2) + varint(sizes[k + 1]))
        # The innermost level's payload first, then each outer level's after its child.
        for k in range(depth - 1, -1, -1):
            f.write(payloads[k])
    with open(proto_out, "w") as f:
        f.write('syntax = "proto2";\n'
                "message Node {\n  optional Node child = 1;\n  repeated uint64 n = 2;\n  repeated string s = 3;\n}\n")
    say({"bytes": sizes[0], "depth": depth, "payload_per_level": len(payloads[0])})


def ld_len(field, n):
    return len(key(field, 2)) + len(varint(n)) + n


def gen_huge(hex_bytes, out):
    """One hex line: header, raw_can_frame (23) of about hex_bytes/2 bytes, trip_id.
    The payload is a 1 MiB pseudo-random block repeated; its SHA-256 is printed
    so the JSON output can be checked by streaming."""
    head = header_fields()
    tail = key(24, 0) + varint(7)
    payload_len = max(0, hex_bytes // 2 - len(head) - len(tail) - 2 - 5)
    block = random.Random(8).randbytes(1 << 20)
    block_hex = block.hex().encode()
    sha = hashlib.sha256()
    with open(out, "wb", buffering=1 << 22) as f:
        f.write(head.hex().encode())
        f.write((key(23, 2) + varint(payload_len)).hex().encode())
        left = payload_len
        while left >= len(block):
            f.write(block_hex)
            sha.update(block)
            left -= len(block)
        f.write(block[:left].hex().encode())
        sha.update(block[:left])
        f.write(tail.hex().encode())
        f.write(b"\n")
    size = len(head) + len(key(23, 2) + varint(payload_len)) + payload_len + len(tail)
    say({"hex_bytes": os.path.getsize(out), "bytes": size, "payload": payload_len, "sha256": sha.hexdigest()})


# ---------------------------------------------------------------- Python peers

def message_class(desc_set, full_name):
    sys.path.insert(0, HERE)
    from pybench import message_class as mc  # the same construction as benches/throughput.sh

    return mc(desc_set, full_name)


def py_encode(desc_set, full_name, path, out):
    from google.protobuf import json_format

    cls = message_class(desc_set, full_name)
    with open(path) as f:
        m = json_format.Parse(f.read(), cls())
    with open(out, "w") as f:
        f.write(m.SerializeToString().hex())
        f.write("\n")


def py_decode(desc_set, full_name, path, out, fmt):
    from google.protobuf import json_format, text_format

    cls = message_class(desc_set, full_name)
    with open(path, "rb") as f:
        m = cls.FromString(f.read())
    with open(out, "w") as f:
        if fmt == "text":
            f.write(text_format.MessageToString(m))
        else:
            f.write(json_format.MessageToJson(m, preserving_proto_field_name=True))
            f.write("\n")


# ---------------------------------------------------------------- checks

def result(ok, detail):
    say({"ok": bool(ok), "detail": detail})


def strip_comment(line):
    # commander's raw text adds `  # ...` after a value; protoc's escapes never
    # contain `  #` outside a quoted string, and the strings here have none.
    i = line.find("  # ")
    return line[:i] if i >= 0 else line


def first_diff(a_lines, b_lines):
    for i, (x, y) in enumerate(zip(a_lines, b_lines)):
        if x != y:
            return f"line {i + 1}: {x[:80]!r} != {y[:80]!r}"
    return f"{len(a_lines)} lines != {len(b_lines)} lines"


def check_raw_text(cmd, ref):
    a = [strip_comment(l.rstrip("\n")) for l in open(cmd)]
    b = [l.rstrip("\n") for l in open(ref)]
    comments = sum(1 for l in open(cmd) if "  # " in l)
    if a == b:
        return result(True, f"= protoc --decode_raw, {len(a):,} lines ({comments:,} `#` readings removed)")
    return result(False, "differs from protoc --decode_raw: " + first_diff(a, b))


def check_raw_json(path, n):
    n = int(n)
    text = open(path).read()
    docs = [json.loads(l) for l in text.splitlines() if l.strip()] if path.endswith(".jsonl") else [json.loads(text)]
    if len(docs) != 1:
        return result(False, f"{len(docs)} JSON values, want 1")
    got = len(docs[0].get("1", []))
    return result(got == n, f"{got:,} entries in \"1\" (want {n:,})")


def check_encode(desc_set, full_name, py_hex, *cmd_hexes):
    cls = message_class(desc_set, full_name)
    want = cls.FromString(bytes.fromhex(open(py_hex).read().strip()))
    hexes = [open(h).read().strip() for h in cmd_hexes]
    for h, text in zip(cmd_hexes, hexes):
        if text.count("\n"):
            return result(False, f"{os.path.basename(h)}: more than one message")
        got = cls.FromString(bytes.fromhex(text))
        if got != want:
            return result(False, f"{os.path.basename(h)}: not the message Python parsed")
    if len(set(hexes)) != 1:
        return result(False, "pretty and one-line inputs gave different bytes")
    same_bytes = "byte-identical" if hexes[0] == open(py_hex).read().strip() else "same message (map order differs)"
    return result(True, f"{len(hexes[0]) // 2:,} bytes; = Python's message, {same_bytes}"
                  + ("; pretty = one-line bytes" if len(hexes) > 1 else ""))


def check_text(a, b, what):
    x, y = open(a).read(), open(b).read()
    if x == y:
        return result(True, f"= {what}, {x.count(chr(10)):,} lines")
    return result(False, f"differs from {what}: " + first_diff(x.splitlines(), y.splitlines()))


def check_json(desc_set, full_name, cmd, py, n):
    sys.path.insert(0, HERE)
    from pybench import same

    a, b = json.load(open(cmd)), json.load(open(py))
    notes = {"float_format": 0, "float32_repr": 0}
    diffs = same(a, b, "$", notes)
    tires = len(a.get("tires", []))
    ok = not diffs and tires == int(n)
    return result(ok, (f"{tires:,} tires; = Python MessageToJson" if ok else
                       f"{tires:,} tires (want {int(n):,}); " + "; ".join(diffs[:3])))


def check_table(path, n):
    n = int(n)
    rows = sum(1 for l in open(path) if "┆ tires[" in l)
    lines = sum(1 for _ in open(path))
    # One "tires[i]" row per tire in the top table.
    return result(rows == n, f"{lines:,} table lines, {rows:,} tire rows (want {n:,})")


def check_nested(cmd, ref, depth):
    names = {"child {": "1 {", "n: ": "2: ", "s: ": "3: "}

    def renumber(line):
        body = line.lstrip(" ")
        for k, v in names.items():
            if body.startswith(k):
                return line[: len(line) - len(body)] + v + body[len(k):]
        return line

    a = [strip_comment(l.rstrip("\n")) for l in open(cmd)]
    b = [renumber(l.rstrip("\n")) for l in open(ref)]
    deepest = max((len(l) - len(l.lstrip(" "))) // 2 for l in a) + 1
    if a == b and deepest == int(depth):
        return result(True, f"= protoc --decode with a schema (fields renumbered), {len(a):,} lines, "
                            f"{deepest} levels")
    return result(False, f"{deepest} levels (want {depth}); " + ("" if a == b else first_diff(a, b)))


def check_huge_json(sha, length):
    """Streams commander's -o json from stdin: finds raw_can_frame's base64 and
    compares its decoded SHA-256 and length with the generator's."""
    inp = sys.stdin.buffer
    marker = b'"raw_can_frame": "'
    buf = b""
    total = 0
    # Find the marker.
    while True:
        chunk = inp.read(1 << 20)
        if not chunk:
            return result(False, "no raw_can_frame in the output")
        total += len(chunk)
        buf += chunk
        i = buf.find(marker)
        if i >= 0:
            buf = buf[i + len(marker):]
            break
        buf = buf[-len(marker):]
    h = hashlib.sha256()
    n = 0
    pending = b""
    done = False
    while not done:
        j = buf.find(b'"')
        if j >= 0:
            data, done = pending + buf[:j], True
        else:
            data = pending + buf
        cut = len(data) - len(data) % 4 if not done else len(data)
        raw = base64.b64decode(data[:cut], validate=True)
        h.update(raw)
        n += len(raw)
        pending = data[cut:]
        if done:
            break
        buf = inp.read(1 << 22)
        total += len(buf)
        if not buf:
            return result(False, "raw_can_frame's string never ends")
    while True:  # drain
        chunk = inp.read(1 << 22)
        if not chunk:
            break
        total += len(chunk)
    ok = h.hexdigest() == sha and n == int(length)
    return result(ok, f"raw_can_frame: {n:,} bytes, SHA-256 {'matches' if ok else 'DIFFERS'}; "
                      f"{total / 1e6:,.0f} MB of JSON")


def check_huge_table(path, length):
    """The table shows every field, the long bytes capped with their full length."""
    text = open(path, errors="replace").read()
    ok = "raw_can_frame" in text and "trip_id" in text and f"({int(length)} bytes)" in text
    return result(ok, f"{len(text.splitlines())} lines, {len(text):,} bytes of table; raw_can_frame (its length) "
                      f"and trip_id {'shown' if ok else 'MISSING'}")


# ---------------------------------------------------------------- report

def fmt_run(runs):
    """'s / MB' of a set of runs of one command: median wall time of the runs that
    finished, peak RSS the largest seen (GNU time %M KiB -> MB of 10^6 bytes)."""
    if not runs:
        return ""
    bad = [r for r in runs if r["status"] != "ok"]
    if bad:
        r = bad[0]
        mb = r["kib"] * 1024 / 1e6
        if r["status"] == "timeout":
            return f"> {r['limit']:g} s (killed; {mb:,.0f} MB by then)"
        if r["status"] == "memory":
            return f"out of memory (limit {r['mem_limit_mb']:,} MB) after {r['wall']:.1f} s"
        return f"failed (exit {r['rc']}) after {r['wall']:.1f} s, {mb:,.0f} MB"
    walls = sorted(r["wall"] for r in runs)
    k = len(walls) // 2
    med = walls[k] if len(walls) % 2 else (walls[k - 1] + walls[k]) / 2
    mb = max(r["kib"] for r in runs) * 1024 / 1e6
    return f"{med:.2f} s / {mb:,.1f} MB"


def human(n):
    if n >= 1e9:
        return f"{n / 1e9:.2f} GB"
    if n >= 1e6:
        return f"{n / 1e6:.1f} MB"
    return f"{n / 1e3:.0f} KB"


def report(path, out):
    recs = [json.loads(l) for l in open(path)]
    env = next(r for r in recs if r["tag"] == "env")
    rows = [r for r in recs if r["tag"] == "row"]
    runs = {}
    for r in recs:
        if r["tag"] == "run":
            runs.setdefault((r["row"], r["tool"]), []).append(r)
    checks = {r["row"]: r for r in recs if r["tag"] == "check"}
    lines = []
    w = lines.append
    w(f"Measured with `benches/hostile_sizes.sh`{' (QUICK=1)' if env['quick'] else ''} on {env['nproc']} cores "
      f"({env['cpu']}), {env['date']}. Times: median of {env['repeats']} whole-process run{'s' if env['repeats'] > 1 else ''} (the old binary once, "
      f"killed after {env['old_timeout']:g} s); memory: peak RSS (GNU time `%M`), the largest of the runs. "
      "MB = 10^6 bytes. Peers are whole processes too (Python: interpreter start and class building "
      "included).")
    w("")
    w(f"- commander: `{env['commander']}`; old: `{env['old']}`; protoc {env['protoc']}; Python protobuf "
      f"{env['python']['version']} ({env['python']['backend']})")
    w("")
    base_runs = runs.get(("base", "commander"), [])
    base = min(r["kib"] for r in base_runs) * 1024 if base_runs else 0
    w(f"- (RSS − start) ÷ msg: commander's peak RSS less its start-up RSS (decoding a 4-byte message: "
      f"{base / 1e6:.1f} MB), over the message's size (decode: the wire message; encode: the JSON text); "
      "shown from 1 MB on, below that the constant dominates")
    w("")
    w("| case | input | commander s / MB | (RSS − start) ÷ msg | old s / MB | peer s / MB | check |")
    w("|---|---|---|---|---|---|---|")
    last_group = None
    for r in rows:
        cm = runs.get((r["row"], "commander"), [])
        ratio = ""
        if cm and all(x["status"] == "ok" for x in cm) and r["bytes"] >= 1e6:
            ratio = f"{max(0, max(x['kib'] for x in cm) * 1024 - base) / r['bytes']:.2f}x"
        peers = []
        for name in r.get("peers", []):
            key_ = (r.get("peer_row", r["row"]), "peer:" + name)
            if key_ in runs:
                shown = fmt_run(runs[key_])
                if r.get("peer_row") and r.get("peer_row") != r["row"] and r["group"] == last_group:
                    shown = "″"
                    peers.append(f"{name}: ″")
                else:
                    peers.append(f"{name}: {shown}")
        last_group = r["group"]
        c = checks.get(r["row"])
        check = "" if c is None else ("ok: " if c["ok"] else "**FAIL**: ") + c["detail"]
        w(f"| {r['label']} | {r['input']} | {fmt_run(cm)} | {ratio} | {fmt_run(runs.get((r['row'], 'old'), []))} "
          f"| {'<br>'.join(peers) if peers else '—'} | {check} |")
    w("")
    notes = [r for r in recs if r["tag"] == "note"]
    for n in notes:
        w(f"- {n['text']}")
    text = "\n".join(lines) + "\n"
    with open(out, "w") as f:
        f.write(text)
    print(text)
    failed = [r for r in checks.values() if not r["ok"]]
    return 1 if failed else 0


def main():
    cmd, a = sys.argv[1], sys.argv[2:]
    table = {
        "repeated": lambda: gen_repeated(int(a[0]), *a[1:]),
        "pretty": lambda: gen_pretty(int(a[0]), int(a[1]), a[2], a[3]),
        "tires": lambda: gen_tires(int(a[0]), a[1]),
        "nested": lambda: gen_nested(int(a[0]), int(a[1]), a[2], a[3]),
        "huge": lambda: gen_huge(int(a[0]), a[1]),
        "py-encode": lambda: py_encode(*a),
        "py-decode": lambda: py_decode(*a),
        "check-raw-text": lambda: check_raw_text(*a),
        "check-raw-json": lambda: check_raw_json(*a),
        "check-encode": lambda: check_encode(*a),
        "check-text": lambda: check_text(*a),
        "check-json": lambda: check_json(*a),
        "check-table": lambda: check_table(*a),
        "check-nested": lambda: check_nested(*a),
        "check-huge-json": lambda: check_huge_json(*a),
        "check-huge-table": lambda: check_huge_table(*a),
        "report": lambda: report(*a),
    }
    if cmd not in table:
        sys.exit(f"unknown command {cmd}")
    return table[cmd]()


if __name__ == "__main__":
    sys.exit(main() or 0)
