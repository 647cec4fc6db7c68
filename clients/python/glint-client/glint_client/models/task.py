from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.task_status import TaskStatus
from ..types import UNSET, Unset

T = TypeVar("T", bound="Task")


@_attrs_define
class Task:
    """A task, as the tasks API shows it (lists leave out `input`, `result` and `message`).

    Attributes:
        created_at (datetime.datetime):
        id (UUID):
        schema (str):
        self_ (str):
        status (TaskStatus): A task's status.
        type_ (str): `import` (tasks API), `api_image_import` or `location_import`.
        updated_at (datetime.datetime):
        expires_at (datetime.datetime | None | Unset): When a finished task is purged.
        image_id (None | Unset | UUID): The image the task works on.
        input_ (Any | Unset): What the task was asked to do (an object).
        message (str | Unset):
        owner (None | str | Unset):
        request_id (None | str | Unset):
        result (Any | Unset): What it made (an object), once it succeeded.
        user_id (None | str | Unset):
    """

    created_at: datetime.datetime
    id: UUID
    schema: str
    self_: str
    status: TaskStatus
    type_: str
    updated_at: datetime.datetime
    expires_at: datetime.datetime | None | Unset = UNSET
    image_id: None | Unset | UUID = UNSET
    input_: Any | Unset = UNSET
    message: str | Unset = UNSET
    owner: None | str | Unset = UNSET
    request_id: None | str | Unset = UNSET
    result: Any | Unset = UNSET
    user_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        created_at = self.created_at.isoformat()

        id = str(self.id)

        schema = self.schema

        self_ = self.self_

        status = self.status.value

        type_ = self.type_

        updated_at = self.updated_at.isoformat()

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        elif isinstance(self.expires_at, datetime.datetime):
            expires_at = self.expires_at.isoformat()
        else:
            expires_at = self.expires_at

        image_id: None | str | Unset
        if isinstance(self.image_id, Unset):
            image_id = UNSET
        elif isinstance(self.image_id, UUID):
            image_id = str(self.image_id)
        else:
            image_id = self.image_id

        input_ = self.input_

        message = self.message

        owner: None | str | Unset
        if isinstance(self.owner, Unset):
            owner = UNSET
        else:
            owner = self.owner

        request_id: None | str | Unset
        if isinstance(self.request_id, Unset):
            request_id = UNSET
        else:
            request_id = self.request_id

        result = self.result

        user_id: None | str | Unset
        if isinstance(self.user_id, Unset):
            user_id = UNSET
        else:
            user_id = self.user_id

        field_dict: dict[str, Any] = {}
        field_dict.update(self.additional_properties)
        field_dict.update(
            {
                "created_at": created_at,
                "id": id,
                "schema": schema,
                "self": self_,
                "status": status,
                "type": type_,
                "updated_at": updated_at,
            }
        )
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if image_id is not UNSET:
            field_dict["image_id"] = image_id
        if input_ is not UNSET:
            field_dict["input"] = input_
        if message is not UNSET:
            field_dict["message"] = message
        if owner is not UNSET:
            field_dict["owner"] = owner
        if request_id is not UNSET:
            field_dict["request_id"] = request_id
        if result is not UNSET:
            field_dict["result"] = result
        if user_id is not UNSET:
            field_dict["user_id"] = user_id

        return field_dict

    @classmethod
    def from_dict(cls: type[T], src_dict: Mapping[str, Any]) -> T:
        d = dict(src_dict)
        created_at = datetime.datetime.fromisoformat(d.pop("created_at"))

        id = UUID(d.pop("id"))

        schema = d.pop("schema")

        self_ = d.pop("self")

        status = TaskStatus(d.pop("status"))

        type_ = d.pop("type")

        updated_at = datetime.datetime.fromisoformat(d.pop("updated_at"))

        def _parse_expires_at(data: object) -> datetime.datetime | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                expires_at_type_0 = datetime.datetime.fromisoformat(data)

                return expires_at_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(datetime.datetime | None | Unset, data)

        expires_at = _parse_expires_at(d.pop("expires_at", UNSET))

        def _parse_image_id(data: object) -> None | Unset | UUID:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, str):
                    raise TypeError()
                image_id_type_0 = UUID(data)

                return image_id_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(None | Unset | UUID, data)

        image_id = _parse_image_id(d.pop("image_id", UNSET))

        input_ = d.pop("input", UNSET)

        message = d.pop("message", UNSET)

        def _parse_owner(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        owner = _parse_owner(d.pop("owner", UNSET))

        def _parse_request_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        request_id = _parse_request_id(d.pop("request_id", UNSET))

        result = d.pop("result", UNSET)

        def _parse_user_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user_id = _parse_user_id(d.pop("user_id", UNSET))

        task = cls(
            created_at=created_at,
            id=id,
            schema=schema,
            self_=self_,
            status=status,
            type_=type_,
            updated_at=updated_at,
            expires_at=expires_at,
            image_id=image_id,
            input_=input_,
            message=message,
            owner=owner,
            request_id=request_id,
            result=result,
            user_id=user_id,
        )

        task.additional_properties = d
        return task

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
