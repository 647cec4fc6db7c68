"""What the generated glint_client leaves to its user: a client set up as Glance's clients
are (token, JSON errors), image data streamed both ways, and JSON-patch operations."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import IO, Any

from glint_client import AuthenticatedClient
from glint_client.api.images import update_image
from glint_client.models import Error, Image, ImagePatchOp, PatchOp

CHUNK = 64 * 1024


class GlintError(Exception):
    """An error answer, parsed: its status and Glance's error body."""

    def __init__(self, status: int, error: Error | None, text: str = "") -> None:
        self.status = status
        self.error = error
        message = error.message if error is not None else text
        super().__init__(f"{status}: {message}")


def connect(url: str, token: str, **kwargs: Any) -> AuthenticatedClient:
    """A client sending `X-Auth-Token: token`, and asking for JSON errors as Glance's do."""
    headers = {"Accept": "application/json", **kwargs.pop("headers", {})}
    return AuthenticatedClient(
        base_url=url,
        token=token,
        prefix="",
        auth_header_name="X-Auth-Token",
        headers=headers,
        **kwargs,
    )


def check(response: Any) -> Any:
    """The parsed body of a generated `*_detailed` call's response; its error otherwise."""
    if 200 <= int(response.status_code) < 300:
        return response.parsed
    parsed = response.parsed if isinstance(response.parsed, Error) else None
    raise GlintError(int(response.status_code), parsed, response.content.decode(errors="replace"))


def _raise_for(response: Any) -> None:
    if response.status_code >= 400:
        response.read()
        try:
            error = Error.from_dict(response.json())
        except ValueError:
            error = None
        raise GlintError(response.status_code, error, response.text)


def _send_data(client: AuthenticatedClient, path: str, data: bytes | IO[bytes] | Iterable[bytes], size: int | None) -> None:
    if hasattr(data, "read"):
        stream = data

        def chunks() -> Iterator[bytes]:
            while block := stream.read(CHUNK):
                yield block

        body: Any = chunks()
    else:
        body = data
    headers = {"Content-Type": "application/octet-stream"}
    if size is not None:
        headers["x-openstack-image-size"] = str(size)
    response = client.get_httpx_client().put(path, content=body, headers=headers)
    _raise_for(response)


def upload(client: AuthenticatedClient, image_id: str, data: bytes | IO[bytes] | Iterable[bytes], size: int | None = None) -> None:
    """Upload image data, streamed (a file or an iterable of chunks is never read whole)."""
    _send_data(client, f"/v2/images/{image_id}/file", data, size)


def stage(client: AuthenticatedClient, image_id: str, data: bytes | IO[bytes] | Iterable[bytes], size: int | None = None) -> None:
    """Stage image data for a `glance-direct` import, streamed."""
    _send_data(client, f"/v2/images/{image_id}/stage", data, size)


def download(client: AuthenticatedClient, image_id: str, byte_range: tuple[int, int] | None = None) -> Iterator[bytes]:
    """Image data in chunks as they arrive; `byte_range` (first, last) asks for a part."""
    headers = {}
    if byte_range is not None:
        headers["Range"] = f"bytes={byte_range[0]}-{byte_range[1]}"
    with client.get_httpx_client().stream("GET", f"/v2/images/{image_id}/file", headers=headers) as response:
        _raise_for(response)
        yield from response.iter_bytes(CHUNK)


def op(verb: str, path: str, value: Any = None) -> ImagePatchOp:
    """One JSON-patch operation: `op("replace", "/name", "x")`, `op("remove", "/purpose")`."""
    patch = ImagePatchOp(op=PatchOp(verb), path=path)
    if verb != "remove":
        patch.value = value
    return patch


def patch(client: AuthenticatedClient, image_id: str, ops: list[ImagePatchOp]) -> Image:
    """Apply JSON-patch operations to an image (sent as Glance's v2.1 JSON-patch)."""
    return check(update_image.sync_detailed(image_id, client=client, body=ops))
