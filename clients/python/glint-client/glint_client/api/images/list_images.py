from http import HTTPStatus
from typing import Any
from uuid import UUID

import httpx

from ... import errors
from ...client import AuthenticatedClient, Client
from ...models.error import Error
from ...models.image_sort_key import ImageSortKey
from ...models.images import Images
from ...models.member_status_filter import MemberStatusFilter
from ...models.query_bool import QueryBool
from ...models.sort_dir import SortDir
from ...models.visibility_filter import VisibilityFilter
from ...types import UNSET, Response, Unset


def _get_kwargs(
    *,
    limit: int | Unset = UNSET,
    marker: UUID | Unset = UNSET,
    sort_key: list[ImageSortKey] | Unset = UNSET,
    sort_dir: list[SortDir] | Unset = UNSET,
    sort: str | Unset = UNSET,
    name: str | Unset = UNSET,
    id: str | Unset = UNSET,
    status: str | Unset = UNSET,
    visibility: VisibilityFilter | Unset = UNSET,
    member_status: MemberStatusFilter | Unset = UNSET,
    owner: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    size_min: int | Unset = UNSET,
    size_max: int | Unset = UNSET,
    container_format: str | Unset = UNSET,
    disk_format: str | Unset = UNSET,
    os_hidden: QueryBool | Unset = UNSET,
    protected: QueryBool | Unset = UNSET,
    checksum: str | Unset = UNSET,
    os_hash_value: str | Unset = UNSET,
    created_at: str | Unset = UNSET,
    updated_at: str | Unset = UNSET,
) -> dict[str, Any]:

    params: dict[str, Any] = {}

    params["limit"] = limit

    json_marker: str | Unset = UNSET
    if not isinstance(marker, Unset):
        json_marker = str(marker)
    params["marker"] = json_marker

    json_sort_key: list[str] | Unset = UNSET
    if not isinstance(sort_key, Unset):
        json_sort_key = []
        for sort_key_item_data in sort_key:
            sort_key_item = sort_key_item_data.value
            json_sort_key.append(sort_key_item)

    params["sort_key"] = json_sort_key

    json_sort_dir: list[str] | Unset = UNSET
    if not isinstance(sort_dir, Unset):
        json_sort_dir = []
        for sort_dir_item_data in sort_dir:
            sort_dir_item = sort_dir_item_data.value
            json_sort_dir.append(sort_dir_item)

    params["sort_dir"] = json_sort_dir

    params["sort"] = sort

    params["name"] = name

    params["id"] = id

    params["status"] = status

    json_visibility: str | Unset = UNSET
    if not isinstance(visibility, Unset):
        json_visibility = visibility.value

    params["visibility"] = json_visibility

    json_member_status: str | Unset = UNSET
    if not isinstance(member_status, Unset):
        json_member_status = member_status.value

    params["member_status"] = json_member_status

    params["owner"] = owner

    json_tag: list[str] | Unset = UNSET
    if not isinstance(tag, Unset):
        json_tag = tag

    params["tag"] = json_tag

    params["size_min"] = size_min

    params["size_max"] = size_max

    params["container_format"] = container_format

    params["disk_format"] = disk_format

    json_os_hidden: str | Unset = UNSET
    if not isinstance(os_hidden, Unset):
        json_os_hidden = os_hidden.value

    params["os_hidden"] = json_os_hidden

    json_protected: str | Unset = UNSET
    if not isinstance(protected, Unset):
        json_protected = protected.value

    params["protected"] = json_protected

    params["checksum"] = checksum

    params["os_hash_value"] = os_hash_value

    params["created_at"] = created_at

    params["updated_at"] = updated_at

    params = {k: v for k, v in params.items() if v is not UNSET and v is not None}

    _kwargs: dict[str, Any] = {
        "method": "get",
        "url": "/v2/images",
        "params": params,
    }

    return _kwargs


def _parse_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Error | Images | None:
    if response.status_code == 200:
        response_200 = Images.from_dict(response.json())

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


def _build_response(*, client: AuthenticatedClient | Client, response: httpx.Response) -> Response[Error | Images]:
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
    marker: UUID | Unset = UNSET,
    sort_key: list[ImageSortKey] | Unset = UNSET,
    sort_dir: list[SortDir] | Unset = UNSET,
    sort: str | Unset = UNSET,
    name: str | Unset = UNSET,
    id: str | Unset = UNSET,
    status: str | Unset = UNSET,
    visibility: VisibilityFilter | Unset = UNSET,
    member_status: MemberStatusFilter | Unset = UNSET,
    owner: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    size_min: int | Unset = UNSET,
    size_max: int | Unset = UNSET,
    container_format: str | Unset = UNSET,
    disk_format: str | Unset = UNSET,
    os_hidden: QueryBool | Unset = UNSET,
    protected: QueryBool | Unset = UNSET,
    checksum: str | Unset = UNSET,
    os_hash_value: str | Unset = UNSET,
    created_at: str | Unset = UNSET,
    updated_at: str | Unset = UNSET,
) -> Response[Error | Images]:
    """List the images the caller may see, filtered, sorted and paged.

     Any query parameter not listed here filters on an extra property of that name.

    Args:
        limit (int | Unset):
        marker (UUID | Unset):
        sort_key (list[ImageSortKey] | Unset):
        sort_dir (list[SortDir] | Unset):
        sort (str | Unset):
        name (str | Unset):
        id (str | Unset):
        status (str | Unset):
        visibility (VisibilityFilter | Unset): The `visibility` filter of an image list: a
            visibility, or `all`.
        member_status (MemberStatusFilter | Unset): The `member_status` filter of an image list: a
            member status, or `all`.
        owner (str | Unset):
        tag (list[str] | Unset):
        size_min (int | Unset):
        size_max (int | Unset):
        container_format (str | Unset):
        disk_format (str | Unset):
        os_hidden (QueryBool | Unset): A boolean as a query parameter takes it.
        protected (QueryBool | Unset): A boolean as a query parameter takes it.
        checksum (str | Unset):
        os_hash_value (str | Unset):
        created_at (str | Unset):
        updated_at (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Images]
    """

    kwargs = _get_kwargs(
        limit=limit,
        marker=marker,
        sort_key=sort_key,
        sort_dir=sort_dir,
        sort=sort,
        name=name,
        id=id,
        status=status,
        visibility=visibility,
        member_status=member_status,
        owner=owner,
        tag=tag,
        size_min=size_min,
        size_max=size_max,
        container_format=container_format,
        disk_format=disk_format,
        os_hidden=os_hidden,
        protected=protected,
        checksum=checksum,
        os_hash_value=os_hash_value,
        created_at=created_at,
        updated_at=updated_at,
    )

    response = client.get_httpx_client().request(
        **kwargs,
    )

    return _build_response(client=client, response=response)


def sync(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    marker: UUID | Unset = UNSET,
    sort_key: list[ImageSortKey] | Unset = UNSET,
    sort_dir: list[SortDir] | Unset = UNSET,
    sort: str | Unset = UNSET,
    name: str | Unset = UNSET,
    id: str | Unset = UNSET,
    status: str | Unset = UNSET,
    visibility: VisibilityFilter | Unset = UNSET,
    member_status: MemberStatusFilter | Unset = UNSET,
    owner: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    size_min: int | Unset = UNSET,
    size_max: int | Unset = UNSET,
    container_format: str | Unset = UNSET,
    disk_format: str | Unset = UNSET,
    os_hidden: QueryBool | Unset = UNSET,
    protected: QueryBool | Unset = UNSET,
    checksum: str | Unset = UNSET,
    os_hash_value: str | Unset = UNSET,
    created_at: str | Unset = UNSET,
    updated_at: str | Unset = UNSET,
) -> Error | Images | None:
    """List the images the caller may see, filtered, sorted and paged.

     Any query parameter not listed here filters on an extra property of that name.

    Args:
        limit (int | Unset):
        marker (UUID | Unset):
        sort_key (list[ImageSortKey] | Unset):
        sort_dir (list[SortDir] | Unset):
        sort (str | Unset):
        name (str | Unset):
        id (str | Unset):
        status (str | Unset):
        visibility (VisibilityFilter | Unset): The `visibility` filter of an image list: a
            visibility, or `all`.
        member_status (MemberStatusFilter | Unset): The `member_status` filter of an image list: a
            member status, or `all`.
        owner (str | Unset):
        tag (list[str] | Unset):
        size_min (int | Unset):
        size_max (int | Unset):
        container_format (str | Unset):
        disk_format (str | Unset):
        os_hidden (QueryBool | Unset): A boolean as a query parameter takes it.
        protected (QueryBool | Unset): A boolean as a query parameter takes it.
        checksum (str | Unset):
        os_hash_value (str | Unset):
        created_at (str | Unset):
        updated_at (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Images
    """

    return sync_detailed(
        client=client,
        limit=limit,
        marker=marker,
        sort_key=sort_key,
        sort_dir=sort_dir,
        sort=sort,
        name=name,
        id=id,
        status=status,
        visibility=visibility,
        member_status=member_status,
        owner=owner,
        tag=tag,
        size_min=size_min,
        size_max=size_max,
        container_format=container_format,
        disk_format=disk_format,
        os_hidden=os_hidden,
        protected=protected,
        checksum=checksum,
        os_hash_value=os_hash_value,
        created_at=created_at,
        updated_at=updated_at,
    ).parsed


async def asyncio_detailed(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    marker: UUID | Unset = UNSET,
    sort_key: list[ImageSortKey] | Unset = UNSET,
    sort_dir: list[SortDir] | Unset = UNSET,
    sort: str | Unset = UNSET,
    name: str | Unset = UNSET,
    id: str | Unset = UNSET,
    status: str | Unset = UNSET,
    visibility: VisibilityFilter | Unset = UNSET,
    member_status: MemberStatusFilter | Unset = UNSET,
    owner: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    size_min: int | Unset = UNSET,
    size_max: int | Unset = UNSET,
    container_format: str | Unset = UNSET,
    disk_format: str | Unset = UNSET,
    os_hidden: QueryBool | Unset = UNSET,
    protected: QueryBool | Unset = UNSET,
    checksum: str | Unset = UNSET,
    os_hash_value: str | Unset = UNSET,
    created_at: str | Unset = UNSET,
    updated_at: str | Unset = UNSET,
) -> Response[Error | Images]:
    """List the images the caller may see, filtered, sorted and paged.

     Any query parameter not listed here filters on an extra property of that name.

    Args:
        limit (int | Unset):
        marker (UUID | Unset):
        sort_key (list[ImageSortKey] | Unset):
        sort_dir (list[SortDir] | Unset):
        sort (str | Unset):
        name (str | Unset):
        id (str | Unset):
        status (str | Unset):
        visibility (VisibilityFilter | Unset): The `visibility` filter of an image list: a
            visibility, or `all`.
        member_status (MemberStatusFilter | Unset): The `member_status` filter of an image list: a
            member status, or `all`.
        owner (str | Unset):
        tag (list[str] | Unset):
        size_min (int | Unset):
        size_max (int | Unset):
        container_format (str | Unset):
        disk_format (str | Unset):
        os_hidden (QueryBool | Unset): A boolean as a query parameter takes it.
        protected (QueryBool | Unset): A boolean as a query parameter takes it.
        checksum (str | Unset):
        os_hash_value (str | Unset):
        created_at (str | Unset):
        updated_at (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Response[Error | Images]
    """

    kwargs = _get_kwargs(
        limit=limit,
        marker=marker,
        sort_key=sort_key,
        sort_dir=sort_dir,
        sort=sort,
        name=name,
        id=id,
        status=status,
        visibility=visibility,
        member_status=member_status,
        owner=owner,
        tag=tag,
        size_min=size_min,
        size_max=size_max,
        container_format=container_format,
        disk_format=disk_format,
        os_hidden=os_hidden,
        protected=protected,
        checksum=checksum,
        os_hash_value=os_hash_value,
        created_at=created_at,
        updated_at=updated_at,
    )

    response = await client.get_async_httpx_client().request(**kwargs)

    return _build_response(client=client, response=response)


async def asyncio(
    *,
    client: AuthenticatedClient | Client,
    limit: int | Unset = UNSET,
    marker: UUID | Unset = UNSET,
    sort_key: list[ImageSortKey] | Unset = UNSET,
    sort_dir: list[SortDir] | Unset = UNSET,
    sort: str | Unset = UNSET,
    name: str | Unset = UNSET,
    id: str | Unset = UNSET,
    status: str | Unset = UNSET,
    visibility: VisibilityFilter | Unset = UNSET,
    member_status: MemberStatusFilter | Unset = UNSET,
    owner: str | Unset = UNSET,
    tag: list[str] | Unset = UNSET,
    size_min: int | Unset = UNSET,
    size_max: int | Unset = UNSET,
    container_format: str | Unset = UNSET,
    disk_format: str | Unset = UNSET,
    os_hidden: QueryBool | Unset = UNSET,
    protected: QueryBool | Unset = UNSET,
    checksum: str | Unset = UNSET,
    os_hash_value: str | Unset = UNSET,
    created_at: str | Unset = UNSET,
    updated_at: str | Unset = UNSET,
) -> Error | Images | None:
    """List the images the caller may see, filtered, sorted and paged.

     Any query parameter not listed here filters on an extra property of that name.

    Args:
        limit (int | Unset):
        marker (UUID | Unset):
        sort_key (list[ImageSortKey] | Unset):
        sort_dir (list[SortDir] | Unset):
        sort (str | Unset):
        name (str | Unset):
        id (str | Unset):
        status (str | Unset):
        visibility (VisibilityFilter | Unset): The `visibility` filter of an image list: a
            visibility, or `all`.
        member_status (MemberStatusFilter | Unset): The `member_status` filter of an image list: a
            member status, or `all`.
        owner (str | Unset):
        tag (list[str] | Unset):
        size_min (int | Unset):
        size_max (int | Unset):
        container_format (str | Unset):
        disk_format (str | Unset):
        os_hidden (QueryBool | Unset): A boolean as a query parameter takes it.
        protected (QueryBool | Unset): A boolean as a query parameter takes it.
        checksum (str | Unset):
        os_hash_value (str | Unset):
        created_at (str | Unset):
        updated_at (str | Unset):

    Raises:
        errors.UnexpectedStatus: If the server returns an undocumented status code and Client.raise_on_unexpected_status is True.
        httpx.TimeoutException: If the request takes longer than Client.timeout.

    Returns:
        Error | Images
    """

    return (
        await asyncio_detailed(
            client=client,
            limit=limit,
            marker=marker,
            sort_key=sort_key,
            sort_dir=sort_dir,
            sort=sort,
            name=name,
            id=id,
            status=status,
            visibility=visibility,
            member_status=member_status,
            owner=owner,
            tag=tag,
            size_min=size_min,
            size_max=size_max,
            container_format=container_format,
            disk_format=disk_format,
            os_hidden=os_hidden,
            protected=protected,
            checksum=checksum,
            os_hash_value=os_hash_value,
            created_at=created_at,
            updated_at=updated_at,
        )
    ).parsed
