"""identity: dynamic roles and their rules, account role ids, login sessions, projects

Revision ID: 0004_identity
Revises: 0003_tags
"""

import datetime as dt
import uuid

import sqlalchemy as sa
from alembic import op

import core.db

revision = "0004_identity"
down_revision = "0003_tags"
branch_labels = None
depends_on = None

# (name, role type, description, account type): CloudStack's default roles, each `*` allow.
DEFAULT_ROLES = (
    ("Root Admin", "Admin", "Default root admin role", 1),
    ("Domain Admin", "DomainAdmin", "Default domain admin role", 2),
    ("User", "User", "Default user role", 0),
)


def _id_columns() -> list[sa.Column]:
    return [
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("uuid", sa.String(length=36), nullable=False),
        sa.Column("created", core.db.UTCDateTime(), nullable=False),
    ]


def upgrade() -> None:
    roles = op.create_table(
        "roles",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("role_type", sa.String(length=32), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("is_default", sa.Boolean(), nullable=False),
        sa.Column("removed", core.db.UTCDateTime(), nullable=True),
        *_id_columns(),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_roles")),
        sa.UniqueConstraint("uuid", name=op.f("uq_roles_uuid")),
    )
    permissions = op.create_table(
        "role_permissions",
        sa.Column("role_id", sa.Integer(), nullable=False),
        sa.Column("rule", sa.String(length=255), nullable=False),
        sa.Column("permission", sa.String(length=8), nullable=False),
        sa.Column("description", sa.String(length=255), nullable=False),
        sa.Column("sort_order", sa.Integer(), nullable=False),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["role_id"], ["roles.id"], name=op.f("fk_role_permissions_role_id_roles")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_role_permissions")),
        sa.UniqueConstraint("uuid", name=op.f("uq_role_permissions_uuid")),
    )
    with op.batch_alter_table("role_permissions", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_role_permissions_role_id"), ["role_id"], unique=False)

    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.add_column(sa.Column("role_id", sa.Integer(), nullable=True))
        batch_op.create_index(batch_op.f("ix_account_role_id"), ["role_id"], unique=False)
        batch_op.create_foreign_key(
            batch_op.f("fk_account_role_id_roles"), "roles", ["role_id"], ["id"]
        )

    op.create_table(
        "login_session",
        sa.Column("session_id", sa.String(length=64), nullable=False),
        sa.Column("session_key", sa.String(length=64), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("last_access", core.db.UTCDateTime(), nullable=False),
        sa.Column("timeout", sa.Integer(), nullable=False),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_login_session_user_id_user")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_session")),
        sa.UniqueConstraint("session_id", name=op.f("uq_login_session_session_id")),
        sa.UniqueConstraint("uuid", name=op.f("uq_login_session_uuid")),
    )
    with op.batch_alter_table("login_session", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_login_session_user_id"), ["user_id"], unique=False)

    op.create_table(
        "projects",
        sa.Column("name", sa.String(length=255), nullable=False),
        sa.Column("display_text", sa.String(length=255), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("domain_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("removed", core.db.UTCDateTime(), nullable=True),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_projects_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["domain_id"], ["domain.id"], name=op.f("fk_projects_domain_id_domain")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_projects")),
        sa.UniqueConstraint("uuid", name=op.f("uq_projects_uuid")),
    )
    with op.batch_alter_table("projects", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_projects_account_id"), ["account_id"], unique=False)
        batch_op.create_index(batch_op.f("ix_projects_domain_id"), ["domain_id"], unique=False)

    op.create_table(
        "project_account",
        sa.Column("project_id", sa.Integer(), nullable=False),
        sa.Column("account_id", sa.Integer(), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        *_id_columns(),
        sa.ForeignKeyConstraint(
            ["account_id"], ["account.id"], name=op.f("fk_project_account_account_id_account")
        ),
        sa.ForeignKeyConstraint(
            ["project_id"], ["projects.id"], name=op.f("fk_project_account_project_id_projects")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_project_account")),
        sa.UniqueConstraint(
            "project_id", "account_id", name=op.f("uq_project_account_project_id_account_id")
        ),
        sa.UniqueConstraint("uuid", name=op.f("uq_project_account_uuid")),
    )
    with op.batch_alter_table("project_account", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_project_account_account_id"), ["account_id"], unique=False
        )
        batch_op.create_index(
            batch_op.f("ix_project_account_project_id"), ["project_id"], unique=False
        )

    _seed_default_roles(roles, permissions)


def _seed_default_roles(roles: sa.Table, permissions: sa.Table) -> None:
    """The default roles, and every existing account on its type's default role."""
    connection = op.get_bind()
    now = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    account = sa.table("account", sa.column("role", sa.Integer), sa.column("role_id", sa.Integer))
    for name, role_type, description, account_type in DEFAULT_ROLES:
        role_id = connection.execute(
            roles.insert().values(
                name=name,
                role_type=role_type,
                description=description,
                is_default=True,
                uuid=str(uuid.uuid4()),
                created=now,
            )
        ).inserted_primary_key[0]
        connection.execute(
            permissions.insert().values(
                role_id=role_id,
                rule="*",
                permission="allow",
                description="",
                sort_order=0,
                uuid=str(uuid.uuid4()),
                created=now,
            )
        )
        connection.execute(
            account.update().where(account.c.role == account_type).values(role_id=role_id)
        )


def downgrade() -> None:
    op.drop_table("project_account")
    op.drop_table("projects")
    op.drop_table("login_session")
    with op.batch_alter_table("account", schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f("fk_account_role_id_roles"), type_="foreignkey")
        batch_op.drop_index(batch_op.f("ix_account_role_id"))
        batch_op.drop_column("role_id")
    op.drop_table("role_permissions")
    op.drop_table("roles")
