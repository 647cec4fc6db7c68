from enum import StrEnum


class VisibilityFilter(StrEnum):
    ALL = "all"
    COMMUNITY = "community"
    PRIVATE = "private"
    PUBLIC = "public"
    SHARED = "shared"

    def __str__(self) -> str:
        return str(self.value)
