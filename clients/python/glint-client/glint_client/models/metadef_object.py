from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.metadef_object_properties import MetadefObjectProperties


T = TypeVar("T", bound="MetadefObject")


@_attrs_define
class MetadefObject:
    """An object: a named group of property definitions.

    Attributes:
        name (str):
        created_at (datetime.datetime | Unset):
        description (str | Unset):
        properties (MetadefObjectProperties | Unset):
        required (list[str] | Unset): Names of the properties an instance must set.
        schema (str | Unset):
        self_ (str | Unset):
        updated_at (datetime.datetime | Unset):
    """

    name: str
    created_at: datetime.datetime | Unset = UNSET
    description: str | Unset = UNSET
    properties: MetadefObjectProperties | Unset = UNSET
    required: list[str] | Unset = UNSET
    schema: str | Unset = UNSET
    self_: str | Unset = UNSET
    updated_at: datetime.datetime | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        name = self.name

        created_at: str | Unset = UNSET
        if not isinstance(self.created_at, Unset):
            created_at = self.created_at.isoformat()

        description = self.description

        properties: dict[str, Any] | Unset = UNSET
        if not isinstance(self.properties, Unset):
            properties = self.properties.to_dict()

        required: list[str] | Unset = UNSET
        if not isinstance(self.required, Unset):
            required = self.required

        schema = self.schema

        self_ = self.self_

        updated_at: str | Unset = UNSET
        if not isinstance(self.updated_at, Unset):
            updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "name": name,
            }
        )
        if created_at is not UNSET:
            field_dict["created_at"] = created_at
        if description is not UNSET:
            field_dict["description"] = description
        if properties is not UNSET:
            field_dict["properties"] = properties
        if required is not UNSET:
            field_dict["required"] = required
        if schema is not UNSET:
            field_dict["schema"] = schema
        if self_ is not UNSET:
            field_dict["self"] = self_
        if updated_at is not UNSET:
            field_dict["updated_at"] = updated_at

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        from ..models.metadef_object_properties import MetadefObjectProperties  # noqa: PLC0415

        d = dict(src_dict)
        name = d.pop("name")

        _created_at = d.pop("created_at", UNSET)
        created_at: datetime.datetime | Unset
        if isinstance(_created_at, Unset):
            created_at = UNSET
        else:
            created_at = datetime.datetime.fromisoformat(_created_at)

        description = d.pop("description", UNSET)

        _properties = d.pop("properties", UNSET)
        properties: MetadefObjectProperties | Unset
        if isinstance(_properties, Unset):
            properties = UNSET
        else:
            properties = MetadefObjectProperties.from_dict(_properties)

        required = cast(list[str], d.pop("required", UNSET))

        schema = d.pop("schema", UNSET)

        self_ = d.pop("self", UNSET)

        _updated_at = d.pop("updated_at", UNSET)
        updated_at: datetime.datetime | Unset
        if isinstance(_updated_at, Unset):
            updated_at = UNSET
        else:
            updated_at = datetime.datetime.fromisoformat(_updated_at)

        metadef_object = cls(
            name=name,
            created_at=created_at,
            description=description,
            properties=properties,
            required=required,
            schema=schema,
            self_=self_,
            updated_at=updated_at,
        )

        metadef_object.additional_properties = d
        return metadef_object

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
