from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

if TYPE_CHECKING:
    from ..models.import_methods_value import ImportMethodsValue


T = TypeVar("T", bound="ImportMethods")


@_attrs_define
class ImportMethods:
    """The import methods this site offers.

    Attributes:
        import_methods (ImportMethodsValue): The list of methods, as a discovery value.
    """

    import_methods: ImportMethodsValue
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        import_methods = self.import_methods.to_dict()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "import-methods": import_methods,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.import_methods_value import ImportMethodsValue  # noqa: PLC0415

        d = dict(src_dict)
        import_methods = ImportMethodsValue.from_dict(d.pop("import-methods"))

        import_methods = cls(
            import_methods=import_methods,
        )

        import_methods.additional_properties = d
        return import_methods

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
