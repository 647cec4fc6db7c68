from enum import StrEnum


class ImageSortKey(StrEnum):
    CONTAINER_FORMAT = "container_format"
    CREATED_AT = "created_at"
    DISK_FORMAT = "disk_format"
    ID = "id"
    NAME = "name"
    SIZE = "size"
    STATUS = "status"
    UPDATED_AT = "updated_at"

    def __str__(self) -> str:
        return str(self.value)
