#!/usr/bin/env python3
"""Send the same requests to the reference Glance 33 and to Glint, and print where they differ.

Both servers validate tokens with the same Keystone (the shared harness's), have the stores
`fast`, `slow` (file) and `web` (http), and hold Glance's bundled metadata definitions
(`tests/parity/run.sh` sets up Glint that way; `glance-ks-up.sh` does it for Glance). Three
kinds of checks:

- single requests, many of them malformed: status, and the error message word for word;
- flows: an image's life (upload, ranges, members, tags, patches, actions, delete), a staged
  import, paging, and metadef CRUD, with status, body and the headers clients read;
- every read endpoint of every bundled metadef namespace, body for body.

Identifiers, timestamps and owners are masked before comparing. Differences listed in KNOWN
(where Glance answers 500, or orders a set differently, or writes its JSON-schema validator's
long report) are counted apart. Exit status 1 when any other difference is found.

    python3 tests/parity/compare.py --glance http://127.0.0.1:9393 --glint http://127.0.0.1:9595

Python standard library only; loopback only.
"""
import argparse
import glob
import json
import os
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid

UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
MASKED = {"created_at", "updated_at", "owner", "expires_at", "request_id", "user_id"}
HEADERS = ("content-type", "content-length", "content-range", "content-md5", "location",
           "allow", "accept-patch", "openstack-image-import-methods")
PATCH = {"Content-Type": "application/openstack-images-v2.1-json-patch"}
PATCH_20 = {"Content-Type": "application/openstack-images-v2.0-json-patch"}
OCTETS = {"Content-Type": "application/octet-stream"}

# Differences that are understood and kept, by check label prefix: why each is kept.
KNOWN = {
    "create body []": "Glance answers 500; Glint 400",
    "metadef list sort_key bogus": "Glance answers 500; Glint 400",
    "image create with schema errors": "Glance adds its JSON-schema validator's long report",
    "tags order": "a set: Glance's order is its database's",
}


class Server:
    def __init__(self, name, url, tokens):
        self.name, self.url, self.tokens = name, url.rstrip("/"), tokens
        self.port = urllib.parse.urlparse(self.url).port

    def call(self, method, path, body=None, headers=None, who="demo", raw=False):
        h = {"X-Auth-Token": self.tokens[who], "Accept": "application/json"}
        h.update(headers or {})
        data = None
        if body is not None:
            data = body if raw else json.dumps(body).encode()
            h.setdefault("Content-Type", "application/json")
        req = urllib.request.Request(self.url + path, data=data, headers=h, method=method)
        try:
            with urllib.request.urlopen(req, timeout=60) as r:
                return r.status, {k.lower(): v for k, v in r.headers.items()}, r.read()
        except urllib.error.HTTPError as e:
            return e.code, {k.lower(): v for k, v in e.headers.items()}, e.read()


def keystone_tokens(keystone, admin_password):
    def token(user, password, project):
        body = {"auth": {"identity": {"methods": ["password"], "password": {"user": {
            "name": user, "domain": {"id": "default"}, "password": password}}},
            "scope": {"project": {"name": project, "domain": {"id": "default"}}}}}
        req = urllib.request.Request(keystone + "/auth/tokens", data=json.dumps(body).encode(),
                                     headers={"Content-Type": "application/json"})
        with urllib.request.urlopen(req) as r:
            return r.headers["X-Subject-Token"], json.loads(r.read())["token"]["project"]["id"]
    demo, _ = token("demo", "demo-secret", "demo")
    admin, _ = token("admin", admin_password, "admin")
    _, service_project = token("glance", "glance-password", "service")
    return {"demo": demo, "admin": admin}, service_project


def mask(value, server):
    if isinstance(value, dict):
        return {k: mask(v, server) for k, v in value.items() if k not in MASKED}
    if isinstance(value, list):
        return [mask(v, server) for v in value]
    if isinstance(value, str):
        return UUID.sub("<id>", value).replace(f":{server.port}/", ":<port>/")
    return value


def body_of(answer, server):
    try:
        return mask(json.loads(answer[2]), server)
    except ValueError:
        return mask(answer[2].decode(errors="replace")[:400], server)


class Comparison:
    def __init__(self, glance, glint):
        self.glance, self.glint = glance, glint
        self.found, self.known = [], []

    def report(self, label, lines):
        if not lines:
            return
        why = next((why for prefix, why in KNOWN.items() if label.startswith(prefix)), None)
        (self.known if why else self.found).append((label, lines, why))

    def both(self, label, method, path, body=None, headers=None, who="demo", raw=False,
             ids=None, compare_body=True, compare_headers=()):
        answers = []
        for server, side in ((self.glance, 0), (self.glint, 1)):
            p = path
            for placeholder, pair in (ids or {}).items():
                p = p.replace(placeholder, pair[side])
            answers.append((server, server.call(method, p, body, headers, who, raw)))
        (ga, a), (gb, b) = answers
        lines = []
        if a[0] != b[0]:
            lines.append(f"status: glance {a[0]}, glint {b[0]}")
        ba, bb = body_of(a, ga), body_of(b, gb)
        if a[0] >= 400 and isinstance(ba, dict) and isinstance(bb, dict):
            if ba.get("message") != bb.get("message"):
                lines.append(f"message: glance {ba.get('message')!r:.300}")
                lines.append(f"         glint  {bb.get('message')!r:.300}")
        elif compare_body and ba != bb:
            lines += differences(ba, bb)
        for h in compare_headers:
            va, vb = (mask(x[1].get(h), s) for s, x in ((ga, a), (gb, b)))
            if va != vb:
                lines.append(f"header {h}: glance {va!r}, glint {vb!r}")
        self.report(label, lines)
        return a, b

    def created(self, label, body, who="demo"):
        a, b = self.both(label, "POST", "/v2/images", body, who=who,
                         compare_headers=("location", "openstack-image-import-methods"))
        return json.loads(a[2])["id"], json.loads(b[2])["id"]

    def wait(self, ids, statuses, who="demo"):
        for server, image in ((self.glance, ids[0]), (self.glint, ids[1])):
            for _ in range(300):
                img = json.loads(server.call("GET", f"/v2/images/{image}", who=who)[2])
                if img["status"] in statuses and not img.get("os_glance_import_task"):
                    break
                time.sleep(0.2)


def differences(a, b, path=""):
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for key in sorted(set(a) | set(b), key=str):
            if key not in a:
                out.append(f"{path}/{key}: only glint: {json.dumps(b[key])[:200]}")
            elif key not in b:
                out.append(f"{path}/{key}: only glance: {json.dumps(a[key])[:200]}")
            else:
                out += differences(a[key], b[key], f"{path}/{key}")
        return out
    if isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
        return [line for i, (x, y) in enumerate(zip(a, b))
                for line in differences(x, y, f"{path}[{i}]")]
    if a != b:
        return [f"{path or '/'}: glance {json.dumps(a)[:200]}, glint {json.dumps(b)[:200]}"]
    return []


def single_requests(c):
    """Malformed and edge-case requests, one at a time."""
    ids = c.created("create for single requests",
                    {"name": "probe", "disk_format": "raw", "container_format": "bare"})
    img = {"IMG": ids}
    nobody = str(uuid.uuid4())
    for query in ["limit=-1", "limit=abc", "limit=0", f"marker={nobody}", "marker=notauuid",
                  "sort_key=foo", "sort_dir=up", "sort=name:up", "sort=name:asc&sort_key=name",
                  "created_at=gt:notadate", "created_at=foo:2020-01-01T00:00:00Z",
                  "size_min=abc", "size_min=-1", "visibility=bogus", "status=bogus",
                  "member_status=bogus", "os_hidden=maybe", "protected=maybe",
                  "sort=bogus:asc", "sort=name:asc,name:desc", "limit=100000"]:
        c.both(f"list {query}", "GET", "/v2/images?" + query, compare_body=False)
    for path in ["/v2/images/notauuid", f"/v2/images/{nobody}", f"/v2/images/{nobody}/file",
                 f"/v2/images/{nobody}/members", "/v2/bogus", "/v2/images/IMG/members/bogus",
                 "/v2/images/IMG/file", "/v2/images/IMG/tasks", "/v2/schemas/bogus",
                 "/v2/images/IMG/actions/bogus", "/v2/metadefs/namespaces/bogus",
                 "/v2/metadefs/namespaces?limit=-1", "/v2/metadefs/namespaces?sort_dir=bogus",
                 "/v2/metadefs/namespaces/OS::Compute::Watchdog/objects/bogus",
                 "/v2/metadefs/namespaces/OS::Compute::Watchdog/properties/bogus",
                 "/v2/metadefs/namespaces/OS::Compute::Watchdog/tags/bogus",
                 f"/v2/tasks/{nobody}", "/v2/tasks?sort_key=bogus"]:
        c.both(f"get {path}", "GET", path, who="admin", ids=img, compare_body=False)
    c.both("metadef list sort_key bogus", "GET", "/v2/metadefs/namespaces?sort_key=bogus")
    for name in ["image", "images", "member", "members", "task", "tasks"] + [
            f"metadefs/{n}" for n in ["namespace", "namespaces", "object", "objects", "property",
                                      "properties", "tag", "tags", "resource_type",
                                      "resource_types"]]:
        c.both(f"schema {name}", "GET", f"/v2/schemas/{name}")
    for raw in [b"not json", b"{", b"null", b'"x"']:
        c.both(f"create body {raw!r}", "POST", "/v2/images", raw, raw=True)
    c.both("create body []", "POST", "/v2/images", b"[]", raw=True)
    for body in [{"status": "active"}, {"checksum": "x"}, {"locations": []}, {"min_ram": -1},
                 {"tags": ["a", "a"]}, {"size": 5}, {"self": "x"}, {"os_glance_x": "y"},
                 {"x" * 300: "v"}, {"visibility": "public"}, {"os_hash_algo": "x"}]:
        c.both(f"create {body!r:.60}", "POST", "/v2/images", body, compare_body=False)
    for body in [{"name": 1}, {"id": "bad"}, {"visibility": "bogus"}, {"os_hidden": "yes"},
                 {"foo": 1}, {"min_disk": "1"}]:
        c.both(f"image create with schema errors {body!r:.40}", "POST", "/v2/images", body)
    for ops in [[{"op": "bogus", "path": "/name", "value": "x"}],
                [{"op": "replace", "path": "/status", "value": "active"}],
                [{"op": "remove", "path": "/nonexistent"}], [{"op": "remove", "path": "/name"}],
                [{"op": "replace", "path": "name", "value": "x"}],
                [{"op": "add", "path": "/locations/-", "value": {"url": "http://x", "metadata": {}}}],
                [{"op": "replace", "path": "/locations", "value": []}],
                [{"op": "add", "path": "/a//b", "value": "x"}],
                [{"op": "replace", "path": "/min_ram", "value": -5}], {"op": "replace"}, []]:
        c.both(f"patch {json.dumps(ops):.70}", "PATCH", "/v2/images/IMG", ops, PATCH, ids=img,
               compare_body=False)
    c.both("patch wrong media type", "PATCH", "/v2/images/IMG", [], ids=img,
           compare_headers=("accept-patch",))
    c.both("upload wrong media type", "PUT", "/v2/images/IMG/file", b"abc",
           {"Content-Type": "text/plain"}, raw=True, ids=img)
    c.both("method not allowed", "DELETE", "/v2/images", compare_headers=("allow",))
    for action in ["deactivate", "reactivate"]:
        c.both(f"{action} a queued image", "POST", f"/v2/images/IMG/actions/{action}",
               who="admin", ids=img)
    for body in [{}, {"method": {"name": "bogus"}}, {"method": {"name": "glance-direct"}},
                 {"method": {"name": "web-download"}},
                 {"method": {"name": "copy-image"}, "stores": ["fast"]}]:
        c.both(f"import {body!r:.60}", "POST", "/v2/images/IMG/import", body, ids=img)
    for body in [{"type": "bogus"}, {"type": "import", "input": {}},
                 {"type": "import", "input": {"import_from": "file:///etc/passwd"}}]:
        c.both(f"legacy task {body!r:.60}", "POST", "/v2/tasks", body, who="admin")
    c.both("delete", "DELETE", "/v2/images/IMG", ids=img)


def image_flow(c, service_project):
    """One image's life: upload, ranges, members, tags, patches, actions, delete."""
    img = {"IMG": c.created("create", {"name": "f", "disk_format": "raw",
                                       "container_format": "bare", "visibility": "shared"})}
    data = bytes(range(256)) * 8
    c.both("upload", "PUT", "/v2/images/IMG/file", data, OCTETS, raw=True, ids=img)
    c.both("show", "GET", "/v2/images/IMG", ids=img)
    for rng in ["bytes=0-9", "bytes=-5", "bytes=5-", "bytes=2040-3000"]:
        c.both(f"download range {rng}", "GET", "/v2/images/IMG/file", headers={"Range": rng},
               ids=img, compare_headers=("content-range", "content-md5"))
    for rng in ["bytes=4000-5000", "bytes=0-1,3-4", "bytes=a-b", "bytes=10-5"]:
        c.both(f"download refused {rng}", "GET", "/v2/images/IMG/file",
               headers={"Range": rng}, ids=img)
    c.both("upload again", "PUT", "/v2/images/IMG/file", data, OCTETS, raw=True, ids=img)
    member = f"/v2/images/IMG/members/{service_project}"
    c.both("add member", "POST", "/v2/images/IMG/members", {"member": service_project}, ids=img)
    c.both("add member twice", "POST", "/v2/images/IMG/members", {"member": service_project},
           ids=img)
    c.both("members", "GET", "/v2/images/IMG/members", ids=img)
    c.both("member", "GET", member, ids=img)
    c.both("owner answers for the member", "PUT", member, {"status": "accepted"}, ids=img)
    c.both("bad member status", "PUT", member, {"status": "maybe"}, ids=img)
    c.both("delete member", "DELETE", member, ids=img)
    c.both("delete member again", "DELETE", member, ids=img)
    c.both("tag", "PUT", "/v2/images/IMG/tags/t1", ids=img)
    c.both("tag again", "PUT", "/v2/images/IMG/tags/t1", ids=img)
    c.both("untag", "DELETE", "/v2/images/IMG/tags/t1", ids=img)
    c.both("untag again", "DELETE", "/v2/images/IMG/tags/t1", ids=img)
    c.both("patch", "PATCH", "/v2/images/IMG", [
        {"op": "add", "path": "/p1", "value": "v"},
        {"op": "replace", "path": "/name", "value": "n2"},
        {"op": "replace", "path": "/min_ram", "value": 5}], PATCH, ids=img)
    c.both("tags order", "PATCH", "/v2/images/IMG",
           [{"op": "add", "path": "/tags", "value": ["a", "b", "a"]}], PATCH, ids=img)
    c.both("patch 2.0", "PATCH", "/v2/images/IMG", [
        {"add": "/p2", "value": "v"}, {"replace": "/p1", "value": "w"}, {"remove": "/p2"}],
        PATCH_20, ids=img, compare_body=False)
    c.both("patch 2.0 add existing", "PATCH", "/v2/images/IMG", [{"add": "/p1", "value": "v"}],
           PATCH_20, ids=img)
    c.both("protect", "PATCH", "/v2/images/IMG",
           [{"op": "replace", "path": "/protected", "value": True}], PATCH, ids=img,
           compare_body=False)
    c.both("delete protected", "DELETE", "/v2/images/IMG", ids=img)
    c.both("unprotect", "PATCH", "/v2/images/IMG",
           [{"op": "replace", "path": "/protected", "value": False}], PATCH, ids=img,
           compare_body=False)
    c.both("deactivate as member", "POST", "/v2/images/IMG/actions/deactivate", ids=img)
    c.both("deactivate", "POST", "/v2/images/IMG/actions/deactivate", who="admin", ids=img)
    c.both("download deactivated", "GET", "/v2/images/IMG/file", ids=img)
    c.both("reactivate", "POST", "/v2/images/IMG/actions/reactivate", who="admin", ids=img)
    c.both("delete", "DELETE", "/v2/images/IMG", ids=img)
    c.both("show deleted", "GET", "/v2/images/IMG", ids=img)


def import_flow(c):
    """Stage, glance-direct import, copy-image, per-store delete; a web-download that fails."""
    ids = c.created("create to import", {"name": "i", "disk_format": "raw",
                                         "container_format": "bare"})
    img = {"IMG": ids}
    data = b"x" * 4096
    c.both("stage", "PUT", "/v2/images/IMG/stage", data, OCTETS, raw=True, ids=img)
    c.both("show staged", "GET", "/v2/images/IMG", ids=img)
    c.both("stage again", "PUT", "/v2/images/IMG/stage", data, OCTETS, raw=True, ids=img)
    c.both("import", "POST", "/v2/images/IMG/import", {"method": {"name": "glance-direct"}},
           ids=img)
    c.wait(ids, {"active", "queued"})
    c.both("show imported", "GET", "/v2/images/IMG", ids=img)
    c.both("import again", "POST", "/v2/images/IMG/import",
           {"method": {"name": "glance-direct"}}, ids=img)
    c.both("copy to an unknown store", "POST", "/v2/images/IMG/import",
           {"method": {"name": "copy-image"}, "stores": ["bogus"]}, who="admin", ids=img)
    c.both("copy where it is", "POST", "/v2/images/IMG/import",
           {"method": {"name": "copy-image"}, "stores": ["fast"]}, who="admin", ids=img)
    c.both("copy to slow", "POST", "/v2/images/IMG/import",
           {"method": {"name": "copy-image"}, "stores": ["slow"]}, who="admin", ids=img)
    time.sleep(2)
    c.wait(ids, {"active"})
    c.both("show copied", "GET", "/v2/images/IMG", ids=img)
    c.both("delete from slow", "DELETE", "/v2/stores/slow/IMG", who="admin", ids=img)
    c.both("delete the last copy", "DELETE", "/v2/stores/fast/IMG", who="admin", ids=img)
    c.both("delete", "DELETE", "/v2/images/IMG", ids=img)
    ids = c.created("create to fail", {"name": "w", "disk_format": "raw",
                                       "container_format": "bare"})
    img = {"IMG": ids}
    c.both("web-download of a missing file", "POST", "/v2/images/IMG/import",
           {"method": {"name": "web-download", "uri": "http://127.0.0.1:9394/missing.img"}},
           ids=img)
    time.sleep(3)
    c.wait(ids, {"queued"})
    c.both("show after the failed download", "GET", "/v2/images/IMG", ids=img)
    c.both("delete", "DELETE", "/v2/images/IMG", ids=img)


def metadef_flow(c):
    ns = {"namespace": "Parity::NS", "display_name": "P", "description": "d",
          "visibility": "public", "protected": False,
          "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "p_"}],
          "properties": {"p1": {"title": "P1", "type": "string", "enum": ["a", "b"]},
                         "n": {"title": "N", "type": "integer", "default": 8}},
          "objects": [{"name": "o1", "required": ["q"],
                       "properties": {"q": {"title": "Q", "type": "integer"}}},
                      {"name": "o2"}],
          "tags": [{"name": "t1"}]}
    base = "/v2/metadefs/namespaces/Parity::NS"
    c.both("metadef create", "POST", "/v2/metadefs/namespaces", ns, who="admin",
           compare_headers=("location",))
    c.both("metadef create twice", "POST", "/v2/metadefs/namespaces", ns, who="admin")
    c.both("metadef show", "GET", base, who="admin")
    c.both("metadef update", "PUT", base, {"namespace": "Parity::NS", "protected": True},
           who="admin")
    c.both("metadef delete protected", "DELETE", base, who="admin")
    c.both("metadef add property", "POST", base + "/properties",
           {"name": "p2", "title": "P2", "type": "boolean", "default": False}, who="admin")
    c.both("metadef add property again", "POST", base + "/properties",
           {"name": "p2", "title": "P2", "type": "boolean"}, who="admin")
    c.both("metadef property by prefix", "GET",
           base + "/properties/p_p1?resource_type=OS::Glance::Image", who="admin")
    c.both("metadef property without the prefix", "GET",
           base + "/properties/p1?resource_type=OS::Glance::Image", who="admin")
    c.both("metadef object update", "PUT", base + "/objects/o1", {"name": "o1"}, who="admin")
    c.both("metadef object", "GET", base + "/objects/o1", who="admin")
    c.both("metadef tags batch", "POST", base + "/tags",
           {"tags": [{"name": "t3"}, {"name": "t3"}]}, who="admin")
    c.both("metadef tags append", "POST", base + "/tags", {"tags": [{"name": "t4"}]},
           {"X-Openstack-Append": "True"}, who="admin")
    c.both("metadef unprotect", "PUT", base, {"namespace": "Parity::NS"}, who="admin")
    c.both("metadef delete", "DELETE", base, who="admin")


def bundled_metadefs(c, directory):
    """Every read endpoint of every namespace of the definition files in `directory` (all the
    namespaces both servers hold when there is none)."""
    def names(server):
        body = json.loads(server.call("GET", "/v2/metadefs/namespaces?limit=1000", who="admin")[2])
        return {n["namespace"] for n in body["namespaces"]}
    if directory:
        wanted = {json.load(open(path))["namespace"]
                  for path in glob.glob(os.path.join(directory, "*.json"))}
    else:
        wanted = names(c.glance) | names(c.glint)
    shared = wanted & names(c.glance) & names(c.glint)
    missing = wanted - shared
    if missing:
        c.report("metadef namespaces missing from a server", sorted(missing))

    def by_name(value):
        if isinstance(value, dict):
            return {k: by_name(v) for k, v in value.items()}
        if isinstance(value, list):
            items = [by_name(v) for v in value]
            if all(isinstance(v, dict) and "name" in v for v in items):
                items.sort(key=lambda v: v["name"])
            return items
        return value
    for name in sorted(shared):
        for suffix in ["", "/objects", "/properties", "/tags", "/resource_types"]:
            path = f"/v2/metadefs/namespaces/{name}{suffix}"
            a, b = (s.call("GET", path, who="admin") for s in (c.glance, c.glint))
            lines = [] if a[0] == b[0] else [f"status: glance {a[0]}, glint {b[0]}"]
            lines += differences(by_name(body_of(a, c.glance)), by_name(body_of(b, c.glint)))
            c.report(f"bundled metadef {path}", lines)
    return len(shared)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--glance", default="http://127.0.0.1:9393")
    parser.add_argument("--glint", default="http://127.0.0.1:9595")
    parser.add_argument("--keystone", default="http://127.0.0.1:5000/v3")
    parser.add_argument("--admin-password", default="password")
    parser.add_argument("--metadefs", help="directory of the definition files both servers loaded")
    args = parser.parse_args()
    for url in (args.glance, args.glint, args.keystone):
        if urllib.parse.urlparse(url).hostname not in ("127.0.0.1", "localhost", "::1"):
            sys.exit(f"loopback URLs only: {url}")
    tokens, service_project = keystone_tokens(args.keystone, args.admin_password)
    c = Comparison(Server("glance", args.glance, tokens), Server("glint", args.glint, tokens))
    single_requests(c)
    image_flow(c, service_project)
    import_flow(c)
    metadef_flow(c)
    namespaces = bundled_metadefs(c, args.metadefs)
    for label, lines, why in c.known:
        print(f"~~ {label} (known: {why})")
    for label, lines, _ in c.found:
        print(f"== {label}")
        for line in lines:
            print(f"   {line}")
    print(f"{len(c.found)} differences, {len(c.known)} known ones; "
          f"{namespaces} bundled namespaces compared")
    return 1 if c.found else 0


if __name__ == "__main__":
    sys.exit(main())
