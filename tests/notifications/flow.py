"""The image flow of the notification tests, against any Images v2 endpoint
without auth (stdlib only): create, update, tag add and delete, upload,
download, member add and update, glance-direct import, delete; a metadef
namespace created with embedded content, each kind of item created, renamed
and deleted, and the namespace deleted.

usage: flow.py URL NAMESPACE
"""

import json
import sys
import time
import urllib.error
import urllib.request

URL, NAMESPACE = sys.argv[1], sys.argv[2]
HEADERS = {"X-Auth-Token": "fake"}


def call(method, path, body=None, content_type="application/json", expect=None):
    data = None
    headers = dict(HEADERS)
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode()
        headers["Content-Type"] = content_type
    req = urllib.request.Request(URL + path, data=data, method=method, headers=headers)
    with urllib.request.urlopen(req, timeout=120) as r:
        text = r.read()
        if expect is not None and r.status != expect:
            raise SystemExit(f"{method} {path}: {r.status}")
        try:
            return json.loads(text) if text else None
        except ValueError:
            return text


def main():
    img = call("POST", "/v2/images", {"name": "n1", "disk_format": "raw",
                                      "container_format": "bare",
                                      "visibility": "shared", "tags": ["t1"]})
    iid = img["id"]
    call("PATCH", f"/v2/images/{iid}", [{"op": "add", "path": "/purpose", "value": "notify"}],
         "application/openstack-images-v2.1-json-patch")
    call("PUT", f"/v2/images/{iid}/tags/t2")
    call("DELETE", f"/v2/images/{iid}/tags/t2")
    data = bytes(range(256)) * 400
    call("PUT", f"/v2/images/{iid}/file", data, "application/octet-stream")
    call("GET", f"/v2/images/{iid}/file")
    call("POST", f"/v2/images/{iid}/members", {"member": "project-b"})
    call("PUT", f"/v2/images/{iid}/members/project-b", {"status": "accepted"})
    img2 = call("POST", "/v2/images", {"name": "n2", "disk_format": "raw",
                                       "container_format": "bare"})
    iid2 = img2["id"]
    call("PUT", f"/v2/images/{iid2}/stage", data[:50000], "application/octet-stream")
    try:
        call("POST", f"/v2/images/{iid2}/import", {"method": {"name": "glance-direct"}})
    except urllib.error.HTTPError as e:
        # Glance without auth has no project to own the import task (tasks.owner is NOT NULL).
        sys.stderr.write(f"{URL}: import refused: {e}\n")
    else:
        for _ in range(600):
            if call("GET", f"/v2/images/{iid2}")["status"] == "active":
                break
            time.sleep(0.1)
    call("DELETE", f"/v2/images/{iid}")
    try:
        metadefs()
    except urllib.error.HTTPError as e:
        # Glance without auth may refuse metadef writes under its policy.
        sys.stderr.write(f"{URL}: metadef namespace step refused: {e}\n")
    print(json.dumps({"image": iid, "imported": iid2}))


def metadefs():
    ns = f"/v2/metadefs/namespaces/{NAMESPACE}"
    call("POST", "/v2/metadefs/namespaces", {
        "namespace": NAMESPACE, "display_name": "Notify", "description": "d",
        "resource_type_associations": [{"name": "OS::Glance::Image", "prefix": "hw_"}],
        "objects": [{"name": "o1", "required": ["p"],
                     "properties": {"p": {"type": "integer", "title": "P", "minimum": 0}}}],
        "properties": {"speed": {"type": "string", "title": "Speed", "enum": ["a", "b"]}},
        "tags": [{"name": "t1"}],
    })
    call("PUT", ns, {"namespace": NAMESPACE, "display_name": "Renamed", "description": "d"})
    call("POST", f"{ns}/objects", {"name": "o2"})
    call("PUT", f"{ns}/objects/o2", {"name": "o3"})
    call("DELETE", f"{ns}/objects/o3")
    call("POST", f"{ns}/properties", {"name": "size", "title": "Size", "type": "integer"})
    call("PUT", f"{ns}/properties/size", {"name": "bulk", "title": "Size", "type": "integer"})
    call("DELETE", f"{ns}/properties/bulk")
    call("POST", f"{ns}/tags/t2")
    call("PUT", f"{ns}/tags/t2", {"name": "t3"})
    call("DELETE", f"{ns}/tags/t3")
    call("POST", f"{ns}/resource_types", {"name": "OS::Nova::Flavor", "properties_target": "x"})
    call("DELETE", f"{ns}/resource_types/OS::Nova::Flavor")
    call("DELETE", f"{ns}/objects")
    call("DELETE", f"{ns}/properties")
    call("DELETE", f"{ns}/tags")
    call("DELETE", ns)


if __name__ == "__main__":
    main()
