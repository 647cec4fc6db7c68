from enum import StrEnum


class ImageStatus(StrEnum):
    ACTIVE = "active"
    DEACTIVATED = "deactivated"
    DELETED = "deleted"
    IMPORTING = "importing"
    KILLED = "killed"
    PENDING_DELETE = "pending_delete"
    QUEUED = "queued"
    SAVING = "saving"
    UPLOADING = "uploading"

    def __str__(self) -> str:
        return str(self.value)
