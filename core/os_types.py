"""Guest OS types and categories (CloudStack's guest_os and guest_os_category).

A template names the guest OS it boots; the hypervisor uses it to pick virtual hardware.
The list is seeded by migration 0004 (and by `seed_os_types` for databases built from the
models directly) with a subset of CloudStack's own list, under CloudStack's names.
"""

from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base, IdMixin, get_live

# CloudStack's category names, each with some of its guest OS names.
SEED: dict[str, tuple[str, ...]] = {
    "CentOS": (
        "CentOS 5.6 (32-bit)",
        "CentOS 5.6 (64-bit)",
        "CentOS 6.5 (64-bit)",
        "CentOS 7",
        "CentOS 8",
    ),
    "Debian": (
        "Debian GNU/Linux 9 (64-bit)",
        "Debian GNU/Linux 10 (64-bit)",
        "Debian GNU/Linux 11 (64-bit)",
        "Debian GNU/Linux 12 (64-bit)",
    ),
    "Oracle": ("Oracle Linux 8", "Oracle Linux 9"),
    "RedHat": ("Red Hat Enterprise Linux 8", "Red Hat Enterprise Linux 9"),
    "SUSE": ("SUSE Linux Enterprise Server 15 (64-bit)",),
    "Windows": (
        "Windows Server 2016 (64-bit)",
        "Windows Server 2019 (64-bit)",
        "Windows Server 2022 (64-bit)",
        "Windows 10 (64-bit)",
    ),
    "Other": ("Other (32-bit)", "Other (64-bit)", "Other PV (64-bit)"),
    "Novel": ("Novell Netware 6.x",),
    "Unix": ("FreeBSD 12 (64-bit)", "FreeBSD 13 (64-bit)"),
    "Ubuntu": (
        "Ubuntu 18.04 LTS",
        "Ubuntu 20.04 LTS",
        "Ubuntu 22.04 LTS",
        "Ubuntu 24.04 LTS",
    ),
    "Linux": ("Other Linux (32-bit)", "Other Linux (64-bit)", "Other 2.6x Linux (64-bit)"),
    "Rocky": ("Rocky Linux 8", "Rocky Linux 9"),
}


class OsCategory(IdMixin, Base):
    __tablename__ = "guest_os_category"

    name: Mapped[str] = mapped_column(sa.String(255), unique=True)


class OsType(IdMixin, Base):
    __tablename__ = "guest_os"

    category_id: Mapped[int] = mapped_column(sa.ForeignKey("guest_os_category.id"), index=True)
    display_name: Mapped[str] = mapped_column(sa.String(255), index=True)
    is_user_defined: Mapped[bool] = mapped_column(default=False)
    display: Mapped[bool] = mapped_column(default=True)


def seed_os_types(session: Session) -> None:
    """Insert the seed list into empty tables (migration 0004 does the same)."""
    if session.scalar(sa.select(OsCategory.id).limit(1)) is not None:
        return
    for category_name, names in SEED.items():
        category = OsCategory(name=category_name)
        session.add(category)
        session.flush()
        session.add_all(OsType(category_id=category.id, display_name=name) for name in names)
    session.flush()


def os_type_by_uuid(session: Session, uuid: str) -> OsType:
    return get_live(session, OsType, "guest OS type", uuid=uuid)


def os_type_named(session: Session, name: str) -> OsType | None:
    """The OS type with this display name (templates made before OS types were rows)."""
    return session.scalar(
        sa.select(OsType).where(OsType.display_name == name).order_by(OsType.id).limit(1)
    )


def list_os_types(
    session: Session,
    *,
    uuid: str | None = None,
    description: str | None = None,
    category_uuid: str | None = None,
    is_user_defined: bool | None = None,
    keyword: str | None = None,
) -> list[OsType]:
    """Guest OS types, filtered as listOsTypes does (description is a substring match)."""
    query = sa.select(OsType).where(OsType.display.is_(True)).order_by(OsType.id)
    if uuid is not None:
        query = query.where(OsType.uuid == uuid)
    if description:
        query = query.where(OsType.display_name.contains(description, autoescape=True))
    if keyword:
        query = query.where(OsType.display_name.contains(keyword, autoescape=True))
    if category_uuid is not None:
        query = query.where(
            OsType.category_id.in_(sa.select(OsCategory.id).where(OsCategory.uuid == category_uuid))
        )
    if is_user_defined is not None:
        query = query.where(OsType.is_user_defined.is_(is_user_defined))
    return list(session.scalars(query))


def list_os_categories(
    session: Session, *, uuid: str | None = None, name: str | None = None
) -> list[OsCategory]:
    query = sa.select(OsCategory).order_by(OsCategory.id)
    if uuid is not None:
        query = query.where(OsCategory.uuid == uuid)
    if name:
        query = query.where(OsCategory.name.contains(name, autoescape=True))
    return list(session.scalars(query))
