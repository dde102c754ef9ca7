#!/usr/bin/env python3
"""Driver of benches/web.sh: `commander web`'s page in headless Chromium (selenium).

  web.py freeport                        -> a free 127.0.0.1 TCP port
  web.py wait-log FILE TEXT SECONDS      -> exit 1 if TEXT is not in FILE in time
  web.py env OUT.json KEY=VALUE...       -> the run's environment as a JSON object
  web.py run --bin B --broker URL --data DIR --env ENV.json --chromium C
             --chromedriver D --corpus DIR
        every measurement (web.sh says which); results.json (and live-raw.json) in DIR;
        exit 2 when a part could not be measured
  web.py report RESULTS.json             -> the markdown report, then one JSON line;
        exit 1 when a target was missed

The knobs come from ENV.json (written by web.sh from its environment).
"""
import gzip
import json
import os
import re
import signal
import socket
import statistics
import subprocess
import sys
import time
import traceback
import urllib.request

# ---------------------------------------------------------------- small helpers


def cmd_freeport():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    print(s.getsockname()[1])
    s.close()


def cmd_wait_log(path, text, seconds):
    if not wait_for_text(path, text, float(seconds)):
        sys.exit(1)


def wait_for_text(path, text, seconds, proc=None):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            with open(path, errors="replace") as f:
                data = f.read()
            if text in data:
                return data
        except FileNotFoundError:
            pass
        if proc is not None and proc.poll() is not None:
            return None
        time.sleep(0.05)
    return None


def cmd_env(out_path, *pairs):
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


def read_json(path):
    with open(path) as f:
        return json.load(f)


def write_json(path, value):
    with open(path, "w") as f:
        json.dump(value, f, indent=1)
        f.write("\n")


def pct(sorted_values, p):
    """Nearest-rank percentile of sorted values."""
    if not sorted_values:
        return None
    k = max(0, min(len(sorted_values) - 1, int(-(-p * len(sorted_values) // 100)) - 1))
    return sorted_values[k]


def dist(values):
    v = sorted(x for x in values if x is not None)
    if not v:
        return {"n": 0}
    return {"n": len(v), "min": v[0], "median": statistics.median(v), "p95": pct(v, 95),
            "p99": pct(v, 99), "max": v[-1], "mean": statistics.fmean(v)}


def log(msg):
    print(f"[web-bench {time.strftime('%H:%M:%S')}] {msg}", file=sys.stderr, flush=True)


# ---------------------------------------------------------------- /proc

TICK = os.sysconf("SC_CLK_TCK")


def proc_stat(pid):
    """{cpu_s, ppid, vmrss_kib, vmhwm_kib} of PID, or None when it is gone."""
    try:
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        r = {"ppid": int(fields[1]), "cpu_s": (int(fields[11]) + int(fields[12])) / TICK}
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                k, _, v = line.partition(":")
                if k in ("VmHWM", "VmRSS", "RssAnon"):
                    r[k.lower() + "_kib"] = int(v.split()[0])
        return r
    except (OSError, IndexError, ValueError):
        return None


def descendants(root):
    """PIDs below ROOT (children, their children...)."""
    kids = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat") as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
        except (OSError, IndexError, ValueError):
            continue
        kids.setdefault(ppid, []).append(int(name))
    out, todo = [], [root]
    while todo:
        p = todo.pop()
        for c in kids.get(p, []):
            out.append(c)
            todo.append(c)
    return out


def chromium_kind(pid):
    """browser, renderer, gpu-process, zygote, utility NAME; None when not Chromium.
    (Chromium rewrites its command line as one string with spaces.)"""
    try:
        with open(f"/proc/{pid}/cmdline", "rb") as f:
            cmd = f.read().replace(b"\0", b" ").decode(errors="replace")
    except OSError:
        return None
    if "chrom" not in os.path.basename(cmd.split(" ", 1)[0]):
        return None
    m = re.search(r"--type=(\S+)", cmd)
    if not m:
        return "browser"
    if m.group(1) == "renderer" and "--top-chrome-webui" in cmd:
        return "renderer (browser UI)"
    if m.group(1) == "utility":
        u = re.search(r"--utility-sub-type=(\S+)", cmd)
        return "utility " + (u.group(1).split(".")[-1] if u else "?")
    return m.group(1)


def chromium_sample(driver_pid):
    """{pid: {kind, cpu_s, vmrss_kib}} of every Chromium process the driver started."""
    out = {}
    for pid in descendants(driver_pid):
        kind = chromium_kind(pid)
        st = proc_stat(pid) if kind else None
        if st:
            out[pid] = {"kind": kind, "cpu_s": st["cpu_s"], "vmrss_kib": st.get("vmrss_kib", 0),
                        "rssanon_kib": st.get("rssanon_kib", 0)}
    return out


# ---------------------------------------------------------------- processes

STARTED = []  # Popen objects this driver started, stopped in `finally`


def stop_proc(p, seconds=5.0):
    """SIGTERM, then SIGKILL after SECONDS; returns (seconds taken, exit status)."""
    if p.poll() is not None:
        return 0.0, p.returncode
    t0 = time.monotonic()
    try:
        p.send_signal(signal.SIGTERM)
        p.wait(seconds)
    except subprocess.TimeoutExpired:
        p.kill()
        p.wait()
    return time.monotonic() - t0, p.returncode


def start_web(binary, schema_args, extra, data, name):
    """`commander [schema] web --listen 127.0.0.1:0 [extra]`: (Popen, page URL)."""
    err_path = os.path.join(data, f"{name}.err")
    argv = [binary, *schema_args, "web", "--listen", "127.0.0.1:0", *extra]
    with open(err_path, "w") as err, open(os.devnull, "rb") as nul:
        p = subprocess.Popen(argv, stdin=nul, stdout=subprocess.DEVNULL, stderr=err)
    STARTED.append(p)
    text = wait_for_text(err_path, "commander web on http://", 30, p)
    m = re.search(r"commander web on (http://127\.0\.0\.1:\d+/)", text or "")
    if not m:
        raise RuntimeError(f"{name}: `{' '.join(argv)}` did not start: {open(err_path).read()[-2000:]}")
    return p, m.group(1), argv


def show_argv(argv, binary, port=None):
    s = " ".join(a if re.fullmatch(r"[-\w./:=@%+,]+", a) else "'" + a.replace("'", "'\\''") + "'"
                 for a in argv)
    s = s.replace(binary, "commander")
    if port:
        s = s.replace(str(port), "PORT")
    return s


def http_get(url):
    with urllib.request.urlopen(url, timeout=10) as r:
        return r.read(), dict(r.headers)


def server_times(url, type_name, reps=5):
    """The page's three start-up requests from a plain HTTP client (a new connection
    each): median ms to the whole answer, for the server's share of the page's times."""
    out = {"info": [], "model": [], "build": []}
    model = None
    for _ in range(reps):
        t0 = time.perf_counter()
        http_get(url + "api/info")
        out["info"].append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        body, _ = http_get(url + f"api/model?type={type_name}")
        out["model"].append((time.perf_counter() - t0) * 1000)
        model = json.loads(body)
        req = urllib.request.Request(url + "api/build", method="POST", headers={"Content-Type": "application/json"},
                                     data=json.dumps({"type": type_name, "state": model.get("start") or {},
                                                      "start": model.get("start")}).encode())
        t0 = time.perf_counter()
        with urllib.request.urlopen(req, timeout=10) as r:
            r.read()
        out["build"].append((time.perf_counter() - t0) * 1000)
    return {k: statistics.median(v) for k, v in out.items()}


# ---------------------------------------------------------------- the browser

# Before the page's own scripts, in every tab: fetch wrapped (each request's start,
# headers and body times), the moments data-ready becomes "1" and data-building
# changes (MutationObserver), long tasks.
INIT_JS = r"""
(() => {
  if (window.__bench) return;
  const B = window.__bench = { fetches: [], readyAt: null, readyFrame: null, readyPaint: null,
    longtasks: [], onBuilding: null, whenPainted: null };
  const origFetch = window.fetch;
  window.fetch = function (input, init) {
    const rec = { url: typeof input === 'string' ? input : (input && input.url) || String(input),
      start: performance.now(), headers: null, body: null, bytes: null, status: null };
    B.fetches.push(rec);
    return origFetch.call(window, input, init).then((r) => {
      rec.headers = performance.now();
      rec.status = r.status;
      const text = r.text;
      r.text = function () {
        return text.call(r).then((t) => { rec.body = performance.now(); rec.bytes = t.length; return t; });
      };
      return r;
    });
  };
  // The frame after now, and a task after that frame (its paint done).
  B.afterPaint = (cb) => requestAnimationFrame(() => {
    const f = performance.now();
    const c = new MessageChannel();
    c.port1.onmessage = () => cb(f, performance.now());
    c.port2.postMessage(0);
  });
  new MutationObserver(() => {
    const b = document.body;
    if (!b) return;
    if (B.readyAt === null && b.dataset.ready === '1') {
      B.readyAt = performance.now();
      B.afterPaint((f, p) => {
        B.readyFrame = f;
        B.readyPaint = p;
        if (B.whenPainted) B.whenPainted();
      });
    }
    if (B.onBuilding) B.onBuilding(b.dataset.building, performance.now());
  }).observe(document, { attributes: true, subtree: true, attributeFilter: ['data-ready', 'data-building'] });
  try {
    new PerformanceObserver((l) => {
      for (const e of l.getEntries()) B.longtasks.push([e.startTime, e.duration]);
    }).observe({ type: 'longtask', buffered: true });
  } catch (e) { B.longtaskError = String(e); }
})();
"""

# After navigation: until the paint after data-ready = "1", then what the page saw.
LOAD_JS = r"""
const done = arguments[arguments.length - 1];
const B = window.__bench;
const collect = (error) => {
  const nav = performance.getEntriesByType('navigation')[0];
  const paint = (n) => { const e = performance.getEntriesByName(n)[0]; return e ? e.startTime : null; };
  const sizes = (e) => ({ name: e.name, initiator: e.initiatorType || 'navigation', start: e.startTime,
    end: e.responseEnd, transfer: e.transferSize, encoded: e.encodedBodySize, decoded: e.decodedBodySize });
  done({
    error: error || (B ? null : 'no instrumentation in the page'),
    readyAt: B && B.readyAt, readyFrame: B && B.readyFrame, readyPaint: B && B.readyPaint,
    fp: paint('first-paint'), fcp: paint('first-contentful-paint'),
    nav: nav ? Object.assign(sizes(nav), { responseStart: nav.responseStart, domInteractive: nav.domInteractive,
      dcl: nav.domContentLoadedEventEnd, load: nav.loadEventEnd }) : null,
    resources: performance.getEntriesByType('resource').map(sizes),
    fetches: B ? B.fetches : [],
    type: (document.getElementById('type') || {}).value || null,
    nodes: document.getElementsByTagName('*').length,
    formNodes: document.querySelectorAll('#form *').length,
    controls: document.querySelectorAll('#form input, #form select, #form textarea').length,
    longtasks: B ? B.longtasks : [],
    problem: (() => { const p = document.getElementById('problem-banner'); return p && !p.hidden ? p.textContent.trim() : null; })(),
  });
};
if (!B) { collect(); }
else if (B.readyPaint !== null) { collect(); }
else {
  const timer = setTimeout(() => collect('not ready within 30 s'), 30000);
  B.whenPainted = () => { clearTimeout(timer); collect(); };
}
"""

# Switches #type to arguments[0] and times it: change event -> data-building 1 -> 0
# (form in the DOM, first /api/build answered and shown) -> the paint after.
SWITCH_JS = r"""
const target = arguments[0];
const done = arguments[arguments.length - 1];
const B = window.__bench;
const sel = document.getElementById('type');
if (document.body.dataset.building !== '0') { done({ error: 'a build was pending before the switch' }); return; }
if (![...sel.options].some((o) => o.value === target)) { done({ error: `no type ${target} in #type` }); return; }
const rec = { type: target };
const f0 = B.fetches.length;
let phase = 0;
const timer = setTimeout(() => { B.onBuilding = null; rec.error = 'no build within 20 s'; done(rec); }, 20000);
B.onBuilding = (v, t) => {
  if (phase === 0 && v === '1') { phase = 1; rec.armed = t - rec.t0; }
  else if (phase === 1 && v === '0') {
    phase = 2;
    rec.done = t - rec.t0;
    B.onBuilding = null;
    B.afterPaint((f, p) => {
      clearTimeout(timer);
      rec.frame = f - rec.t0;
      rec.painted = p - rec.t0;
      rec.fetches = B.fetches.slice(f0).map((x) => Object.assign({}, x, {
        start: x.start - rec.t0, headers: x.headers - rec.t0, body: x.body - rec.t0 }));
      rec.selected = sel.value;
      rec.formNodes = document.querySelectorAll('#form *').length;
      rec.controls = document.querySelectorAll('#form input, #form select, #form textarea').length;
      done(rec);
    });
  }
};
rec.t0 = performance.now();
sel.value = target;
sel.dispatchEvent(new Event('change'));
"""

# Every member of the form's oneofs picked in turn (and of the oneofs a member opens,
# down to arguments[0] levels): the change handler's synchronous DOM work, the paint.
WALK_JS = r"""
const maxDepth = arguments[0];
const maxPicks = arguments[1];
const done = arguments[arguments.length - 1];
const B = window.__bench;
const out = [];
const nextPaint = () => new Promise((res) => B.afterPaint((f, p) => res([f, p])));
const topSelects = (container, holder) => [...container.querySelectorAll('select.oneof-pick')]
  .filter((s) => s.parentElement.closest('.oneof-body') === holder);
async function walk(container, holder, depth, via) {
  for (const s of topSelects(container, holder)) {
    const wrap = s.closest('.oneof-wrap');
    const body = wrap.querySelector(':scope > .oneof-body');
    const members = [...s.options].map((o) => o.value).filter((v) => v !== '');
    for (const m of members) {
      if (out.length >= maxPicks) return;
      const t0 = performance.now();
      s.value = m;
      s.dispatchEvent(new Event('change'));
      const t1 = performance.now();
      const [f, p] = await nextPaint();
      out.push({ path: s.dataset.path, member: m, via, depth, sync: t1 - t0, frame: f - t0, paint: p - t0,
        nodes: body.getElementsByTagName('*').length,
        controls: body.querySelectorAll('input, select, textarea').length });
      if (depth < maxDepth) await walk(body, body, depth + 1, via ? `${via} > ${m}` : m);
    }
    s.value = '';
    s.dispatchEvent(new Event('change'));
    await nextPaint();
  }
}
walk(document.getElementById('fields'), null, 1, '').then(
  () => done({ picks: out }),
  (e) => done({ picks: out, error: String(e && e.stack || e) }));
"""

# The live view. A sampler (heap, rows, counters every arguments[0] s) from before the
# fleet starts to the end; then, for the measurement window, every animation frame's
# gap and the lag of the rows each table update adds.
LIVE_SAMPLER_JS = r"""
const every = arguments[0];
const L = window.__live = { samples: [], frames: [], updates: [], on: false, maxRows: 0 };
const tb = document.querySelector('#live-table tbody');
const cnt = document.getElementById('live-count');
L.sample = () => {
  const m = performance.memory || {};
  L.samples.push({ t: performance.now(), wall: Date.now(), heap: m.usedJSHeapSize, heapTotal: m.totalJSHeapSize,
    rows: tb.childElementCount, nodes: document.getElementsByTagName('*').length,
    received: +cnt.dataset.received || 0, shown: +cnt.dataset.shown || 0, dropped: +cnt.dataset.dropped || 0 });
};
L.sample();
L.timer = setInterval(L.sample, every * 1000);
const tms = (s) => {
  const m = /^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(?:\.(\d+))?Z$/.exec(s || '');
  return m ? Date.parse(`${m[1]}Z`) + (m[2] ? Number(`0.${m[2]}`) * 1000 : 0) : NaN;
};
const stampRe = /"time_stamp":"([^"]+)"/;
L.mo = new MutationObserver((recs) => {
  const rows = tb.childElementCount;
  if (rows > L.maxRows) L.maxRows = rows;
  if (!L.on) return;
  const now = Date.now();
  let newest = null;
  let oldest = null;
  let added = 0;
  for (const r of recs) {
    for (const n of r.addedNodes) {
      if (n.nodeType !== 1 || !n._m) continue;
      added++;
      if (!newest) newest = n._m;
      oldest = n._m;
    }
  }
  if (!newest) return;
  const st = stampRe.exec(newest.json || '');
  L.updates.push([performance.now(), added, now - tms(newest.time), now - tms(oldest.time),
    st ? now - tms(st[1]) : null, rows]);
});
L.mo.observe(tb, { childList: true });
return L.samples[0];
"""

LIVE_WINDOW_JS = r"""
const L = window.__live;
L.on = true;
L.w0 = performance.now();
L.lt0 = window.__bench.longtasks.length;
let last = null;
const loop = (ts) => {
  if (!L.on) return;
  if (last !== null) L.frames.push(Math.round((ts - last) * 1000) / 1000);
  last = ts;
  requestAnimationFrame(loop);
};
requestAnimationFrame(loop);
L.sample();
return L.w0;
"""

LIVE_WINDOW_END_JS = r"""
const L = window.__live;
L.on = false;
L.w1 = performance.now();
L.sample();
const lt = window.__bench.longtasks.filter((x) => x[0] >= L.w0 && x[0] < L.w1);
return { w0: L.w0, w1: L.w1, frames: L.frames, updates: L.updates, longtasks: lt,
  longtaskError: window.__bench.longtaskError || null, maxRows: L.maxRows,
  visibility: document.visibilityState };
"""

LIVE_END_JS = r"""
const L = window.__live;
clearInterval(L.timer);
L.sample();
L.mo.disconnect();
const cnt = document.getElementById('live-count');
return { samples: L.samples, maxRows: L.maxRows, countText: cnt.textContent,
  status: document.getElementById('live-status').textContent,
  note: document.getElementById('live-note').textContent };
"""


class Browser:
    def __init__(self, chromium, chromedriver, data, window):
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        self.data = data
        self.profile = os.path.join(data, "chromium-profile")
        self.flags = ["--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                      "--enable-precise-memory-info", f"--window-size={window.replace('x', ',')}",
                      "--no-first-run", "--no-default-browser-check", "--disable-extensions",
                      "--disable-background-networking", "--disable-component-update",
                      "--disable-sync", "--metrics-recording-only", "--password-store=basic"]
        opts = webdriver.ChromeOptions()
        opts.binary_location = chromium
        for a in self.flags + [f"--user-data-dir={self.profile}"]:
            opts.add_argument(a)
        # Its own process group: the Chromium processes join it, and `quit` can
        # make sure none is left.
        self.service = Service(executable_path=chromedriver,
                               log_output=os.path.join(data, "chromedriver.log"),
                               popen_kw={"start_new_session": True})
        self.driver = webdriver.Chrome(options=opts, service=self.service)
        self.pid = self.service.process.pid
        self.driver.set_script_timeout(300)
        self.driver.set_page_load_timeout(60)
        self.main = self.driver.current_window_handle
        caps = self.driver.capabilities
        self.version = f"{caps.get('browserName')} {caps.get('browserVersion')}"

    def new_tab(self):
        """A new tab, instrumented, made current."""
        self.driver.switch_to.new_window("tab")
        self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": INIT_JS})
        return self.driver.current_window_handle

    def close_tab(self):
        if self.driver.current_window_handle != self.main:
            self.driver.close()
        self.driver.switch_to.window(self.main)

    def load(self, url):
        """A cold load in a new tab: what LOAD_JS reports, plus the wall time of get()."""
        self.new_tab()
        t0 = time.perf_counter()
        self.driver.get(url)
        r = self.driver.execute_async_script(LOAD_JS)
        r["get_s"] = time.perf_counter() - t0
        return r

    def quit(self):
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001  (already gone)
            pass
        # Whatever of the group is left (the driver and its browsers).
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            try:
                os.killpg(self.pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        try:
            os.killpg(self.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


# ---------------------------------------------------------------- measurements

def fetch_of(rec, part):
    """The first fetch whose URL has PART: {start, headers, body, bytes}."""
    for f in rec.get("fetches") or []:
        if part in f["url"]:
            return f
    return None


def load_summary(r):
    """The figures of one cold load (ms from navigation start)."""
    out = {k: r.get(k) for k in ("fcp", "fp", "readyAt", "readyFrame", "readyPaint", "type",
                                 "nodes", "formNodes", "controls", "error", "problem")}
    nav = r.get("nav") or {}
    out["dcl"] = nav.get("dcl")
    out["responseEnd"] = nav.get("end")
    for name, part in (("info", "/api/info"), ("model", "/api/model"), ("build", "/api/build")):
        f = fetch_of(r, part)
        if f and f.get("body") is not None:
            out[f"{name}_start"] = f["start"]
            out[f"{name}_ms"] = f["body"] - f["start"]
            out[f"{name}_bytes"] = f["bytes"]
    m, b = fetch_of(r, "/api/model"), fetch_of(r, "/api/build")
    if m and b and m.get("body") is not None:
        # Model JSON parsed, form rendered, then the build request (setTimeout 0).
        out["render_ms"] = b["start"] - m["body"]
    if b and b.get("body") is not None and r.get("readyAt") is not None:
        out["show_build_ms"] = r["readyAt"] - b["body"]
    lt = r.get("longtasks") or []
    out["longtasks"] = len(lt)
    out["longtask_max"] = max((d for _, d in lt), default=0)
    out["get_s"] = r.get("get_s")
    return out


def measure_weight(url, first_load):
    files = []
    for path in ("", "app.js", "style.css"):
        body, headers = http_get(url + path)
        files.append({"path": "/" + path, "raw": len(body), "gzip6": len(gzip.compress(body, 6)),
                      "content_type": headers.get("content-type") or headers.get("Content-Type"),
                      "content_encoding": headers.get("content-encoding") or headers.get("Content-Encoding")})
    fetched = []
    nav = first_load.get("nav")
    if nav:
        fetched.append(nav)
    fetched += first_load.get("resources") or []
    for f in fetched:
        f["short"] = re.sub(r"^https?://[^/]+", "", f["name"])
    return {"files": files, "fetched": fetched}


def measure_form(br, binary, spec, runs, data, broker):
    name, schema_args, target = spec["name"], spec["schema_args"], spec["type"]
    res = {"name": name, "type": target}
    p, url, argv = start_web(binary, schema_args, ["-m", target, "--broker", broker], data, f"web-{name}")
    res["cmd"] = show_argv(argv, binary)
    res["model_bytes"] = len(http_get(url + f"api/model?type={target}")[0])
    res["server"] = server_times(url, target)
    try:
        loads = []
        for i in range(runs):
            r = br.load(url)
            br.close_tab()
            s = load_summary(r)
            loads.append(s)
            if s.get("error"):
                raise RuntimeError(f"{name}: cold load {i + 1}: {s['error']}")
            if s.get("type") != target:
                raise RuntimeError(f"{name}: the page started with {s.get('type')}, not {target}")
        res["cold"] = loads
        # Switches, in one tab: to the first other type, then to the target (timed).
        r = br.load(url)
        if r.get("error"):
            raise RuntimeError(f"{name}: the page for the switches: {r['error']}")
        types = br.driver.execute_script("return [...document.getElementById('type').options].map((o) => o.value)")
        other = next(t for t in types if t and t != target)
        res["from"] = other
        switches = []
        for i in range(runs):
            a = br.driver.execute_async_script(SWITCH_JS, other)
            if a.get("error"):
                raise RuntimeError(f"{name}: switch to {other}: {a['error']}")
            s = br.driver.execute_async_script(SWITCH_JS, target)
            if s.get("error"):
                raise RuntimeError(f"{name}: switch to {target}: {s['error']}")
            m, b = fetch_of(s, "/api/model"), fetch_of(s, "/api/build")
            s["model_ms"] = m["body"] - m["start"] if m else None
            s["build_ms"] = b["body"] - b["start"] if b else None
            s["render_ms"] = b["start"] - m["body"] if m and b else None
            s["show_build_ms"] = s["done"] - b["body"] if b else None
            s["network_ms"] = (s["model_ms"] or 0) + (s["build_ms"] or 0)
            s["page_ms"] = s["done"] - s["network_ms"]
            switches.append(s)
        res["switch"] = switches
        w = br.driver.execute_async_script(WALK_JS, 2, 3000)
        res["walk"] = w
        if w.get("error"):
            raise RuntimeError(f"{name}: oneof walk: {w['error']}")
        br.close_tab()
    finally:
        res["web_stop"] = stop_proc(p)
    return res


def measure_live(br, binary, env, broker, data):
    duration, n_veh, warmup, every = env["duration"], env["n_vehicles"], env["warmup"], env["sample"]
    res = {}
    p, url, argv = start_web(binary, [], ["--broker", broker], data, "web-live")
    res["web_cmd"] = show_argv(argv, binary, broker.rsplit(":", 1)[1])
    sim = None
    try:
        r = br.load(url)
        if r.get("error"):
            raise RuntimeError(f"live: the page: {r['error']}")
        d = br.driver
        d.execute_script("document.getElementById('tab-live').click()")
        t0 = time.monotonic()
        status = ""
        while time.monotonic() - t0 < 20:
            status = d.execute_script("return document.getElementById('live-status').textContent")
            if status.startswith("subscribed"):
                break
            time.sleep(0.1)
        else:
            raise RuntimeError(f"live: the Live tab did not subscribe: {status!r}")
        res["subscribed"] = status
        res["filters"] = d.execute_script(
            "return [...document.querySelectorAll('#live-filters .live-filter')].map((i) => i.value)")
        time.sleep(1)
        res["idle_sample"] = d.execute_script(LIVE_SAMPLER_JS, every)
        web0 = proc_stat(p.pid)

        sim_argv = [binary, "simulate", "--broker", broker, "--vehicles", str(n_veh), "-o", "jsonl",
                    "--client-id", "web-bench-sim", "--seed", "1"]
        res["sim_cmd"] = show_argv(sim_argv, binary, broker.rsplit(":", 1)[1])
        sim_err = os.path.join(data, "sim.err")
        with open(sim_err, "w") as err, open(os.devnull, "rb") as nul:
            sim = subprocess.Popen(sim_argv, stdin=nul, stdout=subprocess.DEVNULL, stderr=err)
        STARTED.append(sim)
        if not wait_for_text(sim_err, '"simulating ', 30, sim):
            raise RuntimeError(f"live: the simulator did not start: {open(sim_err).read()[-2000:]}")
        log(f"live: {n_veh} simulated vehicles; warm-up {warmup} s, then {duration} s of measurement")
        time.sleep(warmup)

        d.execute_script(LIVE_WINDOW_JS)
        w0 = time.time()
        procs = [{"t": w0, "web": proc_stat(p.pid), "chromium": chromium_sample(br.pid)}]
        while True:
            left = w0 + duration - time.time()
            if left <= 0:
                break
            time.sleep(min(every, left))
            procs.append({"t": time.time(), "web": proc_stat(p.pid), "chromium": chromium_sample(br.pid)})
        win = d.execute_script(LIVE_WINDOW_END_JS)
        w1 = time.time()
        procs.append({"t": w1, "web": proc_stat(p.pid), "chromium": chromium_sample(br.pid)})

        stop_s, rc = stop_proc(sim, 10)
        res["sim_stop"] = {"stop_s": stop_s, "rc": rc}
        done = None
        with open(sim_err, errors="replace") as f:
            for line in f:
                try:
                    ev = json.loads(line)
                except ValueError:
                    continue
                if ev.get("event") == "done":
                    done = ev
        res["sim_done"] = done
        # Drain: until the tab's count has not moved for 2 s (30 s at most).
        last, still, t0 = None, time.monotonic(), time.monotonic()
        while time.monotonic() - t0 < 30:
            c = d.execute_script("const c = document.getElementById('live-count').dataset;"
                                 "return [+c.received || 0, +c.dropped || 0]")
            if c != last:
                last, still = c, time.monotonic()
            elif time.monotonic() - still >= 2:
                break
            time.sleep(0.25)
        end = d.execute_script(LIVE_END_JS)
        web_end = proc_stat(p.pid)
        res.update({"w0": w0, "w1": w1, "web0": web0, "web_end": web_end, "procs": procs,
                    "window": {k: v for k, v in win.items() if k not in ("frames", "updates")},
                    "end": end})
        write_json(os.path.join(data, "live-raw.json"),
                   {"frames": win["frames"], "updates": win["updates"], "samples": end["samples"],
                    "procs": procs})
        res["frames"] = win["frames"]
        res["updates"] = win["updates"]
        br.close_tab()
    finally:
        if sim is not None and sim.poll() is None:
            stop_proc(sim, 10)
        res["web_stop"] = stop_proc(p)
    return res


def analyze_live(raw, env):
    out = {}
    frames = raw.pop("frames", [])
    updates = raw.pop("updates", [])
    win = raw["window"]
    dur_ms = win["w1"] - win["w0"]
    fd = dist(frames)
    out["frames"] = fd
    if frames:
        period = fd["median"]
        out["frames"].update({
            "count": len(frames), "fps": len(frames) / (dur_ms / 1000),
            "over_50": sum(1 for g in frames if g > 50), "over_100": sum(1 for g in frames if g > 100),
            "missed": sum(max(0, round(g / period) - 1) for g in frames) if period else None,
            "expected": round(dur_ms / period) if period else None,
            "time_over_50_ms": sum(g for g in frames if g > 50)})
    lt = win.get("longtasks") or []
    out["longtasks"] = {"count": len(lt), "total_ms": sum(d for _, d in lt),
                        "max_ms": max((d for _, d in lt), default=0),
                        "share": sum(d for _, d in lt) / dur_ms if dur_ms else None,
                        "error": win.get("longtaskError")}
    out["updates"] = {"count": len(updates), "per_s": len(updates) / (dur_ms / 1000) if dur_ms else None,
                      "rows_added": dist([u[1] for u in updates])}
    out["lag_newest"] = dist([u[2] for u in updates])
    out["lag_oldest"] = dist([u[3] for u in updates])
    out["lag_sim"] = dist([u[4] for u in updates if u[4] is not None])
    samples = raw["end"]["samples"]
    heap = [s["heap"] for s in samples if s.get("heap")]
    out["heap"] = {"idle": samples[0].get("heap") if samples else None,
                   "start": next((s["heap"] for s in samples if s["t"] >= win["w0"]), None),
                   "peak": max(heap) if heap else None, "end": samples[-1].get("heap") if samples else None,
                   "end_window": next((s["heap"] for s in reversed(samples) if s["t"] <= win["w1"] + 1), None),
                   "series": [[round((s["t"] - win["w0"]) / 1000, 1), s.get("heap"), s["rows"], s["nodes"],
                               s["received"], s["dropped"]] for s in samples]}
    out["rows_max"] = max([raw["end"]["maxRows"]] + [s["rows"] for s in samples])
    out["nodes_max"] = max((s["nodes"] for s in samples), default=None)
    last = samples[-1] if samples else {}
    done = raw.get("sim_done") or {}
    out["counts"] = {"published": done.get("published"), "sent": done.get("sent"),
                     "acknowledged": done.get("acknowledged"), "received": last.get("received"),
                     "dropped": last.get("dropped"), "shown": last.get("shown")}
    if done.get("published") is not None and last.get("received") is not None:
        out["counts"]["lost"] = done["published"] - last["received"] - last["dropped"]
    # received in the window, from the samples nearest the window's ends
    inwin = [s for s in samples if win["w0"] - 1 <= s["t"] <= win["w1"] + 1]
    if len(inwin) >= 2:
        a, b = inwin[0], inwin[-1]
        out["rate_received"] = (b["received"] - a["received"]) / ((b["t"] - a["t"]) / 1000)
        out["rate_dropped"] = (b["dropped"] - a["dropped"]) / ((b["t"] - a["t"]) / 1000)
    # processes
    procs = raw["procs"]
    if len(procs) >= 2 and procs[0]["web"] and procs[-1]["web"]:
        a, b = procs[0], procs[-1]
        out["web_cpu_pct"] = 100 * (b["web"]["cpu_s"] - a["web"]["cpu_s"]) / (b["t"] - a["t"])
        out["web_rss_max_kib"] = max(x["web"].get("vmrss_kib", 0) for x in procs if x["web"])
    if raw.get("web_end"):
        out["web_vmhwm_kib"] = raw["web_end"].get("vmhwm_kib")
        out["web_vmrss_end_kib"] = raw["web_end"].get("vmrss_kib")
    if raw.get("web0"):
        out["web_vmrss_idle_kib"] = raw["web0"].get("vmrss_kib")
    if len(procs) >= 2:
        a, b = procs[0], procs[-1]
        span = b["t"] - a["t"]
        kinds = {}
        for pid, st in b["chromium"].items():
            before = a["chromium"].get(pid)
            used = st["cpu_s"] - (before["cpu_s"] if before else 0)
            k = kinds.setdefault(st["kind"], {"cpu_pct": 0.0, "procs": 0, "rss_kib": 0})
            k["cpu_pct"] += 100 * used / span
            k["procs"] += 1
            k["rss_kib"] += st["vmrss_kib"]
        out["chromium"] = kinds
        out["chromium_cpu_pct"] = sum(k["cpu_pct"] for k in kinds.values())
        # The tab's renderer: the renderer that worked most in the window.
        busiest, used_max = None, -1.0
        for pid, st in b["chromium"].items():
            before = a["chromium"].get(pid)
            used = st["cpu_s"] - (before["cpu_s"] if before else 0)
            if st["kind"] == "renderer" and used > used_max:
                busiest, used_max = pid, used
        if busiest is not None:
            out["tab_renderer"] = {
                "pid": busiest, "cpu_pct": 100 * used_max / span,
                "rss_max_kib": max(x["chromium"][busiest]["vmrss_kib"] for x in procs if busiest in x["chromium"]),
                "rss_start_kib": next((x["chromium"][busiest]["vmrss_kib"] for x in procs if busiest in x["chromium"]), None),
                "anon_max_kib": max(x["chromium"][busiest]["rssanon_kib"] for x in procs if busiest in x["chromium"]),
                "anon_start_kib": next((x["chromium"][busiest]["rssanon_kib"] for x in procs if busiest in x["chromium"]), None)}
    return out


# ---------------------------------------------------------------- run


def cmd_run(argv):
    import argparse

    ap = argparse.ArgumentParser(prog="web.py run")
    for a in ("--bin", "--broker", "--data", "--env", "--chromium", "--chromedriver", "--corpus"):
        ap.add_argument(a, required=True)
    a = ap.parse_args(argv)
    env = read_json(os.path.join(a.data, a.env) if not os.path.isabs(a.env) else a.env)
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    res = {"env": env, "errors": []}
    out_path = os.path.join(a.data, "results.json")
    br = None
    base = None
    failed = False

    def phase(name, fn):
        nonlocal failed
        log(name)
        t0 = time.monotonic()
        try:
            return fn()
        except Exception as e:  # noqa: BLE001  (reported, the other parts go on)
            failed = True
            res["errors"].append(f"{name}: {e}")
            with open(os.path.join(a.data, "driver.log"), "a") as f:
                f.write(f"--- {name}\n{traceback.format_exc()}\n")
            log(f"{name}: FAILED: {e}")
            return None
        finally:
            res.setdefault("phase_s", {})[name] = round(time.monotonic() - t0, 1)

    try:
        br = Browser(a.chromium, a.chromedriver, a.data, env["window"])
        res["browser"] = {"version": br.version, "flags": br.flags}
        base = start_web(a.bin, [], ["--broker", a.broker], a.data, "web-start")
        url = base[1]
        res["start_cmd"] = show_argv(base[2], a.bin, a.broker.rsplit(":", 1)[1])

        def first_render():
            loads = []
            for i in range(env["loads"]):
                r = br.load(url)
                br.close_tab()
                if i == 0:
                    res["weight"] = measure_weight(url, r)
                s = load_summary(r)
                if s.get("error"):
                    raise RuntimeError(f"cold load {i + 1}: {s['error']}")
                loads.append(s)
            res["first_render"] = loads
            res["first_render_server"] = server_times(url, loads[0]["type"])

        phase("1-2. page weight and time to first render (built-in schema)", first_render)
        res["start_web_stop"] = stop_proc(base[0])
        corpus = a.corpus
        specs = [
            {"name": "meshtastic", "type": "meshtastic.AdminMessage",
             "schema_args": ["-s", f"{corpus}/meshtastic", "-I", f"{corpus}/meshtastic"]},
            {"name": "tesla", "type": "CarServer.Action",
             "schema_args": ["-s", f"{corpus}/tesla/pkg/protocol/protobuf"]},
        ]
        res["forms"] = []
        for spec in specs:
            r = phase(f"3. form of {spec['type']}",
                      lambda spec=spec: measure_form(br, a.bin, spec, env["runs"], a.data, a.broker))
            if r:
                r["cmd"] = r["cmd"].replace(corpus, "$CORPUS")
                res["forms"].append(r)
        live = phase("4. live view under the simulated fleet",
                     lambda: measure_live(br, a.bin, env, a.broker, a.data))
        if live:
            res["live_raw"] = {k: v for k, v in live.items() if k not in ("frames", "updates", "procs")}
            try:
                res["live"] = analyze_live(live, env)
            except Exception as e:  # noqa: BLE001
                failed = True
                res["errors"].append(f"live analysis: {e}")
                with open(os.path.join(a.data, "driver.log"), "a") as f:
                    f.write(f"--- live analysis\n{traceback.format_exc()}\n")
    except Exception as e:  # noqa: BLE001
        failed = True
        res["errors"].append(f"setup: {e}")
        with open(os.path.join(a.data, "driver.log"), "a") as f:
            f.write(f"--- setup\n{traceback.format_exc()}\n")
        log(f"FAILED: {e}")
    finally:
        if br is not None:
            br.quit()
        for p in STARTED:
            stop_proc(p)
        res["env"]["load_after"] = " ".join(open("/proc/loadavg").read().split()[:3])
        write_json(out_path, res)
    sys.exit(2 if failed else 0)


# ---------------------------------------------------------------- report


def f(v, nd=1):
    if v is None:
        return "-"
    if isinstance(v, float):
        return f"{v:,.{nd}f}"
    if isinstance(v, int):
        return f"{v:,}"
    return str(v)


def rounded(v):
    if isinstance(v, float):
        return round(v, 2)
    if isinstance(v, dict):
        return {k: rounded(x) for k, x in v.items()}
    if isinstance(v, list):
        return [rounded(x) for x in v]
    return v


def mib(b):
    return "-" if b is None else f"{b / 1048576:,.1f} MiB"


def kib(b):
    return "-" if b is None else f"{b / 1024:,.1f} KiB"


def mib_k(k):
    return "-" if k is None else f"{k / 1024:,.1f} MiB"


def col(rows, key):
    return [r.get(key) for r in rows]


def targets_of(res):
    env = res["env"]
    tms = env["target_ms"]
    t = []
    for fr in res.get("forms", []):
        sw = dist(col(fr.get("switch", []), "done"))
        if sw["n"]:
            t.append({"name": f"{fr['type']}: switch to its form, change → form in the DOM and first build "
                              f"answered, median < {tms} ms",
                      "value": f"{sw['median']:.1f} ms", "ok": sw["median"] < tms})
            t.append({"name": f"{fr['type']}: same, max of {sw['n']} < {tms} ms",
                      "value": f"{sw['max']:.1f} ms", "ok": sw["max"] < tms})
        picks = (fr.get("walk") or {}).get("picks") or []
        if picks:
            worst = max(picks, key=lambda p: p["paint"])
            t.append({"name": f"{fr['type']}: every oneof member's form ({len(picks)}), pick → painted, "
                              f"max < {tms} ms",
                      "value": f"{worst['paint']:.1f} ms ({worst['via'] + ' > ' if worst['via'] else ''}"
                               f"{worst['member']})", "ok": worst["paint"] < tms})
    lv = res.get("live")
    if lv:
        c = lv["counts"]
        t.append({"name": f"live: rows in the table at most {env['rows_max']}",
                  "value": f"{lv['rows_max']:,}", "ok": lv["rows_max"] <= env["rows_max"]})
        if c.get("dropped") is not None:
            t.append({"name": "live: the tab keeps up (messages dropped for it by the server: 0)",
                      "value": f"{c['dropped']:,}", "ok": c["dropped"] == 0})
        if c.get("lost") is not None:
            t.append({"name": "live: nothing lost unaccounted (published − received − dropped = 0)",
                      "value": f"{c['lost']:,}", "ok": c["lost"] == 0})
    return t


def cmd_report(path):
    res = read_json(path)
    env = res["env"]
    out = print
    tms = env["target_ms"]
    out("### Environment\n")
    out("| | |")
    out("|---|---|")
    out(f"| CPU | {env['cpu']} |")
    out(f"| nproc | {env['nproc']} |")
    out(f"| load average (1, 5, 15 min): at the start / before measuring / after | {env['load_start']} / "
        f"{env['load_before']} / {env.get('load_after', '-')} |")
    out(f"| memory | {env['mem_total']} |")
    out(f"| kernel | {env['kernel']} |")
    br = res.get("browser") or {}
    out(f"| browser | {env['chromium']} ({br.get('version', '-')}), {env['chromedriver'].split(' (')[0]}, "
        f"selenium {env['selenium']}; window {env['window']}; flags `{' '.join(br.get('flags', []))}` |")
    out(f"| commander | {env['commander_version']} (`{env['commander']}`) |")
    out(f"| broker | {env['mosquitto']} on 127.0.0.1 (persistence off, no queue limits) |")
    out(f"| command | `{env['command']}` |")
    out("")

    # 1. page weight
    w = res.get("weight")
    out("### 1. Page weight\n")
    if w:
        out(f"Served by `{res.get('start_cmd', '-')}` (built-in schema and profile). No compression "
            "is served; gzip -6 for reference.\n")
        out("| file | fetched by the browser (transferSize: headers + body) | body | raw (HTTP GET) | gzip -6 |")
        out("|---|---|---|---|---|")
        raw = {x["path"]: x for x in w["files"]}
        tot = {"transfer": 0, "encoded": 0, "raw": 0, "gz": 0}
        api = {"n": 0, "transfer": 0}
        for e in w["fetched"]:
            short = e["short"] or "/"
            r = raw.get(short if short != "/index.html" else "/")
            if e["initiator"] == "fetch":
                api["n"] += 1
                api["transfer"] += e["transfer"] or 0
                continue
            tot["transfer"] += e["transfer"] or 0
            tot["encoded"] += e["encoded"] or 0
            tot["raw"] += r["raw"] if r else 0
            tot["gz"] += r["gzip6"] if r else 0
            out(f"| `{short}` ({e['initiator']}) | {f(e['transfer'])} B | {f(e['encoded'])} B "
                f"| {f(r['raw']) + ' B' if r else '-'} | {f(r['gzip6']) + ' B' if r else '-'} |")
        out(f"| **page files ({len(w['fetched']) - api['n']} requests)** | **{f(tot['transfer'])} B "
            f"({kib(tot['transfer'])})** | {f(tot['encoded'])} B | {f(tot['raw'])} B | {f(tot['gz'])} B "
            f"({kib(tot['gz'])}) |")
        apis = [e for e in w["fetched"] if e["initiator"] == "fetch"]
        out(f"| API calls until ready ({api['n']} requests: "
            f"{', '.join('`' + e['short'].split('?')[0] + '`' for e in apis)}) | {f(api['transfer'])} B | | | |")
        out(f"\nrequests until the page is ready: {len(w['fetched'])} ({len(w['fetched']) - api['n']} files "
            f"+ {api['n']} API calls); the icon is a data: URI (no request). Every answer has "
            f"`Cache-Control: no-store`: each load fetches the files again.\n")
    else:
        out("not measured\n")

    # 2. first render
    fr = res.get("first_render")
    out("### 2. Time to first render\n")
    if fr:
        out(f"{len(fr)} cold loads of the start page (`{fr[0].get('type')}`, {fr[0].get('controls')} "
            "form controls), each in a new tab; ms from navigation start. The first load is the "
            "fresh browser's first.\n")
        out("| | median | min | max | first load |")
        out("|---|---|---|---|---|")
        rows = [("first contentful paint (banner, tabs)", "fcp"),
                ("DOMContentLoaded (app.js run)", "dcl"),
                ("`/api/info` answered (request → body read)", "info_ms"),
                ("`/api/model` answered", "model_ms"),
                ("page work: model parsed + form built (model body read → build request; includes a frame "
                 "drawn in between, if any)", "render_ms"),
                ("`/api/build` answered", "build_ms"),
                ("**ready**: `data-ready = 1` (info, model, first build shown)", "readyAt"),
                ("ready and painted (the frame after, done)", "readyPaint")]
        for name, k in rows:
            d = dist(col(fr, k))
            out(f"| {name} | {f(d.get('median'))} | {f(d.get('min'))} | {f(d.get('max'))} | {f(fr[0].get(k))} |")
        st = res.get("first_render_server")
        if st:
            out(f"\nThe same three requests from a plain HTTP client (new connection each, median of 5): "
                f"`/api/info` {st['info']:.1f} ms, `/api/model` {st['model']:.1f} ms, `/api/build` {st['build']:.1f} ms: "
                "the rest of the times above is the browser's (its network process, the page's main thread).")
        out("")
    else:
        out("not measured\n")

    # 3. forms
    out(f"### 3. Form of a large message (target: under {tms} ms)\n")
    out(f"The target is judged on b (switching `#type` to the message: median and max) and c (each "
        f"oneof member's form, max); a (a cold load on the type) includes loading the page itself and is "
        f"set against {tms} ms for information only. ms from the event (a: from navigation start).\n")
    for fm in res.get("forms", []):
        cold, sw = fm.get("cold", []), fm.get("switch", [])
        out(f"**{fm['type']}** (`{fm['cmd']}`; /api/model answer {f(fm.get('model_bytes'))} B; the form: "
            f"{f(sw[-1].get('controls') if sw else None)} controls, {f(sw[-1].get('formNodes') if sw else None)} "
            "elements: nested messages and oneof members are built when set or opened)\n")
        out(f"| ms | n | median | max | vs {tms} ms |")
        out("|---|---|---|---|---|")

        def row(name, values, target=False):
            d = dist(values)
            mark = ""
            if target and d["n"]:
                mark = "under" if d["max"] < tms else ("median under, max **over**" if d["median"] < tms else "**over**")
            out(f"| {name} | {d['n']} | {f(d.get('median'))} | {f(d.get('max'))} | {mark} |")

        row("a. cold load on this type: navigation → ready (includes the page load)", col(cold, "readyAt"), True)
        row("a. cold load: navigation → ready and painted", col(cold, "readyPaint"), True)
        row("a. cold load: page work, model parsed + form built", col(cold, "render_ms"))
        row(f"b. **switch from `{fm.get('from')}`: change → form in the DOM, first build answered**",
            col(sw, "done"), True)
        row("b. switch: change → painted", col(sw, "painted"))
        row("b. switch: network (`/api/model` + `/api/build`, request → body read)", col(sw, "network_ms"))
        row("b. switch: `/api/model` alone", col(sw, "model_ms"))
        sv = fm.get("server")
        if sv:
            out(f"| b. (the server alone, plain HTTP client: `/api/model` {sv['model']:.1f}, `/api/build` "
                f"{sv['build']:.1f}) | | | | |")
        row("b. switch: page work, model parsed + form built (model body read → build request)",
            col(sw, "render_ms"), True)
        row("b. switch: page work, build answer shown (body → data-building 0)", col(sw, "show_build_ms"))
        row("b. switch: page work in all (change → ready, less the two requests)", col(sw, "page_ms"))
        picks = (fm.get("walk") or {}).get("picks") or []
        if picks:
            row(f"c. each oneof member picked ({len(picks)}, 2 levels): change handler (DOM built)",
                col(picks, "sync"))
            row("c. each oneof member: pick → painted (includes the wait for the next frame, up to one "
                "refresh period)", col(picks, "paint"), True)
            worst = sorted(picks, key=lambda p: -p["paint"])[:3]
            big = max(picks, key=lambda p: p["nodes"])
            out("\nslowest members (pick → painted): " + "; ".join(
                f"`{(p['via'] + ' > ') if p['via'] else ''}{p['member']}` {p['paint']:.1f} ms "
                f"({p['controls']} control{'' if p['controls'] == 1 else 's'})" for p in worst)
                + f". Largest member form: `{(big['via'] + ' > ') if big['via'] else ''}{big['member']}` "
                f"({big['controls']} controls, {big['nodes']} elements, {big['paint']:.1f} ms).")
        out("")

    # 4. live
    lv = res.get("live")
    raw = res.get("live_raw") or {}
    out(f"### 4. Live view under the simulated fleet\n")
    if lv:
        c = lv["counts"]
        fr_ = lv["frames"]
        out(f"`{raw.get('web_cmd')}`, the page's Live tab subscribed to {', '.join('`' + x + '`' for x in raw.get('filters', []))}; "
            f"then `{raw.get('sim_cmd')}`; warm-up {env['warmup']} s, measured for {env['duration']} s "
            f"(tab {raw.get('window', {}).get('visibility')}).\n")
        out("| | |")
        out("|---|---|")
        out(f"| simulator `done`: published (telemetry + events) | {f(c.get('published'))} |")
        out(f"| tab: received / dropped for it by the server / **lost** (published − received − dropped) "
            f"| {f(c.get('received'))} / {f(c.get('dropped'))} / **{f(c.get('lost'))}** |")
        out(f"| tab: received per second in the window (dropped per second) | {f(lv.get('rate_received'))} "
            f"({f(lv.get('rate_dropped'))}) |")
        out(f"| table updates in the window (per second) / rows added per update, median (max) "
            f"| {f(lv['updates']['count'])} ({f(lv['updates']['per_s'])}) / "
            f"{f(lv['updates']['rows_added'].get('median'))} ({f(lv['updates']['rows_added'].get('max'))}) |")
        out(f"| rows in the table: max seen (target ≤ {env['rows_max']}) / elements in the page, max "
            f"| {f(lv['rows_max'])} / {f(lv['nodes_max'])} |")
        out(f"| frames: {f(fr_.get('count'))} in {env['duration']} s ({f(fr_.get('fps'))} fps); gap median / p99 / max "
            f"| {f(fr_.get('median'))} / {f(fr_.get('p99'))} / {f(fr_.get('max'))} ms |")
        out(f"| frames over 50 ms / over 100 ms; frames missed (gap / median gap − 1, summed) "
            f"| {f(fr_.get('over_50'))} / {f(fr_.get('over_100'))}; {f(fr_.get('missed'))} of "
            f"{f(fr_.get('expected'))} ({f(100 * fr_['missed'] / fr_['expected'] if fr_.get('expected') else None)} %) |")
        lt = lv["longtasks"]
        out(f"| long tasks (> 50 ms): count / total / max / share of the window "
            f"| {f(lt['count'])} / {f(lt['total_ms'])} ms / {f(lt['max_ms'])} ms / "
            f"{f(100 * lt['share'] if lt.get('share') is not None else None)} % |")
        for name, k in (("lag, newest row of each update: now − the server's receive time", "lag_newest"),
                        ("lag, oldest row of each update: now − the server's receive time", "lag_oldest"),
                        ("lag, newest row: now − the message's own time_stamp (simulator)", "lag_sim")):
            d = lv[k]
            out(f"| {name}, ms (median / p99 / max) | {f(d.get('median'))} / {f(d.get('p99'))} / {f(d.get('max'))} |")
        h = lv["heap"]
        out(f"| JS heap (usedJSHeapSize): subscribed, idle / window start / peak / window end / after the drain "
            f"| {mib(h['idle'])} / {mib(h['start'])} / {mib(h['peak'])} / {mib(h['end_window'])} / {mib(h['end'])} |")
        out(f"| `commander web`: CPU in the window / RSS idle / peak (VmHWM) "
            f"| {f(lv.get('web_cpu_pct'))} % of one core / {mib_k(lv.get('web_vmrss_idle_kib'))} / "
            f"{mib_k(lv.get('web_vmhwm_kib'))} |")
        ch = lv.get("chromium") or {}
        parts = ", ".join(f"{k} {v['cpu_pct']:.0f} %" for k, v in sorted(ch.items(), key=lambda kv: -kv[1]["cpu_pct"])
                          if v["cpu_pct"] >= 0.5)
        tr = lv.get("tab_renderer") or {}
        out(f"| Chromium: CPU in the window, all processes (by kind) "
            f"| {f(lv.get('chromium_cpu_pct'))} % of one core ({parts}) |")
        out(f"| the tab's renderer process (the busiest): CPU in the window / RSS at the window's start → max "
            f"(anonymous, i.e. without the mapped binary and fonts) "
            f"| {f(tr.get('cpu_pct'))} % of one core / {mib_k(tr.get('rss_start_kib'))} → {mib_k(tr.get('rss_max_kib'))} "
            f"({mib_k(tr.get('anon_start_kib'))} → {mib_k(tr.get('anon_max_kib'))}) |")
        out(f"| simulator stop (SIGTERM → exit) | {f((raw.get('sim_stop') or {}).get('stop_s'), 2)} s, "
            f"exit status {(raw.get('sim_stop') or {}).get('rc')} |")
        out("\nheap and table over time (s from the window's start: heap MiB, rows, elements, received, dropped): "
            + "; ".join(f"{s[0]:g}: {s[1] / 1048576:.1f}, {s[2]}, {s[3]}, {s[4]:,}, {s[5]:,}"
                        for s in h["series"] if s[1]) + "\n")
    else:
        out("not measured\n")

    targets = targets_of(res)
    out("### Targets\n")
    out("| target | result | |")
    out("|---|---|---|")
    for t in targets:
        out(f"| {t['name']} | {t['value']} | {'ok' if t['ok'] else '**MISSED**'} |")
    notes = list(res.get("errors", []))
    if lv and (lv["frames"].get("over_100") or 0) > 0:
        notes.append(f"live: {lv['frames']['over_100']} frames took over 100 ms (no target set for frames)")
    if notes:
        out("")
        for n in notes:
            out(f"- {n}")
    out("")

    # One line for machines.
    summary = {"bench": "web", "commander": env.get("commander_version"), "chromium": env.get("chromium"),
               "nproc": env.get("nproc"), "load_before": env.get("load_before"),
               "duration_s": env.get("duration"), "n_vehicles": env.get("n_vehicles"),
               "target_ms": tms, "errors": res.get("errors", [])}
    if w:
        files = [e for e in w["fetched"] if e["initiator"] != "fetch"]
        summary["weight"] = {"requests_until_ready": len(w["fetched"]), "file_requests": len(files),
                             "transfer_bytes": sum(e["transfer"] or 0 for e in files),
                             "raw_bytes": sum(x["raw"] for x in w["files"]),
                             "gzip6_bytes": sum(x["gzip6"] for x in w["files"])}
    if fr:
        summary["first_render_ms"] = {k: dist(col(fr, k)).get("median") for k in ("fcp", "dcl", "readyAt", "readyPaint")}
    summary["forms"] = {}
    for fm in res.get("forms", []):
        picks = (fm.get("walk") or {}).get("picks") or []
        summary["forms"][fm["type"]] = {
            "cold_ready_ms": {k: dist(col(fm.get("cold", []), "readyAt")).get(k) for k in ("median", "max")},
            "switch_ms": {k: dist(col(fm.get("switch", []), "done")).get(k) for k in ("median", "max")},
            "switch_render_ms": {k: dist(col(fm.get("switch", []), "render_ms")).get(k) for k in ("median", "max")},
            "member_paint_ms": {k: dist(col(picks, "paint")).get(k) for k in ("median", "max")},
            "members": len(picks)}
    if lv:
        summary["live"] = {
            "counts": lv["counts"], "rate_received": lv.get("rate_received"), "rows_max": lv["rows_max"],
            "frames": {k: lv["frames"].get(k) for k in ("count", "fps", "median", "p99", "max", "over_50", "over_100", "missed")},
            "longtasks": {k: lv["longtasks"][k] for k in ("count", "total_ms", "max_ms")},
            "lag_newest_ms": {k: lv["lag_newest"].get(k) for k in ("median", "p99", "max")},
            "lag_sim_ms": {k: lv["lag_sim"].get(k) for k in ("median", "p99", "max")},
            "heap_bytes": {k: lv["heap"][k] for k in ("idle", "start", "peak", "end_window", "end")},
            "web_cpu_pct": lv.get("web_cpu_pct"), "web_vmhwm_kib": lv.get("web_vmhwm_kib"),
            "chromium_cpu_pct": lv.get("chromium_cpu_pct"),
            "tab_renderer_cpu_pct": (lv.get("tab_renderer") or {}).get("cpu_pct"),
            "tab_renderer_rss_max_kib": (lv.get("tab_renderer") or {}).get("rss_max_kib"),
            "tab_renderer_anon_max_kib": (lv.get("tab_renderer") or {}).get("anon_max_kib")}
    summary["targets"] = [{"name": t["name"], "value": t["value"], "ok": t["ok"]} for t in targets]
    summary["ok"] = all(t["ok"] for t in targets) and not res.get("errors")
    print(json.dumps(rounded(summary), separators=(",", ":")))
    if res.get("errors"):
        sys.exit(2)
    if not all(t["ok"] for t in targets):
        sys.exit(1)


def main():
    if len(sys.argv) < 2:
        sys.exit(__doc__)
    cmd, args = sys.argv[1], sys.argv[2:]
    if cmd == "freeport":
        cmd_freeport()
    elif cmd == "wait-log":
        cmd_wait_log(*args)
    elif cmd == "env":
        cmd_env(*args)
    elif cmd == "run":
        cmd_run(args)
    elif cmd == "report":
        cmd_report(*args)
    else:
        sys.exit(__doc__)


if __name__ == "__main__":
    main()
