from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

T = TypeVar("T", bound="LocationCreateValidationData")


@_attrs_define
class LocationCreateValidationData:
    """The expected hash of the data; both fields or neither.

    Attributes:
        os_hash_algo (str): sha1, sha256, sha512 or md5.
        os_hash_value (str): Hex digest of the data in `os_hash_algo`.
    """

    os_hash_algo: str
    os_hash_value: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        os_hash_algo = self.os_hash_algo

        os_hash_value = self.os_hash_value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "os_hash_algo": os_hash_algo,
                "os_hash_value": os_hash_value,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        os_hash_algo = d.pop("os_hash_algo")

        os_hash_value = d.pop("os_hash_value")

        location_create_validation_data = cls(
            os_hash_algo=os_hash_algo,
            os_hash_value=os_hash_value,
        )

        location_create_validation_data.additional_properties = d
        return location_create_validation_data

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
