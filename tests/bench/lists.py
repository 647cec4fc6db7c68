#!/usr/bin/env python3
"""Glint list benchmark: `GET /v2/images` over a large catalogue.

Starts the release `glint serve` on loopback in a fresh data directory, with a
fresh database (SQLite by default; `--db postgres` or `--db mysql` create one on
the local servers, postgres://postgres@127.0.0.1:5432 and
mysql://root@127.0.0.1:3306, and drop it afterwards), seeds N images, then times
each list query client-side over one keep-alive connection and prints a table:
median and p90 of the runs, the page size and the target beside each.

The catalogue is written with SQL straight into the tables (the API would need
an upload per active image): 20 owning projects, mostly private images with some
public, shared and community ones, mostly active with a few queued, saving and
deactivated, one location per image with data, tags from a set of 50 plus a rare
one, and `os_distro`/`os_version` properties (one distro rare). The planner's
statistics are refreshed after the import (ANALYZE), as after any bulk import,
and the server is started on the seeded database.

    python3 tests/bench/lists.py [--db sqlite|postgres|mysql] [--images N] [--quick]
                                 [--before OLD_TARGET_DIR] [--json FILE]

Standard library only; needs the `psql` or `mysql` client for those databases.
Timings are client-side, so they include HTTP and JSON; numbers from one run
are comparable with each other only.
"""
import argparse
import http.client
import json
import os
import random
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
import uuid

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PG = ["psql", "-h", "127.0.0.1", "-p", "5432", "-U", "postgres", "-v", "ON_ERROR_STOP=1", "-q"]
MY = ["mysql", "-h", "127.0.0.1", "-P", "3306", "-u", "root"]

OWNERS = [f"project-{n:02d}" for n in range(20)]
DISTROS = ["ubuntu"] * 40 + ["debian"] * 25 + ["rocky"] * 15 + ["fedora"] * 10 + ["windows"] * 10
START_US = 1_767_225_600_000_000  # 2026-01-01T00:00:00Z
STEP_US = 300_000_000  # one image every five minutes, on average


def log(*a):
    print(*a, file=sys.stderr, flush=True)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def iso(us):
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(us // 1_000_000))


def catalogue(n, seed=7):
    """The rows to insert: images, tags, properties, locations (tuples)."""
    rnd = random.Random(seed)
    images, tags, props, locs = [], [], [], []
    for i in range(n):
        iid = str(uuid.UUID(int=rnd.getrandbits(128), version=4))
        r = rnd.random()
        status = ("queued" if r < 0.005 else "saving" if r < 0.007
                  else "deactivated" if r < 0.017 else "active")
        r = rnd.random()
        visibility = ("public" if r < 0.15 else "shared" if r < 0.25
                      else "community" if r < 0.30 else "private")
        owner = OWNERS[int(rnd.random() ** 2 * len(OWNERS))]  # a few large projects
        created = START_US + i * STEP_US + rnd.randrange(STEP_US)
        updated = created + rnd.randrange(10 * STEP_US)
        has_data = status in ("active", "deactivated")
        size = rnd.randrange(1 << 20, 8 << 30) if has_data else None
        name = f"image-{i // 3:06d}"  # three images per name
        images.append((
            iid, name, status, visibility, int(rnd.random() < 0.02), int(rnd.random() < 0.01),
            f"{rnd.getrandbits(128):032x}" if has_data else None,
            "sha512" if has_data else None,
            f"{rnd.getrandbits(512):0128x}" if has_data else None,
            owner, size, size, "bare", rnd.choice(["qcow2", "raw", "qcow2", "iso"]),
            0, 0, created, updated))
        for t in rnd.sample(range(50), rnd.choice([0, 1, 1, 2, 3])):
            tags.append((iid, f"tag-{t:02d}"))
        if i % 10_000 == 5:
            tags.append((iid, "rare"))
        distro = "arch" if i % 5_000 == 11 else rnd.choice(DISTROS)
        props.append((iid, "os_distro", distro))
        props.append((iid, "os_version", str(rnd.randrange(8, 25))))
        if has_data:
            locs.append((iid, f"file:///var/lib/glint/images/{iid}", "{}", "active", 0))
    return images, tags, props, locs


IMAGE_COLUMNS = ("id, name, status, visibility, protected, os_hidden, checksum, os_hash_algo, "
                 "os_hash_value, owner, size, virtual_size, container_format, disk_format, "
                 "min_disk, min_ram, created_at, updated_at")


def literal(v):
    if v is None:
        return "NULL"
    if isinstance(v, int):
        return str(v)
    return "'" + v.replace("'", "''") + "'"


def inserts(rows):
    """Multi-row INSERT statements, 500 rows each, for every table."""
    images, tags, props, locs = rows
    for table, columns, items in [
        ("images", IMAGE_COLUMNS + ", deleted", [r + (0,) for r in images]),
        ("image_tags", "image_id, value", tags),
        ("image_properties", "image_id, name, value", props),
        ("image_locations", "image_id, url, metadata, status, position", locs),
    ]:
        for k in range(0, len(items), 500):
            values = ",".join("(" + ",".join(literal(v) for v in r) + ")" for r in items[k:k + 500])
            yield f"INSERT INTO {table} ({columns}) VALUES {values};\n"


class Server:
    def __init__(self, a):
        self.a = a
        self.bin = os.path.join(a.target, "glint")
        if not os.path.exists(self.bin):
            sys.exit(f"{self.bin} is missing: cargo build --release -p glint-core")
        self.dir = tempfile.mkdtemp(prefix="glint-lists-")
        self.db = f"glint_lists_{os.getpid()}"
        if a.db == "postgres":
            subprocess.run(PG + ["-c", f"CREATE DATABASE {self.db}"], check=True)
            self.url = f"postgres://postgres@127.0.0.1:5432/{self.db}"
        elif a.db == "mysql":
            subprocess.run(MY + ["-e", f"CREATE DATABASE {self.db}"], check=True)
            self.url = f"mysql://root@127.0.0.1:3306/{self.db}"
        else:
            self.url = f"sqlite://{self.dir}/glint.db?mode=rwc"
        self.proc = None

    def start(self, binary=None):
        port = free_port()
        self.base = f"http://127.0.0.1:{port}"
        env = dict(os.environ, GLINT_DATABASE__URL=self.url, GLINT_LOG="warn")
        self.log = open(os.path.join(self.dir, "glint.log"), "a")
        self.proc = subprocess.Popen(
            [binary or self.bin, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir", self.dir],
            env=env, stdout=self.log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        deadline = time.time() + 120
        while time.time() < deadline:
            if self.proc.poll() is not None:
                sys.exit(f"glint exited with {self.proc.returncode}; see {self.log.name}")
            try:
                with urllib.request.urlopen(self.base + "/versions", timeout=2):
                    return
            except OSError:
                time.sleep(0.2)
        sys.exit("glint did not answer")

    def stop(self):
        if self.proc is not None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
            self.proc = None
            self.log.close()

    def seed(self, rows):
        statements = inserts(rows)
        if self.a.db == "sqlite":
            con = sqlite3.connect(os.path.join(self.dir, "glint.db"))
            with con:
                for s in statements:
                    con.execute(s)
            con.execute("ANALYZE")
            con.close()
            return
        cmd = PG + ["-d", self.db] if self.a.db == "postgres" else MY + [self.db]
        p = subprocess.Popen(cmd, stdin=subprocess.PIPE, text=True)
        p.stdin.write("BEGIN;\n" if self.a.db == "postgres" else "START TRANSACTION;\n")
        for s in statements:
            p.stdin.write(s)
        p.stdin.write("COMMIT;\n")
        tables = "images, image_tags, image_properties, image_locations, image_members"
        p.stdin.write(f"ANALYZE {tables};\n" if self.a.db == "postgres"
                      else f"ANALYZE TABLE {tables};\n")
        p.stdin.close()
        if p.wait():
            sys.exit("seeding failed")

    def cleanup(self):
        self.stop()
        if self.a.db == "postgres":
            subprocess.run(PG + ["-c", f"DROP DATABASE IF EXISTS {self.db}"], check=False)
        elif self.a.db == "mysql":
            subprocess.run(MY + ["-e", f"DROP DATABASE IF EXISTS {self.db}"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)


def settle(pid, seconds=90):
    """Waits until the server's own jobs that start with it (the periodic ones' first
    passes over the catalogue) leave it idle: under 5% of a core over a second."""
    def cpu():
        with open(f"/proc/{pid}/stat") as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    deadline = time.time() + seconds
    before = cpu()
    while time.time() < deadline:
        time.sleep(1)
        now = cpu()
        if now - before < 0.05:
            return
        before = now
    log(f"the server was still busy after {seconds} s; timing anyway")


def queries(rows):
    images = rows[0]
    mid = images[len(images) // 2][16]
    early = images[len(images) // 20][16]
    late = images[-(len(images) // 20)][16]
    name = images[len(images) // 2][1]
    return [
        ("default sort", "limit=25", 3),
        ("default sort, 1000", "limit=1000", 30),
        ("default sort, 1", "limit=1", 3),
        ("status=active", "limit=25&status=active", 3),
        ("status=queued (rare)", "limit=25&status=queued", 3),
        ("status=deactivated", "limit=25&status=deactivated", 3),
        ("visibility=public", "limit=25&visibility=public", 3),
        ("visibility=community", "limit=25&visibility=community", 3),
        ("visibility=shared", "limit=25&visibility=shared", 3),
        ("owner", f"limit=25&owner={OWNERS[7]}", 3),
        ("name", f"limit=25&name={name}", 3),
        ("tag (common)", "limit=25&tag=tag-07", 3),
        ("tag (rare)", "limit=25&tag=rare", 3),
        ("os_distro=debian", "limit=25&os_distro=debian", 3),
        ("os_distro=arch (rare)", "limit=25&os_distro=arch", 3),
        ("created_at=gt:(middle)", f"limit=25&created_at=gt:{iso(mid)}", 3),
        ("created_at=lt:(5%)", f"limit=25&created_at=lt:{iso(early)}", 3),
        ("created_at gt:95% lt:max", f"limit=25&created_at=gt:{iso(late)}", 3),
        ("sort_key=name", "limit=25&sort_key=name&sort_dir=asc", 3),
        ("status=active, sort_key=name", "limit=25&status=active&sort_key=name", None),
    ]


def time_query(conn, path, runs):
    def once():
        t = time.perf_counter()
        conn.request("GET", path, headers={"Accept": "application/json"})
        r = conn.getresponse()
        body = r.read()
        dt = (time.perf_counter() - t) * 1000
        if r.status != 200:
            raise RuntimeError(f"{path}: {r.status} {body[:200]!r}")
        return dt, body

    for _ in range(3):
        _, body = once()
    count = len(json.loads(body)["images"])
    samples = sorted(once()[0] for _ in range(runs))
    p90 = samples[min(len(samples) - 1, int(len(samples) * 0.9))]
    return statistics.median(samples), p90, count


def measure(server, rows, runs):
    conn = http.client.HTTPConnection("127.0.0.1", int(server.base.rsplit(":", 1)[1]), timeout=60)
    results = []
    for label, qs, target in queries(rows):
        med, p90, count = time_query(conn, "/v2/images?" + qs, runs)
        results.append({"query": label, "path": "/v2/images?" + qs, "images": count,
                        "median_ms": round(med, 2), "p90_ms": round(p90, 2),
                        "target_ms": target, "ok": target is None or med <= target})
    # A page after the first: the marker's keyset seek.
    conn.request("GET", "/v2/images?limit=25")
    marker = json.loads(conn.getresponse().read())["images"][-1]["id"]
    med, p90, count = time_query(conn, f"/v2/images?limit=25&marker={marker}", runs)
    results.append({"query": "default sort, page 2 (marker)", "path": "marker",
                    "images": count, "median_ms": round(med, 2), "p90_ms": round(p90, 2),
                    "target_ms": 3, "ok": med <= 3})
    conn.close()
    return results


def report(a, n, runs, runs_by_label):
    results = runs_by_label["glint"]
    before = runs_by_label.get("before")
    print(f"\n{a.db}, {n} images, {runs} runs each, client-side over keep-alive HTTP")
    head = f"{'query':34} {'images':>6} {'median ms':>10} {'p90 ms':>8} {'target':>7}"
    if before:
        head += f" {'before ms':>10} {'speed-up':>9}"
    print(head)
    for k, r in enumerate(results):
        target = "-" if r["target_ms"] is None else f"<= {r['target_ms']}"
        line = (f"{r['query']:34} {r['images']:6} {r['median_ms']:10.2f} {r['p90_ms']:8.2f}"
                f" {target:>7}")
        if before:
            b = before[k]["median_ms"]
            line += f" {b:10.2f} {b / r['median_ms']:8.1f}x"
        print(line + ("" if r["ok"] else "  over"))
    if a.json:
        with open(a.json, "w") as f:
            json.dump({"db": a.db, "images": n, "runs": runs, **runs_by_label}, f, indent=1)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--db", choices=["sqlite", "postgres", "mysql"], default="sqlite")
    ap.add_argument("--images", type=int, default=100_000)
    ap.add_argument("--quick", action="store_true", help="2,000 images, 10 runs each")
    ap.add_argument("--runs", type=int, default=40)
    ap.add_argument("--target", default=os.path.join(ROOT, "target", "release"),
                    help="where the release glint is")
    ap.add_argument("--json", help="also write the results here")
    ap.add_argument("--before", metavar="DIR",
                    help="also time the glint in DIR on the same catalogue, and print the speed-up")
    ap.add_argument("--hold", action="store_true",
                    help="keep each server running after its runs, until Ctrl-C (for profiling)")
    a = ap.parse_args()
    n, runs = (2_000, 10) if a.quick else (a.images, a.runs)

    server = Server(a)
    try:
        log(f"{a.db}: creating the schema")
        server.start()
        server.stop()
        log(f"{a.db}: seeding {n} images")
        t = time.time()
        rows = catalogue(n)
        server.seed(rows)
        log(f"{a.db}: seeded in {time.time() - t:.0f} s")
        runs_by_label = {}
        for label, binary in [("glint", server.bin)] + (
                [("before", os.path.join(a.before, "glint"))] if a.before else []):
            server.start(binary)
            log(f"{label} at {server.base} (pid {server.proc.pid})")
            settle(server.proc.pid)
            runs_by_label[label] = measure(server, rows, runs)
            if a.hold:
                log(f"holding {label} at {server.base} (pid {server.proc.pid}); Ctrl-C to go on")
                try:
                    while True:
                        time.sleep(3600)
                except KeyboardInterrupt:
                    pass
            server.stop()
        report(a, n, runs, runs_by_label)
    finally:
        server.cleanup()


if __name__ == "__main__":
    main()
