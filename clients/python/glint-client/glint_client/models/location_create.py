from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.location_create_validation_data import LocationCreateValidationData


T = TypeVar("T", bound="LocationCreate")


@_attrs_define
class LocationCreate:
    """A new location.

    Attributes:
        url (str): Where the data is, e.g. an `http(s)://` URL served by a configured http store.
        validation_data (LocationCreateValidationData | Unset): The expected hash of the data; both fields or neither.
    """

    url: str
    validation_data: LocationCreateValidationData | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        url = self.url

        validation_data: dict[str, Any] | Unset = UNSET
        if not isinstance(self.validation_data, Unset):
            validation_data = self.validation_data.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "url": url,
            }
        )
        if validation_data is not UNSET:
            field_dict["validation_data"] = validation_data

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.location_create_validation_data import LocationCreateValidationData  # noqa: PLC0415

        d = dict(src_dict)
        url = d.pop("url")

        _validation_data = d.pop("validation_data", UNSET)
        validation_data: LocationCreateValidationData | Unset
        if isinstance(_validation_data, Unset):
            validation_data = UNSET
        else:
            validation_data = LocationCreateValidationData.from_dict(_validation_data)

        location_create = cls(
            url=url,
            validation_data=validation_data,
        )

        location_create.additional_properties = d
        return location_create

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
