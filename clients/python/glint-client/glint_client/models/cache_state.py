from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.cached_image import CachedImage


T = TypeVar("T", bound="CacheState")


@_attrs_define
class CacheState:
    """What this node caches, and the images queued for caching (oldest first).

    Attributes:
        cached_images (list[CachedImage]):
        queued_images (list[str]):
    """

    cached_images: list[CachedImage]
    queued_images: list[str]
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        cached_images = []
        for cached_images_item_data in self.cached_images:
            cached_images_item = cached_images_item_data.to_dict()
            cached_images.append(cached_images_item)

        queued_images = self.queued_images

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "cached_images": cached_images,
                "queued_images": queued_images,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.cached_image import CachedImage  # noqa: PLC0415

        d = dict(src_dict)
        cached_images = []
        _cached_images = d.pop("cached_images")
        for cached_images_item_data in _cached_images:
            cached_images_item = CachedImage.from_dict(cached_images_item_data)

            cached_images.append(cached_images_item)

        queued_images = cast(list[str], d.pop("queued_images"))

        cache_state = cls(
            cached_images=cached_images,
            queued_images=queued_images,
        )

        cache_state.additional_properties = d
        return cache_state

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
