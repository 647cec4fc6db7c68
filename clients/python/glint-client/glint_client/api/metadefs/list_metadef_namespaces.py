from http import HTTPStatus
from typing import Any

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.metadef_namespaces import MetadefNamespaces
from ...models.namespace_sort_key import NamespaceSortKey
from ...models.namespace_visibility import NamespaceVisibility
from ...models.sort_dir import SortDir
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = UNSET,
    marker: str | Unset = UNSET,
    sort_key: NamespaceSortKey | Unset = UNSET,
    sort_dir: SortDir | Unset = UNSET,
    visibility: NamespaceVisibility | Unset = UNSET,
    resource_types: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    params["marker"] = marker

    json_sort_key: str | Unset = UNSET
    if not isinstance(sort_key, Unset):
        json_sort_key = sort_key.value

    params["sort_key"] = json_sort_key

    json_sort_dir: str | Unset = UNSET
    if not isinstance(sort_dir, Unset):
        json_sort_dir = sort_dir.value

    params["sort_dir"] = json_sort_dir

    json_visibility: str | Unset = UNSET
    if not isinstance(visibility, Unset):
        json_visibility = visibility.value

    params["visibility"] = json_visibility

    params["resource_types"] = resource_types

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/metadefs/namespaces",
        "params": params,
    }

    return _kwargs


def _parse_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Error | MetadefNamespaces | None:
    if response.status_code == 200:
        response_200 = MetadefNamespaces.from_dict(response.json())

        return response_200

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


def _build_response(
    *, client: AuthenticatedClient | Client, response: httpx.Response
) -> Response[Error | MetadefNamespaces]:
    return Response(
        status_code=HTTPStatus(response.status_code),
        content=response.content,
        headers=response.headers,
        parsed=_parse_response(client=client, response=response),
    )


def sync_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    marker: str | Unset = UNSET,
    sort_key: NamespaceSortKey | Unset = UNSET,
    sort_dir: SortDir | Unset = UNSET,
    visibility: NamespaceVisibility | Unset = UNSET,
    resource_types: str | Unset = UNSET,
) -> Response[Error | MetadefNamespaces]:
    """List the namespaces the caller may see, newest first by default.

    Args:
        limit (int | Unset):
        marker (str | Unset):
        sort_key (NamespaceSortKey | Unset): The attributes a namespace list sorts by.
        sort_dir (SortDir | Unset): A sort direction.
        visibility (NamespaceVisibility | Unset): Who may see a metadef namespace.
        resource_types (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | MetadefNamespaces]
    """

    kwargs = _get_kwargs(
        limit=limit,
        marker=marker,
        sort_key=sort_key,
        sort_dir=sort_dir,
        visibility=visibility,
        resource_types=resource_types,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    marker: str | Unset = UNSET,
    sort_key: NamespaceSortKey | Unset = UNSET,
    sort_dir: SortDir | Unset = UNSET,
    visibility: NamespaceVisibility | Unset = UNSET,
    resource_types: str | Unset = UNSET,
) -> Error | MetadefNamespaces | None:
    """List the namespaces the caller may see, newest first by default.

    Args:
        limit (int | Unset):
        marker (str | Unset):
        sort_key (NamespaceSortKey | Unset): The attributes a namespace list sorts by.
        sort_dir (SortDir | Unset): A sort direction.
        visibility (NamespaceVisibility | Unset): Who may see a metadef namespace.
        resource_types (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | MetadefNamespaces
    """

    return sync_detailed(
        client=client,
        limit=limit,
        marker=marker,
        sort_key=sort_key,
        sort_dir=sort_dir,
        visibility=visibility,
        resource_types=resource_types,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    marker: str | Unset = UNSET,
    sort_key: NamespaceSortKey | Unset = UNSET,
    sort_dir: SortDir | Unset = UNSET,
    visibility: NamespaceVisibility | Unset = UNSET,
    resource_types: str | Unset = UNSET,
) -> Response[Error | MetadefNamespaces]:
    """List the namespaces the caller may see, newest first by default.

    Args:
        limit (int | Unset):
        marker (str | Unset):
        sort_key (NamespaceSortKey | Unset): The attributes a namespace list sorts by.
        sort_dir (SortDir | Unset): A sort direction.
        visibility (NamespaceVisibility | Unset): Who may see a metadef namespace.
        resource_types (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | MetadefNamespaces]
    """

    kwargs = _get_kwargs(
        limit=limit,
        marker=marker,
        sort_key=sort_key,
        sort_dir=sort_dir,
        visibility=visibility,
        resource_types=resource_types,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    marker: str | Unset = UNSET,
    sort_key: NamespaceSortKey | Unset = UNSET,
    sort_dir: SortDir | Unset = UNSET,
    visibility: NamespaceVisibility | Unset = UNSET,
    resource_types: str | Unset = UNSET,
) -> Error | MetadefNamespaces | None:
    """List the namespaces the caller may see, newest first by default.

    Args:
        limit (int | Unset):
        marker (str | Unset):
        sort_key (NamespaceSortKey | Unset): The attributes a namespace list sorts by.
        sort_dir (SortDir | Unset): A sort direction.
        visibility (NamespaceVisibility | Unset): Who may see a metadef namespace.
        resource_types (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | MetadefNamespaces
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            marker=marker,
            sort_key=sort_key,
            sort_dir=sort_dir,
            visibility=visibility,
            resource_types=resource_types,
        )
    ).parsed
