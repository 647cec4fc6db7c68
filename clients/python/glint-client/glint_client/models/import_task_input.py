from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.import_task_input_image_properties import ImportTaskInputImageProperties


T = TypeVar("T", bound="ImportTaskInput")


@_attrs_define
class ImportTaskInput:
    """What an `import` task fetches, and the image it makes.

    Attributes:
        import_from (str): The URL of the data.
        image_properties (ImportTaskInputImageProperties | Unset): The new image's attributes, as `POST /v2/images`
            takes them.
        import_from_format (str | Unset): The data's disk format.
    """

    import_from: str
    image_properties: ImportTaskInputImageProperties | Unset = UNSET
    import_from_format: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        import_from = self.import_from

        image_properties: dict[str, Any] | Unset = UNSET
        if not isinstance(self.image_properties, Unset):
            image_properties = self.image_properties.to_dict()

        import_from_format = self.import_from_format

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "import_from": import_from,
            }
        )
        if image_properties is not UNSET:
            field_dict["image_properties"] = image_properties
        if import_from_format is not UNSET:
            field_dict["import_from_format"] = import_from_format

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.import_task_input_image_properties import ImportTaskInputImageProperties  # noqa: PLC0415

        d = dict(src_dict)
        import_from = d.pop("import_from")

        _image_properties = d.pop("image_properties", UNSET)
        image_properties: ImportTaskInputImageProperties | Unset
        if isinstance(_image_properties, Unset):
            image_properties = UNSET
        else:
            image_properties = ImportTaskInputImageProperties.from_dict(_image_properties)

        import_from_format = d.pop("import_from_format", UNSET)

        import_task_input = cls(
            import_from=import_from,
            image_properties=image_properties,
            import_from_format=import_from_format,
        )

        import_task_input.additional_properties = d
        return import_task_input

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
