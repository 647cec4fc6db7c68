from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.member_status import MemberStatus

T = TypeVar("T", bound="Member")


@_attrs_define
class Member:
    """A project an image is shared with, and its answer.

    Attributes:
        created_at (datetime.datetime):
        image_id (UUID):
        member_id (str):
        schema (str):
        status (MemberStatus): A member's answer to an image shared with its project.
        updated_at (datetime.datetime):
    """

    created_at: datetime.datetime
    image_id: UUID
    member_id: str
    schema: str
    status: MemberStatus
    updated_at: datetime.datetime
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        image_id = str(self.image_id)

        member_id = self.member_id

        schema = self.schema

        status = self.status.value

        updated_at = self.updated_at.isoformat()

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "image_id": image_id,
                "member_id": member_id,
                "schema": schema,
                "status": status,
                "updated_at": updated_at,
            }
        )

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        image_id = UUID(d.pop("image_id"))

        member_id = d.pop("member_id")

        schema = d.pop("schema")

        status = MemberStatus(d.pop("status"))

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        member = cls(
            created_at=created_at,
            image_id=image_id,
            member_id=member_id,
            schema=schema,
            status=status,
            updated_at=updated_at,
        )

        member.additional_properties = d
        return member

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
