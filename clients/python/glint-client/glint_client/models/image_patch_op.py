from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.patch_op import PatchOp
from ..types import UNSET, Unset

T = TypeVar("T", bound="ImagePatchOp")


@_attrs_define
class ImagePatchOp:
    """One JSON-patch operation (`application/openstack-images-v2.1-json-patch`).

    Attributes:
        op (PatchOp): A JSON-patch operation's verb.
        path (str): A JSON pointer to a top-level attribute, e.g. `/name`.
        value (Any | Unset): The new value (`add` and `replace`).
    """

    op: PatchOp
    path: str
    value: Any | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        op = self.op.value

        path = self.path

        value = self.value

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "op": op,
                "path": path,
            }
        )
        if value is not UNSET:
            field_dict["value"] = value

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        op = PatchOp(d.pop("op"))

        path = d.pop("path")

        value = d.pop("value", UNSET)

        image_patch_op = cls(
            op=op,
            path=path,
            value=value,
        )

        image_patch_op.additional_properties = d
        return image_patch_op

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
