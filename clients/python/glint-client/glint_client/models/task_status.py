from enum import StrEnum


class TaskStatus(StrEnum):
    FAILURE = "failure"
    PENDING = "pending"
    PROCESSING = "processing"
    SUCCESS = "success"

    def __str__(self) -> str:
        return str(self.value)
