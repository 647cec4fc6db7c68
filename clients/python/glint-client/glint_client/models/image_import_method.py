from __future__ import annotations

from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.import_method_name import ImportMethodName
from ..types import UNSET, Unset

T = TypeVar("T", bound="ImageImportMethod")


@_attrs_define
class ImageImportMethod:
    """How the data comes in.

    Attributes:
        name (ImportMethodName): The import methods Glance defines; a site enables some (`GET /v2/info/import`).
        glance_image_id (UUID | Unset): The image to copy from another region (`glance-download`).
        glance_region (str | Unset): The region to copy it from (`glance-download`).
        glance_service_interface (str | Unset): The catalog interface to reach that region's image service (`glance-
            download`).
        uri (str | Unset): The URL to fetch (`web-download`).
    """

    name: ImportMethodName
    glance_image_id: UUID | Unset = UNSET
    glance_region: str | Unset = UNSET
    glance_service_interface: str | Unset = UNSET
    uri: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name.value

        glance_image_id: str | Unset = UNSET
        if not isinstance(self.glance_image_id, Unset):
            glance_image_id = str(self.glance_image_id)

        glance_region = self.glance_region

        glance_service_interface = self.glance_service_interface

        uri = self.uri

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
            }
        )
        if glance_image_id is not UNSET:
            field_dict["glance_image_id"] = glance_image_id
        if glance_region is not UNSET:
            field_dict["glance_region"] = glance_region
        if glance_service_interface is not UNSET:
            field_dict["glance_service_interface"] = glance_service_interface
        if uri is not UNSET:
            field_dict["uri"] = uri

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        name = ImportMethodName(d.pop("name"))

        _glance_image_id = d.pop("glance_image_id", UNSET)
        glance_image_id: UUID | Unset
        if isinstance(_glance_image_id, Unset):
            glance_image_id = UNSET
        else:
            glance_image_id = UUID(_glance_image_id)

        glance_region = d.pop("glance_region", UNSET)

        glance_service_interface = d.pop("glance_service_interface", UNSET)

        uri = d.pop("uri", UNSET)

        image_import_method = cls(
            name=name,
            glance_image_id=glance_image_id,
            glance_region=glance_region,
            glance_service_interface=glance_service_interface,
            uri=uri,
        )

        image_import_method.additional_properties = d
        return image_import_method

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
