from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.metadef_namespace import MetadefNamespace


T = TypeVar("T", bound="MetadefNamespaces")


@_attrs_define
class MetadefNamespaces:
    """One page of namespaces.

    Attributes:
        first (str): The first page of this query.
        namespaces (list[MetadefNamespace]):
        schema (str):
        next_ (str | Unset): The next page, when this one was full.
    """

    first: str
    namespaces: list[MetadefNamespace]
    schema: str
    next_: str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        first = self.first

        namespaces = []
        for namespaces_item_data in self.namespaces:
            namespaces_item = namespaces_item_data.to_dict()
            namespaces.append(namespaces_item)

        schema = self.schema

        next_ = self.next_

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "first": first,
                "namespaces": namespaces,
                "schema": schema,
            }
        )
        if next_ is not UNSET:
            field_dict["next"] = next_

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadef_namespace import MetadefNamespace  # noqa: PLC0415

        d = dict(src_dict)
        first = d.pop("first")

        namespaces = []
        _namespaces = d.pop("namespaces")
        for namespaces_item_data in _namespaces:
            namespaces_item = MetadefNamespace.from_dict(namespaces_item_data)

            namespaces.append(namespaces_item)

        schema = d.pop("schema")

        next_ = d.pop("next", UNSET)

        metadef_namespaces = cls(
            first=first,
            namespaces=namespaces,
            schema=schema,
            next_=next_,
        )

        metadef_namespaces.additional_properties = d
        return metadef_namespaces

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
