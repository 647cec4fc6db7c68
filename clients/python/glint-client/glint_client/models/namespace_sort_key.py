from enum import StrEnum


class NamespaceSortKey(StrEnum):
    CREATED_AT = "created_at"
    NAMESPACE = "namespace"
    UPDATED_AT = "updated_at"

    def __str__(self) -> str:
        return str(self.value)
