from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.image_status import ImageStatus
from ..models.image_visibility import ImageVisibility
from ..types import UNSET, Unset

T = TypeVar("T", bound="Image")


@_attrs_define
class Image:
    """An image. Keys not listed here are extra properties with string values; an attribute
    that is not set is `null`.

        Attributes:
            created_at (datetime.datetime):
            file (str): The path of this image's data.
            id (UUID):
            min_disk (int): Disk space needed to boot the image, in GiB.
            min_ram (int): RAM needed to boot the image, in MiB.
            os_hidden (bool): Hidden images are left out of lists unless `os_hidden=true` is asked for.
            protected (bool): A protected image cannot be deleted.
            schema (str): The path of the image schema.
            self_ (str): This image's path.
            status (ImageStatus): An image's status (Glance's state machine).
            tags (list[str]):
            updated_at (datetime.datetime):
            visibility (ImageVisibility): Who may see an image.
            checksum (None | str | Unset): md5 of the data, hex.
            container_format (None | str | Unset):
            disk_format (None | str | Unset):
            name (None | str | Unset):
            os_hash_algo (None | str | Unset): The algorithm of `os_hash_value` (`sha512` by default).
            os_hash_value (None | str | Unset): The secure hash of the data, hex.
            owner (None | str | Unset): The owning project's id.
            size (int | None | Unset): Size of the data in bytes.
            stores (str | Unset): Stores holding the data, comma-separated.
            virtual_size (int | None | Unset): Size of the virtual disk in bytes, when the format tells it.
    """

    created_at: datetime.datetime
    file: str
    id: UUID
    min_disk: int
    min_ram: int
    os_hidden: bool
    protected: bool
    schema: str
    self_: str
    status: ImageStatus
    tags: list[str]
    updated_at: datetime.datetime
    visibility: ImageVisibility
    checksum: None | str | Unset = UNSET
    container_format: None | str | Unset = UNSET
    disk_format: None | str | Unset = UNSET
    name: None | str | Unset = UNSET
    os_hash_algo: None | str | Unset = UNSET
    os_hash_value: None | str | Unset = UNSET
    owner: None | str | Unset = UNSET
    size: int | None | Unset = UNSET
    stores: str | Unset = UNSET
    virtual_size: int | None | Unset = UNSET
    additional_properties: dict[str, str] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        file = self.file

        id = str(self.id)

        min_disk = self.min_disk

        min_ram = self.min_ram

        os_hidden = self.os_hidden

        protected = self.protected

        schema = self.schema

        self_ = self.self_

        status = self.status.value

        tags = self.tags

        updated_at = self.updated_at.isoformat()

        visibility = self.visibility.value

        checksum: None | str | Unset
        if isinstance(self.checksum, Unset):
            checksum = UNSET
        else:
            checksum = self.checksum

        container_format: None | str | Unset
        if isinstance(self.container_format, Unset):
            container_format = UNSET
        else:
            container_format = self.container_format

        disk_format: None | str | Unset
        if isinstance(self.disk_format, Unset):
            disk_format = UNSET
        else:
            disk_format = self.disk_format

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        os_hash_algo: None | str | Unset
        if isinstance(self.os_hash_algo, Unset):
            os_hash_algo = UNSET
        else:
            os_hash_algo = self.os_hash_algo

        os_hash_value: None | str | Unset
        if isinstance(self.os_hash_value, Unset):
            os_hash_value = UNSET
        else:
            os_hash_value = self.os_hash_value

        owner: None | str | Unset
        if isinstance(self.owner, Unset):
            owner = UNSET
        else:
            owner = self.owner

        size: int | None | Unset
        if isinstance(self.size, Unset):
            size = UNSET
        else:
            size = self.size

        stores = self.stores

        virtual_size: int | None | Unset
        if isinstance(self.virtual_size, Unset):
            virtual_size = UNSET
        else:
            virtual_size = self.virtual_size

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "file": file,
                "id": id,
                "min_disk": min_disk,
                "min_ram": min_ram,
                "os_hidden": os_hidden,
                "protected": protected,
                "schema": schema,
                "self": self_,
                "status": status,
                "tags": tags,
                "updated_at": updated_at,
                "visibility": visibility,
            }
        )
        if checksum is not UNSET:
            field_dict["checksum"] = checksum
        if container_format is not UNSET:
            field_dict["container_format"] = container_format
        if disk_format is not UNSET:
            field_dict["disk_format"] = disk_format
        if name is not UNSET:
            field_dict["name"] = name
        if os_hash_algo is not UNSET:
            field_dict["os_hash_algo"] = os_hash_algo
        if os_hash_value is not UNSET:
            field_dict["os_hash_value"] = os_hash_value
        if owner is not UNSET:
            field_dict["owner"] = owner
        if size is not UNSET:
            field_dict["size"] = size
        if stores is not UNSET:
            field_dict["stores"] = stores
        if virtual_size is not UNSET:
            field_dict["virtual_size"] = virtual_size

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        file = d.pop("file")

        id = UUID(d.pop("id"))

        min_disk = d.pop("min_disk")

        min_ram = d.pop("min_ram")

        os_hidden = d.pop("os_hidden")

        protected = d.pop("protected")

        schema = d.pop("schema")

        self_ = d.pop("self")

        status = ImageStatus(d.pop("status"))

        tags = cast(list[str], d.pop("tags"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        visibility = ImageVisibility(d.pop("visibility"))

        def _parse_checksum(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        checksum = _parse_checksum(d.pop("checksum", UNSET))

        def _parse_container_format(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        container_format = _parse_container_format(d.pop("container_format", UNSET))

        def _parse_disk_format(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        disk_format = _parse_disk_format(d.pop("disk_format", UNSET))

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        def _parse_os_hash_algo(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        os_hash_algo = _parse_os_hash_algo(d.pop("os_hash_algo", UNSET))

        def _parse_os_hash_value(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        os_hash_value = _parse_os_hash_value(d.pop("os_hash_value", UNSET))

        def _parse_owner(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        owner = _parse_owner(d.pop("owner", UNSET))

        def _parse_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        size = _parse_size(d.pop("size", UNSET))

        stores = d.pop("stores", UNSET)

        def _parse_virtual_size(data: object) -> int | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(int | None | Unset, data)

        virtual_size = _parse_virtual_size(d.pop("virtual_size", UNSET))

        image = cls(
            created_at=created_at,
            file=file,
            id=id,
            min_disk=min_disk,
            min_ram=min_ram,
            os_hidden=os_hidden,
            protected=protected,
            schema=schema,
            self_=self_,
            status=status,
            tags=tags,
            updated_at=updated_at,
            visibility=visibility,
            checksum=checksum,
            container_format=container_format,
            disk_format=disk_format,
            name=name,
            os_hash_algo=os_hash_algo,
            os_hash_value=os_hash_value,
            owner=owner,
            size=size,
            stores=stores,
            virtual_size=virtual_size,
        )

        image.additional_properties = d
        return image

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> str:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: str) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
