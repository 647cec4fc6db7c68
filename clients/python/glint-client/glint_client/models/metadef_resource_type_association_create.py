from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="MetadefResourceTypeAssociationCreate")


@_attrs_define
class MetadefResourceTypeAssociationCreate:
    """A new association.

    Attributes:
        name (str):
        prefix (str | Unset):
        properties_target (str | Unset):
    """

    name: str
    prefix: str | Unset = UNSET
    properties_target: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        prefix = self.prefix

        properties_target = self.properties_target

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
            }
        )
        if prefix is not UNSET:
            field_dict["prefix"] = prefix
        if properties_target is not UNSET:
            field_dict["properties_target"] = properties_target

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = d.pop("name")

        prefix = d.pop("prefix", UNSET)

        properties_target = d.pop("properties_target", UNSET)

        metadef_resource_type_association_create = cls(
            name=name,
            prefix=prefix,
            properties_target=properties_target,
        )

        metadef_resource_type_association_create.additional_properties = d
        return metadef_resource_type_association_create

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
