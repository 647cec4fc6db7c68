from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="Store")


@_attrs_define
class Store:
    """One store, as discovery shows it. Flags are the strings `"true"`, as Glance sends them.

    Attributes:
        id (str):
        default (str | Unset): `"true"` on the store uploads go to when they name none.
        description (str | Unset): Absent when the store has none.
        properties (Any | Unset): Detail only: facts about the store, per type (file: `data_dir`,
            `chunk_size`, `thin_provisioning`; http: none).
        read_only (str | Unset): `"true"` on a store that takes no uploads (http).
        type_ (str | Unset): Detail only: the driver (`file`, `http`, `rbd`, `swift`, …).
        weight (int | Unset): Detail only: downloads read from higher weights first.
    """

    id: str
    default: str | Unset = UNSET
    description: str | Unset = UNSET
    properties: Any | Unset = UNSET
    read_only: str | Unset = UNSET
    type_: str | Unset = UNSET
    weight: int | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        id = self.id

        default = self.default

        description = self.description

        properties = self.properties

        read_only = self.read_only

        type_ = self.type_

        weight = self.weight

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "id": id,
            }
        )
        if default is not UNSET:
            field_dict["default"] = default
        if description is not UNSET:
            field_dict["description"] = description
        if properties is not UNSET:
            field_dict["properties"] = properties
        if read_only is not UNSET:
            field_dict["read-only"] = read_only
        if type_ is not UNSET:
            field_dict["type"] = type_
        if weight is not UNSET:
            field_dict["weight"] = weight

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        id = d.pop("id")

        default = d.pop("default", UNSET)

        description = d.pop("description", UNSET)

        properties = d.pop("properties", UNSET)

        read_only = d.pop("read-only", UNSET)

        type_ = d.pop("type", UNSET)

        weight = d.pop("weight", UNSET)

        store = cls(
            id=id,
            default=default,
            description=description,
            properties=properties,
            read_only=read_only,
            type_=type_,
            weight=weight,
        )

        store.additional_properties = d
        return store

    @property
    def additional_keys(self) -> list[str]:
        return list(self.additional_properties.keys())

    def __getitem__(self, key: str) -> Any:
        return self.additional_properties[key]

    def __setitem__(self, key: str, value: Any) -> None:
        self.additional_properties[key] = value

    def __delitem__(self, key: str) -> None:
        del self.additional_properties[key]

    def __contains__(self, key: str) -> bool:
        return key in self.additional_properties
