from enum import StrEnum


class ImageVisibility(StrEnum):
    COMMUNITY = "community"
    PRIVATE = "private"
    PUBLIC = "public"
    SHARED = "shared"

    def __str__(self) -> str:
        return str(self.value)
