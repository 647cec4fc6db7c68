#!/usr/bin/env python3
"""Import the same qcow2 into the reference Glance 33 and into Glint with the same import
plugins, and print where the resulting image records differ.

Both servers run `image_conversion` (output raw), and in a second pass also
`inject_image_metadata`, with one store `fs` (`tests/parity/import-plugins.sh` sets them up).
The qcow2 is made here with `qemu-img` (1.5 MiB of a fixed pattern in a 4 MiB disk) and
imported into each server twice: by glance-direct (stage, then import) and by web-download
from the fixture server on loopback. For each pair of imports the script compares, key by key:

- the image record once the import is over (ids, owners and times masked): status,
  disk_format, container_format, size, virtual_size, checksum, os_hash_algo, os_hash_value,
  stores, the os_glance_* properties and any injected property;
- the image's import task (status, message, input, result);
- the downloaded bytes, by md5;
- and a qcow2 with a backing file, which both must refuse: the answers, the image left
  behind and the task (its message differs on purpose, see KNOWN).

Each server's record is also checked against what `qemu-img convert -O raw` makes of the
file, so a value both servers get wrong is reported too. Exit status 1 when any difference
or wrong value is found.

    python3 tests/parity/import_plugins.py --glance URL --glint URL --fixtures DIR \
        --fixture-url http://127.0.0.1:PORT [--inject key=value ...]

Python standard library (and qemu-img) only; loopback only.
"""
import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

# Keys that name the request rather than the outcome.
MASKED = {"id", "created_at", "updated_at", "owner", "self", "file", "expires_at",
          "request_id", "user_id", "image_id"}
# Glance's unauthenticated mode cannot run imports (the task's owner would be NULL), so both
# servers are called with the identity headers keystonemiddleware would set; the reference
# trusts them (its pipeline has `context` instead of `unauthenticated-context`) and Glint's
# noauth mode ignores them.
IDENTITY = {"X-Identity-Status": "Confirmed", "X-Project-Id": "parity-project",
            "X-User-Id": "parity-user", "X-Roles": "member", "X-Auth-Token": "unused"}
SETTLE_SECONDS = 300
# A refused import leaves the image queued, its store marked failed.
REFUSED = {"status": "queued", "disk_format": "qcow2", "os_glance_failed_import": "fs",
           "os_glance_importing_to_stores": "", "checksum": None, "os_hash_value": None}
# Differences kept on purpose (docs/differences-from-glance.md), by the line's path.
KNOWN = {
    "/task/message": "the task names the plugin and why it failed, not an internal error",
}


class Server:
    def __init__(self, name, url):
        self.name, self.url = name, url.rstrip("/")

    def call(self, method, path, body=None, content_type="application/json"):
        headers = dict(IDENTITY, Accept="application/json")
        data = None
        if body is not None:
            data = body if isinstance(body, bytes) else json.dumps(body).encode()
            headers["Content-Type"] = content_type
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        try:
            with urllib.request.urlopen(req, timeout=300) as r:
                return r.status, r.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()

    def expect(self, status, method, path, body=None, **kw):
        got, data = self.call(method, path, body, **kw)
        if got != status:
            raise SystemExit(f"{self.name}: {method} {path} answered {got}, not {status}: "
                             f"{data[:400]!r}")
        return json.loads(data) if data.strip() else None

    def settled(self, image_id):
        """The image once its import is over (no task lock, no store still importing)."""
        deadline = time.monotonic() + SETTLE_SECONDS
        while True:
            image = self.expect(200, "GET", f"/v2/images/{image_id}")
            busy = image.get("os_glance_import_task") or image.get("os_glance_importing_to_stores")
            if not busy and image["status"] != "importing":
                return image
            if time.monotonic() > deadline:
                raise SystemExit(f"{self.name}: the import of {image_id} did not end: {image}")
            time.sleep(0.2)

    def task(self, image_id):
        tasks = self.expect(200, "GET", f"/v2/images/{image_id}/tasks")["tasks"]
        return tasks[0] if tasks else None

    def data_md5(self, image_id):
        status, data = self.call("GET", f"/v2/images/{image_id}/file")
        return hashlib.md5(data).hexdigest() if status == 200 else f"download answered {status}"


def import_one(server, method, qcow2, uri):
    """Create a qcow2 image, import it by `method`; the settled image, its task, data md5."""
    image = server.expect(201, "POST", "/v2/images", {
        "name": f"parity-{method}", "disk_format": "qcow2", "container_format": "bare"})
    image_id = image["id"]
    if method == "glance-direct":
        server.expect(204, "PUT", f"/v2/images/{image_id}/stage", qcow2,
                      content_type="application/octet-stream")
        body = {"method": {"name": "glance-direct"}}
    else:
        body = {"method": {"name": "web-download", "uri": uri}}
    server.expect(202, "POST", f"/v2/images/{image_id}/import", body)
    image = server.settled(image_id)
    return image, server.task(image_id), server.data_md5(image_id)


def refused_one(server, backed):
    """Stage a qcow2 with a backing file and import it by glance-direct: what each step
    answered, then the settled image and its task."""
    image_id = server.expect(201, "POST", "/v2/images", {
        "name": "parity-refused", "disk_format": "qcow2", "container_format": "bare"})["id"]
    steps = {"stage": server.call("PUT", f"/v2/images/{image_id}/stage", backed,
                                  content_type="application/octet-stream")[0]}
    if steps["stage"] == 204:
        steps["import"] = server.call("POST", f"/v2/images/{image_id}/import",
                                      {"method": {"name": "glance-direct"}})[0]
    return steps, server.settled(image_id), server.task(image_id)


def mask(value):
    if isinstance(value, dict):
        return {k: mask(v) for k, v in value.items() if k not in MASKED}
    if isinstance(value, list):
        return [mask(v) for v in value]
    return value


def differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b)):
            if key not in a:
                out.append(f"{path}/{key}: only glint: {json.dumps(b[key])[:200]}")
            elif key not in b:
                out.append(f"{path}/{key}: only glance: {json.dumps(a[key])[:200]}")
            else:
                out += differences(a[key], b[key], f"{path}/{key}")
        return out
    if a != b:
        return [f"{path or '/'}: glance {json.dumps(a)[:200]}, glint {json.dumps(b)[:200]}"]
    return []


def fixture(directory):
    """Writes img.qcow2, expected.raw (qemu-img's raw conversion of it) and backed.qcow2 (a
    qcow2 with a backing file); their bytes."""
    block, pattern = b"glint-import-parity", bytearray()
    while len(pattern) < 3 << 19:
        block = hashlib.sha256(block).digest()
        pattern += block
    raw = bytes(pattern[:3 << 19]).ljust(4 << 20, b"\0")
    paths = {name: os.path.join(directory, name) for name in ("src.raw", "img.qcow2",
                                                               "expected.raw")}
    with open(paths["src.raw"], "wb") as f:
        f.write(raw)
    for args in (["-f", "raw", "-O", "qcow2", paths["src.raw"], paths["img.qcow2"]],
                 ["-f", "qcow2", "-O", "raw", paths["img.qcow2"], paths["expected.raw"]]):
        subprocess.run(["qemu-img", "convert", *args], check=True)
    # A qcow2 whose data lives in another file: both plugins must refuse it.
    backed = os.path.join(directory, "backed.qcow2")
    subprocess.run(["qemu-img", "create", "-q", "-f", "qcow2", "-b", paths["src.raw"], "-F", "raw",
                    backed], check=True)
    with open(paths["img.qcow2"], "rb") as f, open(paths["expected.raw"], "rb") as g, \
            open(backed, "rb") as h:
        return f.read(), g.read(), h.read()


def expected_record(raw, injected):
    record = {
        "status": "active", "disk_format": "raw", "container_format": "bare",
        "size": len(raw), "virtual_size": 4 << 20,
        "checksum": hashlib.md5(raw).hexdigest(), "os_hash_algo": "sha512",
        "os_hash_value": hashlib.sha512(raw).hexdigest(), "stores": "fs",
        "os_glance_importing_to_stores": "", "os_glance_failed_import": "",
    }
    record.update(injected)
    return record


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--glance", required=True)
    parser.add_argument("--glint", required=True)
    parser.add_argument("--fixtures", required=True, help="directory the fixture server serves")
    parser.add_argument("--fixture-url", required=True, help="URL of that directory")
    parser.add_argument("--inject", action="append", default=[], metavar="KEY=VALUE",
                        help="a property inject_image_metadata is configured to add")
    parser.add_argument("--label", default="image_conversion")
    args = parser.parse_args()
    for url in (args.glance, args.glint, args.fixture_url):
        if urllib.parse.urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit(f"loopback URLs only: {url}")
    injected = dict(item.split("=", 1) for item in args.inject)

    qcow2, raw, backed = fixture(args.fixtures)
    uri = args.fixture_url.rstrip("/") + "/img.qcow2"
    expected = expected_record(raw, injected)
    servers = (Server("glance", args.glance), Server("glint", args.glint))
    found = 0
    for method in ("glance-direct", "web-download"):
        outcomes = [import_one(server, method, qcow2, uri) for server in servers]
        label = f"{args.label}, {method}"
        images = [mask(image) for image, _, _ in outcomes]
        tasks = [mask(task) for _, task, _ in outcomes]
        lines = differences(images[0], images[1], "/image")
        lines += differences(tasks[0], tasks[1], "/task")
        lines += [f"{server.name}: the image has no import task"
                  for server, task in zip(servers, tasks) if not task]
        for server, (image, _, md5) in zip(servers, outcomes):
            for key, value in expected.items():
                if image.get(key) != value:
                    lines.append(f"{server.name} {key}: {json.dumps(image.get(key))}, "
                                 f"expected {json.dumps(value)}")
            if md5 != expected["checksum"]:
                lines.append(f"{server.name} data: {md5}, expected {expected['checksum']}")
        if lines:
            found += len(lines)
            print(f"== {label}")
            for line in lines:
                print(f"   {line}")
        else:
            print(f"ok {label}: {len(images[0])} image keys, {len(tasks[0])} task keys and "
                  f"the data alike (disk_format {expected['disk_format']}, size "
                  f"{expected['size']})")

    outcomes = [refused_one(server, backed) for server in servers]
    label = f"{args.label}, refused (a backing file)"
    lines = differences(outcomes[0][0], outcomes[1][0], "/answers")
    lines += differences(mask(outcomes[0][1]), mask(outcomes[1][1]), "/image")
    lines += differences(mask(outcomes[0][2]), mask(outcomes[1][2]), "/task")
    known = [line for line in lines if line.startswith(tuple(KNOWN))]
    lines = [line for line in lines if line not in known]
    for server, (_, image, _) in zip(servers, outcomes):
        for key, value in REFUSED.items():
            if image.get(key) != value:
                lines.append(f"{server.name} {key}: {json.dumps(image.get(key))}, "
                             f"expected {json.dumps(value)}")
    for line in known:
        print(f"~~ {label}: {line} (known: {KNOWN[line.split(':')[0]]})")
    if lines:
        found += len(lines)
        print(f"== {label}")
        for line in lines:
            print(f"   {line}")
    else:
        print(f"ok {label}: the same answers and image record")
    print(f"{found} differences, {len(known)} known ones ({args.label})")
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
