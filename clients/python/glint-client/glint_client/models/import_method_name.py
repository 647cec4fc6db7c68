from enum import StrEnum


class ImportMethodName(StrEnum):
    COPY_IMAGE = "copy-image"
    GLANCE_DIRECT = "glance-direct"
    GLANCE_DOWNLOAD = "glance-download"
    WEB_DOWNLOAD = "web-download"

    def __str__(self) -> str:
        return str(self.value)
