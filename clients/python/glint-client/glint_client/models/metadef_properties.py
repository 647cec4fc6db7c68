from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.metadef_properties_properties import MetadefPropertiesProperties


T = TypeVar("T", bound="MetadefProperties")


@_attrs_define
class MetadefProperties:
    """A namespace's properties, keyed by name.

    Attributes:
        properties (MetadefPropertiesProperties):
    """

    properties: MetadefPropertiesProperties
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        properties = self.properties.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "properties": properties,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadef_properties_properties import MetadefPropertiesProperties  # noqa: PLC0415

        d = dict(src_dict)
        properties = MetadefPropertiesProperties.from_dict(d.pop("properties"))

        metadef_properties = cls(
            properties=properties,
        )

        metadef_properties.additional_properties = d
        return metadef_properties

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
