from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

T = TypeVar("T", bound="CachedImage")


@_attrs_define
class CachedImage:
    """One image in this node's cache. Times are seconds since the epoch.

    Attributes:
        hits (int): Downloads served from the cached copy.
        id (int): The cache index row.
        image_id (str):
        last_accessed (float):
        last_modified (float): When the copy was written.
        size (int):
        checksum (str | Unset): md5 of the cached copy, hex.
    """

    hits: int
    id: int
    image_id: str
    last_accessed: float
    last_modified: float
    size: int
    checksum: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        hits = self.hits

        id = self.id

        image_id = self.image_id

        last_accessed = self.last_accessed

        last_modified = self.last_modified

        size = self.size

        checksum = self.checksum

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "hits": hits,
                "id": id,
                "image_id": image_id,
                "last_accessed": last_accessed,
                "last_modified": last_modified,
                "size": size,
            }
        )
        if checksum is not UNSET:
            field_dict["checksum"] = checksum

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        hits = d.pop("hits")

        id = d.pop("id")

        image_id = d.pop("image_id")

        last_accessed = d.pop("last_accessed")

        last_modified = d.pop("last_modified")

        size = d.pop("size")

        checksum = d.pop("checksum", UNSET)

        cached_image = cls(
            hits=hits,
            id=id,
            image_id=image_id,
            last_accessed=last_accessed,
            last_modified=last_modified,
            size=size,
            checksum=checksum,
        )

        cached_image.additional_properties = d
        return cached_image

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
