"""The template tables: the image itself, each zone's copy of it, and who it is shared with.

`TemplateZone` (CloudStack's template_zone_ref and template_store_ref) tracks each zone's
copy through its download states; the download state machine is the table below.
"""

from __future__ import annotations

import datetime as dt
import enum
import json

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.db import Base, IdMixin
from core.errors import InvalidState

READY = "Download Complete"
ISO = "ISO"
TEMPLATE_FORMATS = ("QCOW2", "RAW", "VHD", "VHDX", "OVA", "VMDK", "BAREMETAL", "TAR", "DIR")
HYPERVISORS = ("KVM", "XenServer", "VMware", "Hyperv", "LXC", "Ovm3", "BareMetal", "Simulator")
FILTERS = (
    "featured",
    "self",
    "selfexecutable",
    "sharedexecutable",
    "executable",
    "community",
    "all",
)
CHECKSUM_ALGORITHMS = {"MD5": "md5", "SHA-1": "sha1", "SHA-224": "sha224", "SHA-256": "sha256",
                       "SHA-384": "sha384", "SHA-512": "sha512"}  # fmt: skip


class DownloadState(enum.StrEnum):
    """CloudStack's VMTemplateStorageResourceAssoc.Status values."""

    NOT_DOWNLOADED = "NOT_DOWNLOADED"
    DOWNLOAD_IN_PROGRESS = "DOWNLOAD_IN_PROGRESS"
    DOWNLOADED = "DOWNLOADED"
    DOWNLOAD_ERROR = "DOWNLOAD_ERROR"


# The download state machine, as data: state → states it may move to.
DOWNLOAD_TRANSITIONS: dict[DownloadState, frozenset[DownloadState]] = {
    DownloadState.NOT_DOWNLOADED: frozenset(
        {DownloadState.DOWNLOAD_IN_PROGRESS, DownloadState.DOWNLOAD_ERROR}
    ),
    DownloadState.DOWNLOAD_IN_PROGRESS: frozenset(
        {DownloadState.DOWNLOAD_IN_PROGRESS, DownloadState.DOWNLOADED, DownloadState.DOWNLOAD_ERROR}
    ),
    DownloadState.DOWNLOADED: frozenset(),
    DownloadState.DOWNLOAD_ERROR: frozenset({DownloadState.DOWNLOAD_IN_PROGRESS}),
}


class Template(IdMixin, Base):
    __tablename__ = "vm_template"

    name: Mapped[str] = mapped_column(sa.String(255), index=True)
    display_text: Mapped[str] = mapped_column(sa.String(4096), default="")
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), index=True)
    domain_id: Mapped[int] = mapped_column(sa.ForeignKey("domain.id"))
    zone_id: Mapped[int | None] = mapped_column(sa.ForeignKey("zone.id"))
    format: Mapped[str] = mapped_column(sa.String(16), default="QCOW2")
    hypervisor: Mapped[str] = mapped_column(sa.String(32), default="Simulator")
    os_type: Mapped[str] = mapped_column(sa.String(255), default="Other Linux (64-bit)")
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    url: Mapped[str] = mapped_column(sa.String(2048), default="")
    checksum: Mapped[str] = mapped_column(sa.String(255), default="")
    template_type: Mapped[str] = mapped_column(sa.String(16), default="USER")
    is_public: Mapped[bool] = mapped_column(default=False)
    is_featured: Mapped[bool] = mapped_column(default=False)
    is_ready: Mapped[bool] = mapped_column(default=False)
    password_enabled: Mapped[bool] = mapped_column(default=False)
    bootable: Mapped[bool] = mapped_column(default=True)
    status: Mapped[str] = mapped_column(sa.String(255), default="")
    removed: Mapped[dt.datetime | None]
    # plain columns (no foreign keys): SQLite cannot add a constrained column in place
    os_type_id: Mapped[int | None]
    is_extractable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    requires_hvm: Mapped[bool] = mapped_column(default=True, server_default=sa.true())
    sshkey_enabled: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    dynamically_scalable: Mapped[bool] = mapped_column(default=False, server_default=sa.false())
    sort_key: Mapped[int] = mapped_column(default=0, server_default="0")
    details: Mapped[str] = mapped_column(sa.Text, default="{}", server_default="{}")
    source_volume_id: Mapped[int | None]

    @property
    def is_iso(self) -> bool:
        return self.format == ISO

    @property
    def kind(self) -> str:
        return "iso" if self.is_iso else "template"

    @property
    def resource_type(self) -> str:
        """How events, jobs and tags name it: "Iso" or "Template"."""
        return "Iso" if self.is_iso else "Template"

    @property
    def detail_map(self) -> dict[str, str]:
        loaded: dict[str, str] = json.loads(self.details or "{}")
        return loaded


class TemplateZone(IdMixin, Base):
    """One zone's copy of a template on secondary storage."""

    __tablename__ = "template_zone_ref"
    __table_args__ = (sa.UniqueConstraint("template_id", "zone_id"),)

    template_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_template.id"))
    zone_id: Mapped[int] = mapped_column(sa.ForeignKey("zone.id"), index=True)
    download_state: Mapped[str] = mapped_column(sa.String(32), default=DownloadState.NOT_DOWNLOADED)
    download_pct: Mapped[int] = mapped_column(default=0)
    status: Mapped[str] = mapped_column(sa.String(1024), default="")
    size_bytes: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    install_path: Mapped[str] = mapped_column(sa.String(1024), default="")
    removed: Mapped[dt.datetime | None]

    @property
    def is_ready(self) -> bool:
        return self.download_state == DownloadState.DOWNLOADED


class LaunchPermission(Base):
    """A template shared with one account (CloudStack's launch_permission)."""

    __tablename__ = "launch_permission"

    template_id: Mapped[int] = mapped_column(sa.ForeignKey("vm_template.id"), primary_key=True)
    account_id: Mapped[int] = mapped_column(sa.ForeignKey("account.id"), primary_key=True)


def ensure_state(ref: TemplateZone, to: DownloadState) -> None:
    """Raise InvalidState unless the zone copy may move to `to`."""
    if to not in DOWNLOAD_TRANSITIONS[DownloadState(ref.download_state)]:
        raise InvalidState("template copy", ref.id, ref.download_state, f"move to {to}")
