from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast
from uuid import UUID

from attrs import define as _attrs_define
from attrs import field as _attrs_field

from ..models.task_status import TaskStatus
from ..types import UNSET, Unset

if TYPE_CHECKING:
    from ..models.image_task_input import ImageTaskInput
    from ..models.image_task_result_type_0 import ImageTaskResultType0


T = TypeVar("T", bound="ImageTask")


@_attrs_define
class ImageTask:
    """A task as an image's task list shows it: the stored row, times in ISO 8601 without a
    zone (UTC), and no links.

        Attributes:
            created_at (str): `YYYY-MM-DDTHH:MM:SS[.ffffff]`, UTC.
            deleted (bool): Always false.
            id (UUID):
            input_ (ImageTaskInput):
            message (str):
            status (TaskStatus): A task's status.
            type_ (str):
            updated_at (str): `YYYY-MM-DDTHH:MM:SS[.ffffff]`, UTC.
            deleted_at (None | str | Unset): Always null.
            expires_at (None | str | Unset): `YYYY-MM-DDTHH:MM:SS[.ffffff]`, UTC.
            image_id (None | Unset | UUID):
            owner (None | str | Unset):
            request_id (None | str | Unset):
            result (ImageTaskResultType0 | None | Unset):
            user_id (None | str | Unset):
    """

    created_at: str
    deleted: bool
    id: UUID
    input_: ImageTaskInput
    message: str
    status: TaskStatus
    type_: str
    updated_at: str
    deleted_at: None | str | Unset = UNSET
    expires_at: None | str | Unset = UNSET
    image_id: None | Unset | UUID = UNSET
    owner: None | str | Unset = UNSET
    request_id: None | str | Unset = UNSET
    result: ImageTaskResultType0 | None | Unset = UNSET
    user_id: None | str | Unset = UNSET
    additional_properties: dict[str, Any] = _attrs_field(init=False, factory=dict)

    def to_dict(self) -> dict[str, Any]:
        from ..models.image_task_result_type_0 import ImageTaskResultType0  # noqa: PLC0415

        created_at = self.created_at

        deleted = self.deleted

        id = str(self.id)

        input_ = self.input_.to_dict()

        message = self.message

        status = self.status.value

        type_ = self.type_

        updated_at = self.updated_at

        deleted_at: None | str | Unset
        if isinstance(self.deleted_at, Unset):
            deleted_at = UNSET
        else:
            deleted_at = self.deleted_at

        expires_at: None | str | Unset
        if isinstance(self.expires_at, Unset):
            expires_at = UNSET
        else:
            expires_at = self.expires_at

        image_id: None | str | Unset
        if isinstance(self.image_id, Unset):
            image_id = UNSET
        elif isinstance(self.image_id, UUID):
            image_id = str(self.image_id)
        else:
            image_id = self.image_id

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

        result: dict[str, Any] | None | Unset
        if isinstance(self.result, Unset):
            result = UNSET
        elif isinstance(self.result, ImageTaskResultType0):
            result = self.result.to_dict()
        else:
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
                "deleted": deleted,
                "id": id,
                "input": input_,
                "message": message,
                "status": status,
                "type": type_,
                "updated_at": updated_at,
            }
        )
        if deleted_at is not UNSET:
            field_dict["deleted_at"] = deleted_at
        if expires_at is not UNSET:
            field_dict["expires_at"] = expires_at
        if image_id is not UNSET:
            field_dict["image_id"] = image_id
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
        from ..models.image_task_input import ImageTaskInput  # noqa: PLC0415
        from ..models.image_task_result_type_0 import ImageTaskResultType0  # noqa: PLC0415

        d = dict(src_dict)
        created_at = d.pop("created_at")

        deleted = d.pop("deleted")

        id = UUID(d.pop("id"))

        input_ = ImageTaskInput.from_dict(d.pop("input"))

        message = d.pop("message")

        status = TaskStatus(d.pop("status"))

        type_ = d.pop("type")

        updated_at = d.pop("updated_at")

        def _parse_deleted_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        deleted_at = _parse_deleted_at(d.pop("deleted_at", UNSET))

        def _parse_expires_at(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

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

        def _parse_result(data: object) -> ImageTaskResultType0 | None | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            try:
                if not isinstance(data, dict):
                    raise TypeError()
                result_type_0 = ImageTaskResultType0.from_dict(data)

                return result_type_0
            except (TypeError, ValueError, AttributeError, KeyError):
                pass
            return cast(ImageTaskResultType0 | None | Unset, data)

        result = _parse_result(d.pop("result", UNSET))

        def _parse_user_id(data: object) -> None | str | Unset:
            if data is None:
                return data
            if isinstance(data, Unset):
                return data
            return cast(None | str | Unset, data)

        user_id = _parse_user_id(d.pop("user_id", UNSET))

        image_task = cls(
            created_at=created_at,
            deleted=deleted,
            id=id,
            input_=input_,
            message=message,
            status=status,
            type_=type_,
            updated_at=updated_at,
            deleted_at=deleted_at,
            expires_at=expires_at,
            image_id=image_id,
            owner=owner,
            request_id=request_id,
            result=result,
            user_id=user_id,
        )

        image_task.additional_properties = d
        return image_task

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
