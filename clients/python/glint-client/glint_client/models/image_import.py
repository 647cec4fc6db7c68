from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.image_import_method import ImageImportMethod


T = TypeVar("T", bound="ImageImport")


@_attrs_define
class ImageImport:
    """`{"method": {"name": "glance-direct"}, "stores": [...], "all_stores": false, "all_stores_must_succeed": true}`

    Attributes:
        method (ImageImportMethod): How the data comes in.
        all_stores (bool | Unset):
        all_stores_must_succeed (bool | Unset):
        stores (list[str] | Unset):
    """

    method: ImageImportMethod
    all_stores: bool | Unset = UNSET
    all_stores_must_succeed: bool | Unset = UNSET
    stores: list[str] | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        method = self.method.to_dict()

        all_stores = self.all_stores

        all_stores_must_succeed = self.all_stores_must_succeed

        stores: list[str] | Unset = UNSET
        if not isinstance(self.stores, Unset):
            stores = self.stores

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "method": method,
            }
        )
        if all_stores is not UNSET:
            field_dict["all_stores"] = all_stores
        if all_stores_must_succeed is not UNSET:
            field_dict["all_stores_must_succeed"] = all_stores_must_succeed
        if stores is not UNSET:
            field_dict["stores"] = stores

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.image_import_method import ImageImportMethod  # noqa: PLC0415

        d = dict(src_dict)
        method = ImageImportMethod.from_dict(d.pop("method"))

        all_stores = d.pop("all_stores", UNSET)

        all_stores_must_succeed = d.pop("all_stores_must_succeed", UNSET)

        stores = cast(list[str], d.pop("stores", UNSET))

        image_import = cls(
            method=method,
            all_stores=all_stores,
            all_stores_must_succeed=all_stores_must_succeed,
            stores=stores,
        )

        image_import.additional_properties = d
        return image_import

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
