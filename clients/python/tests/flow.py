"""The generated Python client through a full flow against a running Glint.

Usage: python flow.py URL   (the server runs with its default, token-less authentication)
"""

from __future__ import annotations

import hashlib
import sys
import time
import uuid

from glint_client.api.image_data import download_image_data
from glint_client.api.images import (
    add_image_tag,
    create_image,
    create_image_member,
    delete_image,
    import_image,
    list_image_members,
    list_images,
    show_image,
)
from glint_client.api.metadefs import (
    create_metadef_namespace,
    create_metadef_object,
    create_metadef_tag,
    delete_metadef_namespace,
    list_metadef_objects,
    show_metadef_namespace,
)
from glint_client.models import (
    ContainerFormat,
    DiskFormat,
    Error,
    Image,
    ImageCreate,
    ImageImport,
    ImageImportMethod,
    ImageSortKey,
    ImageStatus,
    ImageVisibility,
    ImportMethodName,
    MemberCreate,
    MemberStatus,
    MetadefNamespaceCreate,
    MetadefObjectCreate,
    NamespaceVisibility,
)

import glint_client_ext as ext


def main(url: str) -> None:
    client = ext.connect(url, token="any")
    data = bytes((i * 7 + 3) % 251 for i in range(3 * 1024 * 1024 + 17))

    # Create, upload streamed, download streamed with the bytes compared, ranged download.
    image = ext.check(
        create_image.sync_detailed(
            client=client,
            body=ImageCreate(
                name="py-flow",
                disk_format=DiskFormat.RAW,
                container_format=ContainerFormat.BARE,
                visibility=ImageVisibility.SHARED,
            ),
        )
    )
    assert isinstance(image, Image) and image.status == ImageStatus.QUEUED, image
    assert image.size is None and image.checksum is None
    ext.upload(client, str(image.id), iter([data[: 1 << 20], data[1 << 20 :]]), size=len(data))
    shown = ext.check(show_image.sync_detailed(str(image.id), client=client))
    assert shown.status == ImageStatus.ACTIVE and shown.size == len(data), shown
    assert shown.checksum == hashlib.md5(data).hexdigest()
    assert b"".join(ext.download(client, str(image.id))) == data
    assert b"".join(ext.download(client, str(image.id), (10, 99))) == data[10:100]
    whole = download_image_data.sync_detailed(str(image.id), client=client)
    assert whole.status_code == 200 and whole.parsed.payload.read() == data

    # JSON-patch: a base attribute and an extra property.
    patched = ext.patch(
        client,
        str(image.id),
        [ext.op("replace", "/name", "py-flow-renamed"), ext.op("add", "/purpose", "testing")],
    )
    assert patched.name == "py-flow-renamed" and patched.additional_properties["purpose"] == "testing"

    # Tags, and a list filtered by them.
    tag = f"py-tag-{uuid.uuid4().hex[:8]}"
    ext.check(add_image_tag.sync_detailed(str(image.id), tag, client=client))
    tagged = ext.check(list_images.sync_detailed(client=client, tag=[tag]))
    assert [i.id for i in tagged.images] == [image.id]

    # Members.
    member = ext.check(create_image_member.sync_detailed(str(image.id), client=client, body=MemberCreate(member="project-b")))
    assert member.status == MemberStatus.PENDING
    members = ext.check(list_image_members.sync_detailed(str(image.id), client=client))
    assert [m.member_id for m in members.members] == ["project-b"]

    # Lists with filters and paging.
    prefix = f"page-{uuid.uuid4().hex[:8]}"
    made = [
        ext.check(create_image.sync_detailed(client=client, body=ImageCreate(name=prefix))).id
        for _ in range(5)
    ]
    seen, marker = [], None
    while True:
        kwargs = {"marker": str(marker)} if marker else {}
        page = ext.check(list_images.sync_detailed(client=client, name=prefix, limit=2, sort_key=[ImageSortKey.NAME], **kwargs))
        assert len(page.images) <= 2
        seen += [i.id for i in page.images]
        if not page.next_:
            break
        marker = page.images[-1].id
    assert sorted(map(str, seen)) == sorted(map(str, made)), (seen, made)

    # An interoperable import: stage, then glance-direct.
    staged = ext.check(
        create_image.sync_detailed(
            client=client,
            body=ImageCreate(name="py-import", disk_format=DiskFormat.RAW, container_format=ContainerFormat.BARE),
        )
    )
    ext.stage(client, str(staged.id), data[:4096])
    answer = import_image.sync_detailed(
        str(staged.id),
        client=client,
        body=ImageImport(method=ImageImportMethod(name=ImportMethodName.GLANCE_DIRECT)),
    )
    assert answer.status_code == 202, answer
    deadline = time.monotonic() + 60
    while (status := ext.check(show_image.sync_detailed(str(staged.id), client=client)).status) != ImageStatus.ACTIVE:
        assert time.monotonic() < deadline, status
        time.sleep(0.2)
    assert b"".join(ext.download(client, str(staged.id))) == data[:4096]

    # A metadef namespace round trip.
    ns_name = f"PyFlow::{uuid.uuid4().hex[:8]}"
    created = ext.check(
        create_metadef_namespace.sync_detailed(
            client=client,
            body=MetadefNamespaceCreate(namespace=ns_name, display_name="Py flow", visibility=NamespaceVisibility.PUBLIC),
        )
    )
    assert created.namespace == ns_name
    ext.check(create_metadef_object.sync_detailed(ns_name, client=client, body=MetadefObjectCreate(name="obj", description="an object")))
    ext.check(create_metadef_tag.sync_detailed(ns_name, "flow-tag", client=client))
    objects = ext.check(list_metadef_objects.sync_detailed(ns_name, client=client))
    assert [o.name for o in objects.objects] == ["obj"]
    full = ext.check(show_metadef_namespace.sync_detailed(ns_name, client=client))
    assert [t.name for t in full.tags] == ["flow-tag"] and full.display_name == "Py flow"
    ext.check(delete_metadef_namespace.sync_detailed(ns_name, client=client))
    gone = show_metadef_namespace.sync_detailed(ns_name, client=client)
    assert gone.status_code == 404 and isinstance(gone.parsed, Error)

    # A 404, parsed into the typed error.
    missing = show_image.sync_detailed(str(uuid.uuid4()), client=client)
    assert missing.status_code == 404 and isinstance(missing.parsed, Error), missing
    assert missing.parsed.code == "404 Not Found"
    try:
        ext.check(missing)
        raise AssertionError("a 404 must raise")
    except ext.GlintError as e:
        assert e.status == 404 and e.error is not None

    ext.check(delete_image.sync_detailed(str(image.id), client=client))
    print("python client flow: ok")


if __name__ == "__main__":
    main(sys.argv[1])
