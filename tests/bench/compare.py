#!/usr/bin/env python3
"""Glance and Glint back to back on this machine: one table with both, the ratio and the
machine's limits.

Runs `bench.py`'s workload against the real Glance 33 (started with the shared harness's
`glance-up.sh` if it is not running; it is left running, other work may share it), then
against a fresh Glint (the release binary, default settings, its own data directory,
stopped at the end), and measures the machine with the harness's `limits.sh` in the same
run. Ratios are Glint's number over Glance's, turned so that above 1 means Glint is better;
on a shared machine, only ratios from one run mean anything.

    cargo build --release -p glint-core -p glint-store-file
    python3 tests/bench/compare.py [--quick] [--markdown FILE]

`--quick` is a smoke test of the benchmark itself (small sizes, no disk limits): the same
steps, cheap enough for CI.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import bench  # noqa: E402

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), "..", ".."))

# (key, label, unit, higher is better)
ROWS = [
    ("create_seq_per_s", "create, sequential", "req/s", True),
    ("create_c64_per_s", "create, 64 concurrent", "req/s", True),
    ("create_c64_errors", "create, 64 concurrent: errors", "", False),
    ("pg_create_seq_per_s", "create, sequential (Glint on PostgreSQL)", "req/s", True),
    ("pg_create_c64_per_s", "create, 64 concurrent (Glint on PostgreSQL)", "req/s", True),
    ("pg_create_c64_errors", "create, 64 concurrent: errors (PostgreSQL)", "", False),
    ("my_create_seq_per_s", "create, sequential (Glint on MariaDB)", "req/s", True),
    ("my_create_c64_per_s", "create, 64 concurrent (Glint on MariaDB)", "req/s", True),
    ("my_create_c64_errors", "create, 64 concurrent: errors (MariaDB)", "", False),
    ("list_25_ms", "list limit=25", "ms", False),
    ("list_1000_ms", "list limit=1000", "ms", False),
    ("upload_1g_mb_s", "upload 1 image", "MB/s", True),
    ("upload_1g_cpu_s_per_gib", "upload: server CPU", "s/GiB", False),
    ("download_1g_mb_s", "download, first", "MB/s", True),
    ("download_1g_cpu_s_per_gib", "download, first: server CPU", "s/GiB", False),
    ("download_1g_again_mb_s", "download, again", "MB/s", True),
    ("download_1g_again_cpu_s_per_gib", "download, again: server CPU", "s/GiB", False),
    ("upload_8x256m_mb_s", "8 concurrent uploads", "MB/s", True),
    ("upload_8x256m_errors", "8 concurrent uploads: errors", "", False),
    ("download_8x256m_mb_s", "8 concurrent downloads", "MB/s", True),
    ("download_8x256m_errors", "8 concurrent downloads: errors", "", False),
    ("rss_idle_mib", "server RSS, idle", "MiB", False),
    ("rss_8x_upload_peak_mib", "server RSS, peak in 8 uploads", "MiB", False),
    ("rss_8x_download_peak_mib", "server RSS, peak in 8 downloads", "MiB", False),
]

# What limits.sh prints, and the row each limit stands beside.
LIMITS = [
    (r"^openssl speed -evp md5 .*: (\d+ MB/s)", "md5, one core", ["upload_1g_mb_s"]),
    (r"^openssl speed -evp sha512 .*: (\d+ MB/s)", "sha512, one core", []),
    (r"^dd write \d+ MiB zeros .*fdatasync: (.+)$", "disk write + fdatasync", ["upload_8x256m_mb_s"]),
    (r"^dd read \d+ MiB bs=1M \(page cache.*: (.+)$", "page cache read", ["download_1g_again_mb_s"]),
    (r"^fsync latency .*: median ([\d.]+ ms)", "fsync latency", ["create_seq_per_s"]),
    (r"^python socket loopback .*: (\d+ MB/s)", "loopback TCP, one stream", ["download_1g_mb_s"]),
    (r"^iperf3 8 streams .*\((\d+ MB/s)\)", "loopback TCP, 8 streams", ["download_8x256m_mb_s"]),
]


def log(msg):
    print(f"[compare] {msg}", file=sys.stderr, flush=True)


def settings(text):
    """KEY=value lines, as the harness's up-scripts print them."""
    return dict(line.split("=", 1) for line in text.splitlines() if "=" in line)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_ready(url, proc=None, seconds=60):
    deadline = time.time() + seconds
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            raise RuntimeError(f"the server exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(url + "/versions", timeout=2):
                return
        except OSError:
            time.sleep(0.2)
    raise RuntimeError(f"{url} did not answer")


def glance(harness):
    log("Glance 33: glance-up.sh (started if needed, left running)")
    out = subprocess.run(["bash", os.path.join(harness, "glance-up.sh")], check=True,
                         stdout=subprocess.PIPE, text=True).stdout
    s = settings(out)
    return s["GLANCE_URL"], int(s["GLANCE_PID"])


class Glint:
    """The release binary with default settings in a fresh data directory (and
    `env` on top, such as another database)."""

    def __init__(self, target, env=None):
        self.bin = os.path.join(target, "glint")
        plugin = os.path.join(target, "libglint_store_file.so")
        for f in (self.bin, plugin):
            if not os.path.exists(f):
                sys.exit(f"{f} is missing: cargo build --release -p glint-core -p glint-store-file")
        self.dir = tempfile.mkdtemp(prefix="glint-bench-")
        port = free_port()
        self.url = f"http://127.0.0.1:{port}"
        env = dict(os.environ, GLINT_PLUGINS__PATHS=json.dumps([plugin]), GLINT_LOG="warn", **(env or {}))
        self.log = open(os.path.join(self.dir, "glint.log"), "w")
        self.proc = subprocess.Popen(
            [self.bin, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", self.dir],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        wait_ready(self.url, self.proc)

    def stop(self):
        self.proc.terminate()
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


# The database servers of the machine, each with the command that runs one
# statement in it. Their create rates stand beside SQLite's (Glance's baseline
# runs on SQLite).
SERVERS = [
    ("pg", "PostgreSQL", "postgres://postgres@127.0.0.1:5432/{db}",
     ["psql", "-h", "127.0.0.1", "-U", "postgres", "-q", "-c"]),
    ("my", "MariaDB", "mysql://root@127.0.0.1:3306/{db}",
     ["mariadb", "-h", "127.0.0.1", "-u", "root", "-e"]),
]


def server_creates(target, quick):
    """The create workload against Glint on each database server, in a fresh
    database dropped afterwards; a server that is not there is skipped."""
    res = {}
    for prefix, name, url, sql in SERVERS:
        db = f"glint_bench_{os.getpid()}"
        try:
            subprocess.run(sql + [f"CREATE DATABASE {db}"], check=True,
                           stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        except (OSError, subprocess.CalledProcessError) as e:
            log(f"{name} skipped: {e}")
            continue
        try:
            glint = Glint(target, {"GLINT_DATABASE__URL": url.format(db=db)})
            try:
                log(f"Glint on {name}: creates")
                c = bench.Client(glint.url, "bench")
                res.update({f"{prefix}_{k}": v for k, v in bench.creates(c, quick).items()})
            finally:
                glint.stop()
        finally:
            subprocess.run(sql + [f"DROP DATABASE {db}"], stdout=subprocess.DEVNULL)
    return res


def limits(harness, quick):
    """limits.sh's findings, label -> text; nothing in a quick run (it writes GiBs)."""
    if quick:
        return {}
    log("machine limits: limits.sh")
    with tempfile.TemporaryDirectory(prefix="glint-limits-") as d:
        out = subprocess.run(["bash", os.path.join(harness, "limits.sh"), "1024"],
                             env=dict(os.environ, LIMITS_DIR=d), check=True,
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True).stdout
    found = {}
    for line in out.splitlines():
        for pattern, label, _ in LIMITS:
            m = re.search(pattern, line)
            if m:
                found[label] = m.group(1)
    return found


def ratio(glance_v, glint_v, higher_better):
    if not isinstance(glance_v, (int, float)) or not isinstance(glint_v, (int, float)):
        return ""
    if isinstance(glance_v, bool) or isinstance(glint_v, bool):
        return ""
    num, den = (glint_v, glance_v) if higher_better else (glance_v, glint_v)
    if den == 0:
        return "" if num == 0 else "∞"
    return f"{num / den:.2f}×"


def fmt(v):
    if isinstance(v, float):
        return f"{v:,.1f}" if v >= 10 else f"{v:.2f}"
    return "" if v is None else str(v)


def table(res_glance, res_glint, found):
    beside = {}
    for _, label, keys in LIMITS:
        for k in keys:
            if label in found:
                beside.setdefault(k, []).append(f"{label} {found[label]}")
    lines = ["| workload | unit | Glance 33 | Glint | Glint vs Glance | machine limit |",
             "|---|---|---:|---:|---:|---|"]
    for key, label, unit, higher in ROWS:
        # The database-server rows compare with Glance's one (SQLite) row.
        a, b = res_glance.get(key.split("_", 1)[1] if key[:3] in ("pg_", "my_") else key), res_glint.get(key)
        if a is None and b is None:
            continue
        lines.append(f"| {label} | {unit} | {fmt(a)} | {fmt(b)} | {ratio(a, b, higher)} | "
                     f"{'; '.join(beside.get(key, []))} |")
    checks = [k for k in res_glint if k.endswith("_ok")]
    bad = [f"{r['label']}: {k}" for r in (res_glance, res_glint) for k in checks if r.get(k) is not True]
    lines.append("")
    lines.append("Data checks (size and Content-MD5 of every download): "
                 + ("all passed" if not bad else "FAILED " + ", ".join(bad)))
    other = [f"{label} {v}" for _, label, keys in LIMITS if not keys and (v := found.get(label))]
    if other:
        lines.append("Other limits: " + "; ".join(other) + ".")
    return "\n".join(lines), not bad


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            cpu = next(l.split(":", 1)[1].strip() for l in f if l.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"{platform.node()}, {os.cpu_count()} CPUs ({cpu}), Linux {platform.release()}"


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--quick", action="store_true", help="small sizes, no disk limits: a smoke run")
    ap.add_argument("--harness", default=os.environ.get("GLINT_HARNESS",
                    os.path.join(os.environ.get("GLINT_SHARED", os.path.join(ROOT, "..", "shared")), "harness")))
    ap.add_argument("--target", default=os.path.join(ROOT, "target", "release"),
                    help="where the release glint and libglint_store_file.so are")
    ap.add_argument("--markdown", help="also write the table to this file")
    ap.add_argument("--json", help="also write both results and the limits as JSON")
    a = ap.parse_args()

    started = time.time()
    glint = Glint(a.target)  # before anything is measured: a missing build fails fast
    try:
        url, pid = glance(a.harness)
        wait_ready(url)
        log(f"Glance 33 at {url} (pid {pid})")
        res_glance = bench.run(url, "bench", pid, a.quick, "glance")
        log(f"Glint at {glint.url} (pid {glint.proc.pid})")
        res_glint = bench.run(glint.url, "bench", glint.proc.pid, a.quick, "glint")
    finally:
        glint.stop()
    res_glint.update(server_creates(a.target, a.quick))
    found = limits(a.harness, a.quick)

    when = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    text, ok = table(res_glance, res_glint, found)
    head = (f"{'Quick run' if a.quick else 'Run'} of {when} on {machine()}, "
            f"load average at the end {os.getloadavg()[0]:.1f}; {time.time() - started:.0f} s.")
    print(head + "\n\n" + text)
    if a.markdown:
        with open(a.markdown, "w") as f:
            f.write(head + "\n\n" + text + "\n")
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"when": when, "machine": machine(), "glance": res_glance,
                       "glint": res_glint, "limits": found}, f, indent=1)
    sys.exit(0 if ok else 1)


if __name__ == "__main__":
    main()
