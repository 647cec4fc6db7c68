from enum import StrEnum


class DiskFormat(StrEnum):
    AKI = "aki"
    AMI = "ami"
    ARI = "ari"
    ISO = "iso"
    PLOOP = "ploop"
    QCOW2 = "qcow2"
    RAW = "raw"
    VDI = "vdi"
    VHD = "vhd"
    VHDX = "vhdx"
    VMDK = "vmdk"

    def __str__(self) -> str:
        return str(self.value)
