from enum import StrEnum


class ContainerFormat(StrEnum):
    AKI = "aki"
    AMI = "ami"
    ARI = "ari"
    BARE = "bare"
    COMPRESSED = "compressed"
    DOCKER = "docker"
    OVA = "ova"
    OVF = "ovf"

    def __str__(self) -> str:
        return str(self.value)
