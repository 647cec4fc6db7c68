from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.metadef_resource_type import MetadefResourceType


T = TypeVar("T", bound="MetadefResourceTypes")


@_attrs_define
class MetadefResourceTypes:
    """Every resource type.

    Attributes:
        resource_types (list[MetadefResourceType]):
    """

    resource_types: list[MetadefResourceType]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        resource_types = []
        for resource_types_item_data in self.resource_types:
            resource_types_item = resource_types_item_data.to_dict()
            resource_types.append(resource_types_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "resource_types": resource_types,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadef_resource_type import MetadefResourceType  # noqa: PLC0415

        d = dict(src_dict)
        resource_types = []
        _resource_types = d.pop("resource_types")
        for resource_types_item_data in _resource_types:
            resource_types_item = MetadefResourceType.from_dict(resource_types_item_data)

            resource_types.append(resource_types_item)

        metadef_resource_types = cls(
            resource_types=resource_types,
        )

        metadef_resource_types.additional_properties = d
        return metadef_resource_types

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
