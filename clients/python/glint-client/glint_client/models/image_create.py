from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.container_format import ContainerFormat
from ..models.disk_format import DiskFormat
from ..models.image_visibility import ImageVisibility
from ..types import UNSET, Unset

T = TypeVar("T", bound="ImageCreate")


@_attrs_define
class ImageCreate:
    """A new image. Every key is optional; unknown keys become extra properties (strings).

    Attributes:
        container_format (ContainerFormat | Unset): The container formats of the default configuration (`[image]
            container_formats`).
        disk_format (DiskFormat | Unset): The disk formats of the default configuration (`[image] disk_formats`).
        id (UUID | Unset): The id to give the image; a new UUID when absent.
        min_disk (int | Unset):
        min_ram (int | Unset):
        name (None | str | Unset):
        os_hidden (bool | Unset):
        owner (None | str | Unset): The owning project (administrators only); the caller's project when absent.
        protected (bool | Unset):
        tags (list[str] | Unset):
        visibility (ImageVisibility | Unset): Who may see an image.
    """

    container_format: ContainerFormat | Unset = UNSET
    disk_format: DiskFormat | Unset = UNSET
    id: UUID | Unset = UNSET
    min_disk: int | Unset = UNSET
    min_ram: int | Unset = UNSET
    name: None | str | Unset = UNSET
    os_hidden: bool | Unset = UNSET
    owner: None | str | Unset = UNSET
    protected: bool | Unset = UNSET
    tags: list[str] | Unset = UNSET
    visibility: ImageVisibility | Unset = UNSET
    additional_properties: dict[str, str] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        container_format: str | Unset = UNSET
        if not isinstance(self.container_format, Unset):
            container_format = self.container_format.value

        disk_format: str | Unset = UNSET
        if not isinstance(self.disk_format, Unset):
            disk_format = self.disk_format.value

        id: str | Unset = UNSET
        if not isinstance(self.id, Unset):
            id = str(self.id)

        min_disk = self.min_disk

        min_ram = self.min_ram

        name: None | str | Unset
        if isinstance(self.name, Unset):
            name = UNSET
        else:
            name = self.name

        os_hidden = self.os_hidden

        owner: None | str | Unset
        if isinstance(self.owner, Unset):
            owner = UNSET
        else:
            owner = self.owner

        protected = self.protected

        tags: list[str] | Unset = UNSET
        if not isinstance(self.tags, Unset):
            tags = self.tags

        visibility: str | Unset = UNSET
        if not isinstance(self.visibility, Unset):
            visibility = self.visibility.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update({})
        if container_format is not UNSET:
            field_dict["container_format"] = container_format
        if disk_format is not UNSET:
            field_dict["disk_format"] = disk_format
        if id is not UNSET:
            field_dict["id"] = id
        if min_disk is not UNSET:
            field_dict["min_disk"] = min_disk
        if min_ram is not UNSET:
            field_dict["min_ram"] = min_ram
        if name is not UNSET:
            field_dict["name"] = name
        if os_hidden is not UNSET:
            field_dict["os_hidden"] = os_hidden
        if owner is not UNSET:
            field_dict["owner"] = owner
        if protected is not UNSET:
            field_dict["protected"] = protected
        if tags is not UNSET:
            field_dict["tags"] = tags
        if visibility is not UNSET:
            field_dict["visibility"] = visibility

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        _container_format = d.pop("container_format", UNSET)
        container_format: ContainerFormat | Unset
        if isinstance(_container_format, Unset):
            container_format = UNSET
        else:
            container_format = ContainerFormat(_container_format)

        _disk_format = d.pop("disk_format", UNSET)
        disk_format: DiskFormat | Unset
        if isinstance(_disk_format, Unset):
            disk_format = UNSET
        else:
            disk_format = DiskFormat(_disk_format)

        _id = d.pop("id", UNSET)
        id: UUID | Unset
        if isinstance(_id, Unset):
            id = UNSET
        else:
            id = UUID(_id)

        min_disk = d.pop("min_disk", UNSET)

        min_ram = d.pop("min_ram", UNSET)

        def _parse_name(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        name = _parse_name(d.pop("name", UNSET))

        os_hidden = d.pop("os_hidden", UNSET)

        def _parse_owner(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        owner = _parse_owner(d.pop("owner", UNSET))

        protected = d.pop("protected", UNSET)

        tags = cast(list[str], d.pop("tags", UNSET))

        _visibility = d.pop("visibility", UNSET)
        visibility: ImageVisibility | Unset
        if isinstance(_visibility, Unset):
            visibility = UNSET
        else:
            visibility = ImageVisibility(_visibility)

        image_create = cls(
            container_format=container_format,
            disk_format=disk_format,
            id=id,
            min_disk=min_disk,
            min_ram=min_ram,
            name=name,
            os_hidden=os_hidden,
            owner=owner,
            protected=protected,
            tags=tags,
            visibility=visibility,
        )

        image_create.additional_properties = d
        return image_create

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
