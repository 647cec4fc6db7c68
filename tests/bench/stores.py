#!/usr/bin/env python3
"""Store throughput through Glint: one image uploaded to the file store, copied by the import
API (copy-image) to Swift, Ceph RBD and VMware, and downloaded from each with ?prefer=, with
each download's md5 compared. Next to it, each backend reached without Glint (dd to the file
store's disk, curl to Swift and to the vSphere simulator's datastore, rbd import/export), and
each download again with curl (loopback, no md5 on the client side).

Needs a release build (cargo build --release --workspace) and starts the backends through the
shared scripts (Swift with tempauth on its own ports, Ceph, vcsim) when they are not running.
Python standard library only; loopback only. A measurement, not a test: numbers from one noisy
machine, to read side by side within one run.

    python3 tests/bench/stores.py [--size-mib 1024] [--out stores.json]
"""
import argparse
import glob
import hashlib
import http.client
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time

MIB = 1 << 20
ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
# The swift store's tests use this tempauth Swift too (a Swift in Keystone mode is much slower).
SWIFT_ENV = {
    "SWIFT_STATE": "/tmp/glance-backends/swift-glint-tempauth",
    "SWIFT_PROXY_PORT": "8090",
    "SWIFT_BASE_PORT": "6210",
    "SWIFT_MEMCACHE_PORT": "11213",
}


def backend(shared, script, env=None):
    """Runs a shared backend script; returns the KEY=value settings it prints."""
    out = subprocess.run(["bash", os.path.join(shared, "backends", script)], check=True,
                         capture_output=True, text=True, env={**os.environ, **(env or {})}).stdout
    return dict(line.split("=", 1) for line in out.splitlines() if "=" in line)


def make_data(path, size):
    """Writes `size` bytes that never repeat a MiB (so no store can skip or dedupe chunks)."""
    block = bytearray(os.urandom(MIB))
    h = hashlib.md5()
    with open(path, "wb") as f:
        for i in range(size // MIB):
            block[:8] = i.to_bytes(8, "little")
            f.write(block)
            h.update(block)
    return h.hexdigest()


def remove_vcsim(vcsim, name):
    """Removes a file or directory from the simulator's datastore, where vcsim keeps it locally."""
    for path in glob.glob(os.path.join(vcsim["VCSIM_STATE"], "datastores", "*", name)):
        if os.path.isdir(path):
            shutil.rmtree(path, ignore_errors=True)
        else:
            os.remove(path)


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return time.perf_counter() - t, result


def mb_s(size, secs):
    return size / secs / 1e6


def run(cmd, **kw):
    return subprocess.run(cmd, check=True, capture_output=True, text=True, **kw)


def curl_mb_s(args):
    """curl's own average speed (bytes/s) of one transfer, in MB/s."""
    out = run(["curl", "-sS", "--fail", "-o", "/dev/null", "-w", "%{speed_download} %{speed_upload}",
               *args]).stdout.split()
    return max(float(x) for x in out) / 1e6


def toml_table(options):
    return "{ " + ", ".join(f"{k} = {json.dumps(v)}" for k, v in options.items()) + " }"


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Glint:
    def __init__(self, port):
        self.port = port

    def request(self, method, path, body=None, headers=None, read=True):
        c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=3600)
        c.request(method, path, body=body, headers={"X-Auth-Token": "bench", **(headers or {})})
        r = c.getresponse()
        return r.status, (r.read() if read else r)

    def json(self, method, path, body=None):
        status, data = self.request(method, path, json.dumps(body) if body is not None else None,
                                    {"Content-Type": "application/json"})
        return status, json.loads(data) if data else None

    def wait_ready(self, proc, log):
        for _ in range(300):
            if proc.poll() is not None:
                sys.exit(f"glint exited; log:\n{open(log).read()[-4000:]}")
            try:
                if self.request("GET", "/")[0] == 300:
                    return
            except OSError:
                pass
            time.sleep(0.1)
        sys.exit("glint did not start")

    def settled(self, image_id):
        while True:
            _, img = self.json("GET", f"/v2/images/{image_id}")
            if "os_glance_import_task" not in img and not img.get("os_glance_importing_to_stores"):
                return img
            time.sleep(0.05)

    def download(self, image_id, store):
        status, r = self.request("GET", f"/v2/images/{image_id}/file?prefer={store}", read=False)
        if status != 200:
            raise RuntimeError(f"download from {store}: {status}")
        h, n = hashlib.md5(), 0
        while chunk := r.read(MIB):
            h.update(chunk)
            n += len(chunk)
        return n, h.hexdigest()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--size-mib", type=int, default=1024)
    ap.add_argument("--target", default=os.path.join(ROOT, "target", "release"))
    ap.add_argument("--shared", default=os.environ.get("GLINT_SHARED", os.path.join(ROOT, "..", "shared")))
    ap.add_argument("--out")
    a = ap.parse_args()
    size = a.size_mib * MIB
    glint_bin = os.path.join(a.target, "glint")
    plugins = [os.path.join(a.target, f"libglint_store_{d}.so") for d in ("file", "swift", "rbd", "vmware")]
    for f in [glint_bin, *plugins]:
        if not os.path.exists(f):
            sys.exit(f"{f} is missing: cargo build --release --workspace")

    swift = backend(a.shared, "swift-up.sh", SWIFT_ENV)
    ceph = backend(a.shared, "ceph-up.sh")
    vcsim = backend(a.shared, "vcsim-up.sh")

    work = tempfile.mkdtemp(prefix="glint-bench-stores-", dir="/var/tmp")
    tag = f"glint-bench-{os.getpid()}"
    proc = None
    swift_container = []
    res = {"size_mib": a.size_mib, "stores": {}, "baselines": {}}
    try:
        data = os.path.join(work, "image.raw")
        md5 = make_data(data, size)

        # --- Each backend without Glint.
        base = res["baselines"]
        dd = run(["dd", "if=/dev/zero", f"of={os.path.join(work, 'dd.out')}", "bs=1M",
                  f"count={a.size_mib}", "conv=fsync"]).stderr
        speed = re.search(r"([\d.,]+) ([kMG])B/s", dd)
        base["dd_conv_fsync"] = float(speed.group(1).replace(",", ".")) * {"k": 1e-3, "M": 1, "G": 1e3}[speed.group(2)]
        os.remove(os.path.join(work, "dd.out"))

        auth = subprocess.run(["curl", "-sS", "-D", "-", "-o", "/dev/null", "-H", f"X-Auth-User: {swift['SWIFT_USER']}",
                               "-H", f"X-Auth-Key: {swift['SWIFT_KEY']}", swift["SWIFT_AUTH_URL"]],
                              check=True, capture_output=True, text=True).stdout
        hdr = {k.lower(): v.strip() for k, v in (l.split(":", 1) for l in auth.splitlines() if ":" in l)}
        token, storage = hdr["x-auth-token"], hdr["x-storage-url"]
        run(["curl", "-sS", "--fail", "-X", "PUT", "-H", f"X-Auth-Token: {token}", f"{storage}/{tag}"])
        swift_container.extend([token, f"{storage}/{tag}"])
        obj = f"{storage}/{tag}/curl-object"
        base["swift_curl_put"] = curl_mb_s(["-T", data, "-H", f"X-Auth-Token: {token}", obj])
        base["swift_curl_get"] = curl_mb_s(["-H", f"X-Auth-Token: {token}", obj])
        run(["curl", "-sS", "-X", "DELETE", "-H", f"X-Auth-Token: {token}", obj])

        rbd = ["rbd", "-c", ceph["CEPH_CONF"], "--id", ceph["CEPH_USER"], "--keyring", ceph["CEPH_KEYRING"]]
        spec = f"{ceph['CEPH_POOL']}/{tag}-rbd"
        secs, _ = timed(lambda: run([*rbd, "import", "--object-size", "8M", data, spec]))
        base["rbd_import"] = mb_s(size, secs)
        secs, _ = timed(lambda: subprocess.run([*rbd, "export", spec, "-"], check=True, stdout=subprocess.DEVNULL,
                                               stderr=subprocess.PIPE))
        base["rbd_export"] = mb_s(size, secs)
        run([*rbd, "rm", spec])

        folder = (f"https://{vcsim['VCSIM_HOST']}:{vcsim['VCSIM_PORT']}/folder/{tag}.raw"
                  f"?dcPath={vcsim['VCSIM_DATACENTER']}&dsName={vcsim['VCSIM_DATASTORE']}")
        tls = ["--cacert", vcsim["VCSIM_CA_FILE"], "-u", f"{vcsim['VCSIM_USER']}:{vcsim['VCSIM_PASSWORD']}"]
        base["vmware_curl_put"] = curl_mb_s([*tls, "-T", data, folder])
        base["vmware_curl_get"] = curl_mb_s([*tls, folder])
        # The simulator's datastore browser cannot delete: remove the file where vcsim keeps it.
        remove_vcsim(vcsim, f"{tag}.raw")

        # --- Glint over the four stores (no image cache: every download reads its store).
        file_dir = os.path.join(work, "file-store")
        stores = {
            "file": ("file", {"datadir": file_dir}),
            "swift": ("swift", {"auth_url": swift["SWIFT_AUTH_URL"], "auth_version": "1",
                                "user": swift["SWIFT_USER"], "key": swift["SWIFT_KEY"], "container": tag}),
            "rbd": ("rbd", {"pool": ceph["CEPH_POOL"], "rados_user": ceph["CEPH_USER"],
                            "ceph_conf": ceph["CEPH_CONF"], "keyring": ceph["CEPH_KEYRING"]}),
            "vmware": ("vmware", {"host": vcsim["VCSIM_HOST"], "port": int(vcsim["VCSIM_PORT"]),
                                  "username": vcsim["VCSIM_USER"], "password": vcsim["VCSIM_PASSWORD"],
                                  "datastores": [f"{vcsim['VCSIM_DATACENTER']}:{vcsim['VCSIM_DATASTORE']}"],
                                  "store_image_dir": f"/{tag}", "ca_file": vcsim["VCSIM_CA_FILE"]}),
        }
        config = 'default_store = "file"\n\n[cache]\nenabled = false\n'
        for sid, (driver, opts) in stores.items():
            config += f'\n[stores.{sid}]\ndriver = "{driver}"\noptions = {toml_table(opts)}\n'
        with open(os.path.join(work, "glint.toml"), "w") as f:
            f.write(config)
        port = free_port()
        log = os.path.join(work, "glint.log")
        env = {**os.environ, "GLINT_CONFIG": os.path.join(work, "glint.toml"),
               "GLINT_PLUGINS__PATHS": json.dumps(plugins), "GLINT_LOG": "warn"}
        proc = subprocess.Popen([glint_bin, "serve", "--bind", f"127.0.0.1:{port}", "--data-dir",
                                 os.path.join(work, "data")], env=env, stdout=open(log, "w"),
                                stderr=subprocess.STDOUT)
        g = Glint(port)
        g.wait_ready(proc, log)

        _, img = g.json("POST", "/v2/images", {"name": "bench", "disk_format": "raw", "container_format": "bare"})
        image_id = img["id"]
        with open(data, "rb") as f:
            secs, (status, body) = timed(lambda: g.request(
                "PUT", f"/v2/images/{image_id}/file", body=f,
                headers={"Content-Type": "application/octet-stream", "Content-Length": str(size)}))
        if status != 204:
            sys.exit(f"upload: {status} {body[:300]!r}")
        res["stores"]["file"] = {"in_mb_s": mb_s(size, secs), "in": "upload"}

        for sid in ("swift", "rbd", "vmware"):
            def copy():
                status, body = g.json("POST", f"/v2/images/{image_id}/import",
                                      {"method": {"name": "copy-image"}, "stores": [sid]})
                if status != 202:
                    sys.exit(f"copy-image to {sid}: {status} {body}")
                return g.settled(image_id)
            secs, img = timed(copy)
            if sid not in img.get("stores", "").split(","):
                sys.exit(f"copy-image to {sid} failed: {img}")
            res["stores"][sid] = {"in_mb_s": mb_s(size, secs), "in": "copy-image from file"}

        for sid in stores:
            secs, (n, got) = timed(lambda: g.download(image_id, sid))
            res["stores"][sid]["out_mb_s"] = mb_s(n, secs)
            res["stores"][sid]["md5_ok"] = n == size and got == md5
            # The same download by curl, without Python's reading and md5 in the way.
            res["stores"][sid]["out_curl_mb_s"] = curl_mb_s(
                [f"http://127.0.0.1:{port}/v2/images/{image_id}/file?prefer={sid}"])
        g.request("DELETE", f"/v2/images/{image_id}")
    finally:
        if proc:
            proc.terminate()
            proc.wait()
        if swift_container:
            subprocess.run(["curl", "-sS", "-X", "DELETE", "-H", f"X-Auth-Token: {swift_container[0]}",
                            swift_container[1]], capture_output=True)
        remove_vcsim(vcsim, tag)
        shutil.rmtree(work, ignore_errors=True)

    print(f"{a.size_mib} MiB image; MB/s (10^6 bytes per second)")
    print(f"{'store':<8} {'into the store':>15} {'how':<21} {'download+md5':>13} {'curl download':>14}  md5")
    for sid, r in res["stores"].items():
        print(f"{sid:<8} {r['in_mb_s']:>15.0f} {r['in']:<21} {r['out_mb_s']:>13.0f} {r['out_curl_mb_s']:>14.0f}"
              f"  {'ok' if r['md5_ok'] else 'MISMATCH'}")
    print("without Glint:")
    for k, v in res["baselines"].items():
        print(f"  {k:<28} {v:>7.0f}")
    if a.out:
        with open(a.out, "w") as f:
            json.dump(res, f, indent=1)
    if not all(r["md5_ok"] for r in res["stores"].values()):
        sys.exit("a download differs from the upload")


if __name__ == "__main__":
    main()
