#!/usr/bin/env python3
"""Peak memory of one Glint under many large transfers at once (standard library only).

Starts `glint serve` (the release build by default) on loopback with a fresh data directory
(SQLite + file store), runs COUNT concurrent uploads of SIZE MiB each, then COUNT concurrent
downloads of those images, and reports the server's resident memory: idle (5 s after it
answers), the peak sampled
during each phase (VmRSS every 20 ms) with its throughput, and the kernel's high-water mark
(VmHWM). Every upload must answer 204 and every download must return SIZE MiB. The data
directory is removed at the end.

    cargo build --release -p glint-core -p glint-store-file
    python3 tests/bench/memory.py                       # 8 x 256 MiB
    python3 tests/bench/memory.py --count 1 --size-mib 4096   # flat in image size?
    python3 tests/bench/memory.py --count 16 --size-mib 1024 --binary target/debug/glint
"""

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time

MIB = 1 << 20


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def status_kib(pid, field):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith(field + ":"):
                return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/{pid}/status")


class Sampler(threading.Thread):
    """Samples the server's VmRSS until stopped; keeps the peak."""

    def __init__(self, pid):
        super().__init__(daemon=True)
        self.pid, self.peak, self.running = pid, 0, True

    def run(self):
        while self.running:
            self.peak = max(self.peak, status_kib(self.pid, "VmRSS"))
            time.sleep(0.02)

    def stop(self):
        self.running = False
        self.join()
        return self.peak


def request(port, method, path, body=None, headers=None, timeout=3600):
    conn = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    conn.request(method, path, body=body, headers=headers or {})
    return conn, conn.getresponse()


def upload(port, size, errors, ids, seed):
    conn, r = request(port, "POST", "/v2/images",
                      json.dumps({"disk_format": "raw", "container_format": "bare"}),
                      {"content-type": "application/json"})
    image = json.loads(r.read())
    conn.close()
    block = bytes((seed * 31 + i) % 251 for i in range(MIB))

    def body():
        for _ in range(size // MIB):
            yield block

    conn, r = request(port, "PUT", f"/v2/images/{image['id']}/file", body(),
                      {"content-type": "application/octet-stream",
                       "content-length": str(size)})
    r.read()
    conn.close()
    if r.status != 204:
        errors.append(f"upload {image['id']}: {r.status}")
    else:
        ids.append(image["id"])


def download(port, image_id, size, errors):
    conn, r = request(port, "GET", f"/v2/images/{image_id}/file")
    got = 0
    while True:
        chunk = r.read(MIB)
        if not chunk:
            break
        got += len(chunk)
    conn.close()
    if r.status != 200 or got != size:
        errors.append(f"download {image_id}: {r.status}, {got} bytes")


def phase(name, targets, pid, nbytes):
    sampler = Sampler(pid)
    sampler.start()
    started = time.monotonic()
    threads = [threading.Thread(target=t) for t in targets]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.monotonic() - started
    return {"phase": name, "seconds": round(seconds, 1), "mb_per_s": round(nbytes / seconds / 1e6),
            "peak_rss_mib": sampler.stop() // 1024}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--binary", default="target/release/glint")
    parser.add_argument("--count", type=int, default=8)
    parser.add_argument("--size-mib", type=int, default=256)
    parser.add_argument("--json", help="also write the results to this file")
    args = parser.parse_args()
    size = args.size_mib * MIB

    data_dir = tempfile.mkdtemp(prefix="glint-memory-")
    port = free_port()
    env = dict(os.environ, GLINT_CACHE__ENABLED="false", GLINT_LOG="warn")
    server = subprocess.Popen(
        [os.path.abspath(args.binary), "serve", "--bind", f"127.0.0.1:{port}",
         "--data-dir", data_dir],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        for _ in range(300):
            try:
                conn, r = request(port, "GET", "/", timeout=1)
                r.read()
                conn.close()
                break
            except OSError:
                time.sleep(0.1)
        else:
            sys.exit("glint did not start")
        # Idle means settled: what starting up freed has had time to go back to the system.
        time.sleep(5)
        idle = status_kib(server.pid, "VmRSS") // 1024
        idle_anon = status_kib(server.pid, "RssAnon") // 1024
        errors, ids = [], []
        up = phase(f"{args.count} uploads of {args.size_mib} MiB",
                   [lambda n=n: upload(port, size, errors, ids, n) for n in range(args.count)],
                   server.pid, args.count * size)
        down = phase(f"{args.count} downloads of {args.size_mib} MiB",
                     [lambda i=i: download(port, i, size, errors) for i in list(ids)],
                     server.pid, len(ids) * size)
        result = {
            "binary": args.binary,
            "idle_rss_mib": idle,
            "idle_rss_anon_mib": idle_anon,
            "phases": [up, down],
            "high_water_rss_mib": status_kib(server.pid, "VmHWM") // 1024,
            "after_rss_mib": status_kib(server.pid, "VmRSS") // 1024,
            "errors": errors,
        }
    finally:
        server.terminate()
        server.wait()
        shutil.rmtree(data_dir, ignore_errors=True)
    print(f"idle RSS {result['idle_rss_mib']} MiB ({result['idle_rss_anon_mib']} MiB anonymous)")
    for p in result["phases"]:
        print(f"{p['phase']}: {p['seconds']} s ({p['mb_per_s']} MB/s), "
              f"peak RSS {p['peak_rss_mib']} MiB")
    print(f"high-water RSS {result['high_water_rss_mib']} MiB, {result['after_rss_mib']} MiB after; "
          f"errors: {len(errors)}")
    for e in errors:
        print("  " + e)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(result, f, indent=2)
    sys.exit(1 if errors else 0)


if __name__ == "__main__":
    main()
