from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.metadef_resource_type_association import MetadefResourceTypeAssociation


T = TypeVar("T", bound="MetadefResourceTypeAssociations")


@_attrs_define
class MetadefResourceTypeAssociations:
    """A namespace's resource-type associations.

    Attributes:
        resource_type_associations (list[MetadefResourceTypeAssociation]):
    """

    resource_type_associations: list[MetadefResourceTypeAssociation]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        resource_type_associations = []
        for resource_type_associations_item_data in self.resource_type_associations:
            resource_type_associations_item = resource_type_associations_item_data.to_dict()
            resource_type_associations.append(resource_type_associations_item)

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "resource_type_associations": resource_type_associations,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadef_resource_type_association import MetadefResourceTypeAssociation  # noqa: PLC0415

        d = dict(src_dict)
        resource_type_associations = []
        _resource_type_associations = d.pop("resource_type_associations")
        for resource_type_associations_item_data in _resource_type_associations:
            resource_type_associations_item = MetadefResourceTypeAssociation.from_dict(
                resource_type_associations_item_data
            )

            resource_type_associations.append(resource_type_associations_item)

        metadef_resource_type_associations = cls(
            resource_type_associations=resource_type_associations,
        )

        metadef_resource_type_associations.additional_properties = d
        return metadef_resource_type_associations

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
