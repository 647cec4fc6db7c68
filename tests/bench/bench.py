#!/usr/bin/env python3
"""Glint benchmark: creates, listing, large uploads and downloads, server memory and CPU.

Runs against any Images-v2 endpoint on loopback (Glint or Glance), standard
library only. Prints a table and writes JSON. Numbers from one machine are only
comparable within the same run: compare ratios, not lone timings
(`compare.py` runs Glance and Glint back to back and prints the ratios).

    python3 tests/bench/bench.py --url http://127.0.0.1:9292 --server-pid PID [--quick]
"""
import argparse
import concurrent.futures as cf
import functools
import hashlib
import http.client
import json
import os
import sys
import threading
import time
import urllib.parse

MIB = 1 << 20


class Client:
    def __init__(self, url, token):
        u = urllib.parse.urlparse(url)
        if u.hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit("refusing a non-loopback URL")
        self.host, self.port, self.token = u.hostname, u.port or 80, token
        self.local = threading.local()

    def conn(self):
        c = getattr(self.local, "c", None)
        if c is None:
            c = self.local.c = http.client.HTTPConnection(self.host, self.port, timeout=600)
        return c

    def request(self, method, path, body=None, headers=None, read=True):
        h = {"X-Auth-Token": self.token}
        h.update(headers or {})
        for attempt in range(2):
            c = self.conn()
            try:
                c.request(method, path, body=body, headers=h)
                r = c.getresponse()
                data = r.read() if read else r
                if r.getheader("connection", "").lower() == "close":
                    self.local.c = None
                return r.status, data
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.local.c = None
                if attempt or body is not None and not isinstance(body, (bytes, str)):
                    raise
        raise RuntimeError("unreachable")

    def create(self, name, **extra):
        body = {"name": name, "disk_format": "raw", "container_format": "bare", **extra}
        status, data = self.request("POST", "/v2/images", json.dumps(body), {"Content-Type": "application/json"})
        if status != 201:
            raise RuntimeError(f"create: {status} {data[:200]!r}")
        return json.loads(data)["id"]


def tree(pid):
    """pid and its children (uWSGI's workers for Glance)."""
    pids = [pid]
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            pids += [int(p) for p in f.read().split()]
    except OSError:
        pass
    return pids


def cpu_s(pid):
    """CPU seconds (user + system) used so far by pid and its children."""
    if not pid:
        return 0.0
    ticks = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/stat") as f:
                fields = f.read().rsplit(")", 1)[1].split()
            ticks += int(fields[11]) + int(fields[12])
        except (OSError, IndexError, ValueError):
            pass
    return ticks / os.sysconf("SC_CLK_TCK")


def rss_kib(pid):
    """Resident memory of pid and its children, KiB."""
    total = 0
    for p in tree(pid):
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


class PeakRss:
    def __init__(self, pid):
        self.pid, self.peak, self.stop = pid, 0, threading.Event()

    def __enter__(self):
        def run():
            while not self.stop.is_set():
                self.peak = max(self.peak, rss_kib(self.pid))
                time.sleep(0.02)
        self.t = threading.Thread(target=run, daemon=True)
        self.t.start()
        return self

    def __exit__(self, *a):
        self.stop.set()
        self.t.join()


def data_stream(size, seed):
    """Yield `size` bytes in 1 MiB chunks, hashing nothing; content varies by seed."""
    block = hashlib.sha512(str(seed).encode()).digest() * (MIB // 64)
    sent = 0
    while sent < size:
        n = min(MIB, size - sent)
        yield block[:n]
        sent += n


@functools.lru_cache(maxsize=None)
def expected_md5(size, seed):
    h = hashlib.md5()
    for chunk in data_stream(size, seed):
        h.update(chunk)
    return h.hexdigest()


def upload(c, image_id, size, seed):
    t = time.perf_counter()
    status, data = c.request("PUT", f"/v2/images/{image_id}/file", body=data_stream(size, seed),
                             headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)})
    if status != 204:
        raise RuntimeError(f"upload: {status} {data[:200]!r}")
    return time.perf_counter() - t


def download(c, image_id):
    """Seconds, bytes and the Content-MD5 header. The body is only counted:
    hashing it here would make the client's CPU the limit being measured."""
    t = time.perf_counter()
    status, r = c.request("GET", f"/v2/images/{image_id}/file", read=False)
    if status != 200:
        raise RuntimeError(f"download: {status}")
    buf = memoryview(bytearray(MIB))
    n = 0
    while True:
        k = r.readinto(buf)
        if not k:
            break
        n += k
    return time.perf_counter() - t, n, r.getheader("content-md5")


def timed_creates(c, n, concurrency, prefix):
    errors = 0
    def one(i):
        nonlocal errors
        try:
            c.create(f"{prefix}-{i}")
        except Exception:
            errors += 1
    t = time.perf_counter()
    if concurrency == 1:
        for i in range(n):
            one(i)
    else:
        with cf.ThreadPoolExecutor(concurrency) as ex:
            list(ex.map(one, range(n)))
    return n / (time.perf_counter() - t), errors


def timed_lists(c, limit, rounds):
    t = time.perf_counter()
    for _ in range(rounds):
        status, data = c.request("GET", f"/v2/images?limit={limit}")
        if status != 200:
            raise RuntimeError(f"list: {status}")
    return (time.perf_counter() - t) / rounds * 1000


def creates(c, quick=False):
    """Sequential creates, then creates from 64 clients at once (with the errors)."""
    res = {}
    res["create_seq_per_s"], _ = timed_creates(c, 200 if quick else 500, 1, "seq")
    res["create_c64_per_s"], res["create_c64_errors"] = timed_creates(c, 640 if quick else 1280, 64, "c64")
    return res


def run(url, token="bench", server_pid=None, quick=False, label="server"):
    """The whole workload against `url`; the results as a dict."""
    c = Client(url, token)
    pid = server_pid or 0
    big = (64 if quick else 1024) * MIB
    par = (16 if quick else 256) * MIB
    list_images = 1000 if quick else 10_000
    res = {"label": label}
    if pid:
        res["rss_idle_mib"] = rss_kib(pid) / 1024

    res.update(creates(c, quick))

    # Fill up to the list size with concurrent creates, then time list pages.
    have = (200 + 640) if quick else (500 + 1280)
    if have < list_images:
        timed_creates(c, list_images - have, 16, "fill")
    res["list_25_ms"] = timed_lists(c, 25, 50)
    res["list_1000_ms"] = timed_lists(c, 1000, 5 if quick else 10)

    image_id = c.create("big")
    cpu = cpu_s(pid)
    with PeakRss(pid) as peak:
        secs = upload(c, image_id, big, 1)
    res["upload_1g_mb_s"] = big / secs / 1e6
    if pid:
        res["upload_1g_cpu_s_per_gib"] = (cpu_s(pid) - cpu) * (1024 * MIB) / big
        res["rss_upload_peak_mib"] = peak.peak / 1024
    # The first download of an image and a later one (a cache hit where
    # the server caches): each must hold its own.
    want = expected_md5(big, 1)
    for name in ("download_1g", "download_1g_again"):
        cpu = cpu_s(pid)
        secs, n, md5 = download(c, image_id)
        res[f"{name}_mb_s"] = n / secs / 1e6
        if pid:
            res[f"{name}_cpu_s_per_gib"] = (cpu_s(pid) - cpu) * (1024 * MIB) / n
        res[f"{name}_ok"] = n == big and md5 == want
        # A cache filling in the background must not count for the next read.
        time.sleep(1)

    # Concurrent transfers: a server that fails some (Glance's SQLite says
    # "database is locked") gets them counted, not the whole run stopped.
    ids = [c.create(f"par-{i}") for i in range(8)]
    def up(k):
        try:
            upload(Client(url, token), ids[k], par, 10 + k)
            return True
        except Exception:
            return False
    t = time.perf_counter()
    with PeakRss(pid) as peak:
        with cf.ThreadPoolExecutor(8) as ex:
            uploaded = [k for k, ok in enumerate(ex.map(up, range(8))) if ok]
    res["upload_8x256m_mb_s"] = len(uploaded) * par / (time.perf_counter() - t) / 1e6
    res["upload_8x256m_errors"] = 8 - len(uploaded)
    if pid:
        res["rss_8x_upload_peak_mib"] = peak.peak / 1024
    def down(k):
        try:
            _, n, md5 = download(Client(url, token), ids[k])
            return n if n == par and md5 == expected_md5(par, 10 + k) else None
        except Exception:
            return None
    for k in uploaded:  # outside the timed part
        expected_md5(par, 10 + k)
    t = time.perf_counter()
    with PeakRss(pid) as peak:
        with cf.ThreadPoolExecutor(8) as ex:
            got = list(ex.map(down, uploaded))
    res["download_8x256m_mb_s"] = sum(n or 0 for n in got) / (time.perf_counter() - t) / 1e6
    res["download_8x256m_errors"] = sum(1 for n in got if n is None)
    if pid:
        res["rss_8x_download_peak_mib"] = peak.peak / 1024
    return res


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", default="http://127.0.0.1:9292")
    ap.add_argument("--token", default="bench")
    ap.add_argument("--server-pid", type=int)
    ap.add_argument("--label", default="server")
    ap.add_argument("--quick", action="store_true", help="smaller sizes, for a smoke run")
    ap.add_argument("--out")
    a = ap.parse_args()
    res = run(a.url, a.token, a.server_pid, a.quick, a.label)
    width = max(len(k) for k in res)
    for k, v in res.items():
        print(f"{k:<{width}}  {v:.1f}" if isinstance(v, float) else f"{k:<{width}}  {v}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)


if __name__ == "__main__":
    main()
