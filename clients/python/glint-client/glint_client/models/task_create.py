from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.import_task_input import ImportTaskInput


T = TypeVar("T", bound="TaskCreate")


@_attrs_define
class TaskCreate:
    """`{"type": "import", "input": {"import_from": URL, "import_from_format": "qcow2", "image_properties": {...}}}`

    Attributes:
        input_ (ImportTaskInput): What an `import` task fetches, and the image it makes.
        type_ (str):
    """

    input_: ImportTaskInput
    type_: str
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        input_ = self.input_.to_dict()

        type_ = self.type_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "input": input_,
                "type": type_,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.import_task_input import ImportTaskInput  # noqa: PLC0415

        d = dict(src_dict)
        input_ = ImportTaskInput.from_dict(d.pop("input"))

        type_ = d.pop("type")

        task_create = cls(
            input_=input_,
            type_=type_,
        )

        task_create.additional_properties = d
        return task_create

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
