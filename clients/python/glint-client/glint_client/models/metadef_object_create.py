from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.metadef_object_create_properties import MetadefObjectCreateProperties


T = TypeVar("T", bound="MetadefObjectCreate")


@_attrs_define
class MetadefObjectCreate:
    """A new object, or an object's replacement.

    Attributes:
        name (str):
        description (str | Unset):
        properties (MetadefObjectCreateProperties | Unset):
        required (list[str] | Unset):
    """

    name: str
    description: str | Unset = UNSET
    properties: MetadefObjectCreateProperties | Unset = UNSET
    required: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        description = self.description

        properties: dict[str, Any] | Unset = UNSET
        if not isinstance(self.properties, Unset):
            properties = self.properties.to_dict()

        required: list[str] | Unset = UNSET
        if not isinstance(self.required, Unset):
            required = self.required

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
            }
        )
        if description is not UNSET:
            field_dict["description"] = description
        if properties is not UNSET:
            field_dict["properties"] = properties
        if required is not UNSET:
            field_dict["required"] = required

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadef_object_create_properties import MetadefObjectCreateProperties  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        description = d.pop("description", UNSET)

        _properties = d.pop("properties", UNSET)
        properties: MetadefObjectCreateProperties | Unset
        if isinstance(_properties, Unset):
            properties = UNSET
        else:
            properties = MetadefObjectCreateProperties.from_dict(_properties)

        required = cast(list[str], d.pop("required", UNSET))

        metadef_object_create = cls(
            name=name,
            description=description,
            properties=properties,
            required=required,
        )

        metadef_object_create.additional_properties = d
        return metadef_object_create

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
