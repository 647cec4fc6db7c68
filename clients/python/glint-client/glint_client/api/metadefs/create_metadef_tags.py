from http import HTTPStatus
from typing import Any
from urllib.parse import quote

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.metadef_tags import MetadefTags
from ...types import UNSET, Response, Unset


def _get_kwargs(
    namespace: str,
    *,
    body: MetadefTags,
    x_openstack_append: str | Unset = UNSET,
) -> dict[str, Any]:
    headers: dict[str, Any] = {}
    if not isinstance(x_openstack_append, Unset):
        headers["X-Openstack-Append"] = x_openstack_append

    _kwargs: dict[str, Any] = {
        "method": "post",
        "url": "/v2/metadefs/namespaces/{namespace}/tags".format(
            namespace=quote(str(namespace), safe=""),
        ),
    }

    _kwargs["json"] = body.to_dict()

    headers["Content-Type"] = "application/json"

    _kwargs["headers"] = headers
    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | MetadefTags | None:
    if response.status_code == 201:
        response_201 = MetadefTags.from_dict(response.json())

        return response_201

    if response.status_code == 400:
        response_400 = Error.from_dict(response.json())

        return response_400

    if response.status_code == 401:
        response_401 = Error.from_dict(response.json())

        return response_401

    if response.status_code == 403:
        response_403 = Error.from_dict(response.json())

        return response_403

    if response.status_code == 404:
        response_404 = Error.from_dict(response.json())

        return response_404

    if response.status_code == 405:
        response_405 = Error.from_dict(response.json())

        return response_405

    if response.status_code == 409:
        response_409 = Error.from_dict(response.json())

        return response_409

    if response.status_code == 410:
        response_410 = Error.from_dict(response.json())

        return response_410

    if response.status_code == 413:
        response_413 = Error.from_dict(response.json())

        return response_413

    if response.status_code == 414:
        response_414 = Error.from_dict(response.json())

        return response_414

    if response.status_code == 415:
        response_415 = Error.from_dict(response.json())

        return response_415

    if response.status_code == 416:
        response_416 = Error.from_dict(response.json())

        return response_416

    if response.status_code == 431:
        response_431 = Error.from_dict(response.json())

        return response_431

    if response.status_code == 500:
        response_500 = Error.from_dict(response.json())

        return response_500

    if response.status_code == 502:
        response_502 = Error.from_dict(response.json())

        return response_502

    if response.status_code == 503:
        response_503 = Error.from_dict(response.json())

        return response_503

    if response.status_code == 504:
        response_504 = Error.from_dict(response.json())

        return response_504

    if client.raise_on_unexpected_status:
        raise errors.UnexpectedStatus(response.status_code, response.content)
    else:
        return None


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | MetadefTags]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    namespace: str,
    *,
    client: AuthenticatedClient | Client,
    body: MetadefTags,
    x_openstack_append: str | Unset = UNSET,
) -> Response[Error | MetadefTags]:
    """Create tags from `{"tags": [{"name": ...}]}`: they replace the
    namespace's tags, or are added to them with `X-Openstack-Append: true`.

    Args:
        namespace (str):
        x_openstack_append (str | Unset):
        body (MetadefTags): A list of tags; also the body that creates several at once.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | MetadefTags]
    """

    kwargs = _get_kwargs(
        namespace=namespace,
        body=body,
        x_openstack_append=x_openstack_append,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    namespace: str,
    *,
    client: AuthenticatedClient | Client,
    body: MetadefTags,
    x_openstack_append: str | Unset = UNSET,
) -> Error | MetadefTags | None:
    """Create tags from `{"tags": [{"name": ...}]}`: they replace the
    namespace's tags, or are added to them with `X-Openstack-Append: true`.

    Args:
        namespace (str):
        x_openstack_append (str | Unset):
        body (MetadefTags): A list of tags; also the body that creates several at once.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | MetadefTags
    """

    return sync_detailed(
        namespace=namespace,
        client=client,
        body=body,
        x_openstack_append=x_openstack_append,
    ).parsed


async def asyncio_detailed(
    namespace: str,
    *,
    client: AuthenticatedClient | Client,
    body: MetadefTags,
    x_openstack_append: str | Unset = UNSET,
) -> Response[Error | MetadefTags]:
    """Create tags from `{"tags": [{"name": ...}]}`: they replace the
    namespace's tags, or are added to them with `X-Openstack-Append: true`.

    Args:
        namespace (str):
        x_openstack_append (str | Unset):
        body (MetadefTags): A list of tags; also the body that creates several at once.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | MetadefTags]
    """

    kwargs = _get_kwargs(
        namespace=namespace,
        body=body,
        x_openstack_append=x_openstack_append,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    namespace: str,
    *,
    client: AuthenticatedClient | Client,
    body: MetadefTags,
    x_openstack_append: str | Unset = UNSET,
) -> Error | MetadefTags | None:
    """Create tags from `{"tags": [{"name": ...}]}`: they replace the
    namespace's tags, or are added to them with `X-Openstack-Append: true`.

    Args:
        namespace (str):
        x_openstack_append (str | Unset):
        body (MetadefTags): A list of tags; also the body that creates several at once.

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | MetadefTags
    """

    return (
        await asyncio_detailed(
            namespace=namespace,
            client=client,
            body=body,
            x_openstack_append=x_openstack_append,
        )
    ).parsed
