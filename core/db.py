"""Database plumbing: the declarative base, column helpers, engines and session scopes.

SQLite is the embedded default and MySQL/MariaDB the production database. Two quirks of
SQLite shape this module: pysqlite's own transaction handling is turned off so that SQLAlchemy
emits BEGIN itself, and write transactions begin IMMEDIATE, so that a transaction which reads
and then writes waits for the write lock instead of failing with "database is locked".
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.dialects import mysql
from sqlalchemy.orm import DeclarativeBase, Mapped, Session, mapped_column, sessionmaker

from core.errors import NotFound

WRITER_WAIT = 60  # seconds, SQLite's busy timeout too


def new_uuid() -> str:
    return str(uuid.uuid4())


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class UTCDateTime(sa.TypeDecorator[dt.datetime]):
    """Stores naive UTC (portable across SQLite and MariaDB), returns aware UTC datetimes."""

    impl = sa.DateTime
    cache_ok = True

    def load_dialect_impl(self, dialect: sa.Dialect) -> sa.types.TypeEngine[Any]:
        if dialect.name in ("mysql", "mariadb"):
            return dialect.type_descriptor(mysql.DATETIME(fsp=6))
        return dialect.type_descriptor(sa.DateTime())

    def process_bind_param(self, value: dt.datetime | None, dialect: sa.Dialect) -> Any:
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(dt.UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: Any, dialect: sa.Dialect) -> dt.datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=dt.UTC)


class Base(DeclarativeBase):
    type_annotation_map = {dt.datetime: UTCDateTime()}
    metadata = sa.MetaData(
        naming_convention={
            "ix": "ix_%(table_name)s_%(column_0_N_name)s",
            "uq": "uq_%(table_name)s_%(column_0_N_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class IdMixin:
    """Internal integer key (joins, EC2 id encoding) plus the public uuid of CloudStack's API."""

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=True)
    uuid: Mapped[str] = mapped_column(sa.String(36), unique=True, default=new_uuid)
    created: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Database:
    """An engine and two session scopes: `read()` never writes, `write()` commits or rolls back."""

    def __init__(self, url: str, *, echo: bool = False, pool_size: int = 20) -> None:
        self.url = sa.make_url(url)
        self.is_sqlite = self.url.get_backend_name() == "sqlite"
        if self.is_sqlite:
            self.engine = sa.create_engine(
                self.url,
                echo=echo,
                connect_args={"check_same_thread": False, "timeout": 60},
                pool_size=pool_size,
                max_overflow=pool_size,
            )
            _configure_sqlite(self.engine)
        else:
            self.engine = sa.create_engine(
                self.url,
                echo=echo,
                pool_pre_ping=True,
                pool_size=pool_size,
                max_overflow=pool_size,
                pool_recycle=3600,
                isolation_level="READ COMMITTED",
            )
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._writer = threading.RLock() if self.is_sqlite else None

    @contextmanager
    def read(self) -> Iterator[Session]:
        # Closing (not rolling back) ends the transaction but keeps loaded objects usable.
        with self._sessions() as session:
            yield session

    @contextmanager
    def write(self) -> Iterator[Session]:
        with self._writer_turn(), self._sessions() as session:
            if self.is_sqlite:
                session.connection(execution_options={"sqlite_begin": "IMMEDIATE"})
            try:
                yield session
                session.commit()
            except BaseException:
                session.rollback()
                raise

    @contextmanager
    def _writer_turn(self) -> Iterator[None]:
        """SQLite runs one writer at a time; threads of this process queue on a lock for
        their turn instead of in SQLite's busy handler, which polls with sleeps of up to
        100 ms and leaves the database idle between a commit and the next writer's wake-up.
        After WRITER_WAIT seconds a writer goes on without its turn (as before: SQLite's
        busy timeout then decides), so a writer that never finishes cannot hang the others."""
        if self._writer is None:
            yield
            return
        queued = self._writer.acquire(timeout=WRITER_WAIT)
        try:
            yield
        finally:
            if queued:
                self._writer.release()

    def dispose(self) -> None:
        self.engine.dispose()


def _configure_sqlite(engine: sa.Engine) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=60000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: sa.Connection) -> None:
        mode = connection.get_execution_options().get("sqlite_begin", "DEFERRED")
        connection.exec_driver_sql(f"BEGIN {mode}")


def changed_rows(session: Session, statement: Any) -> int:
    """Run a bulk UPDATE or DELETE and say how many rows it changed. Objects already in the
    session are not synchronised: callers reload what they go on using."""
    result = session.execute(statement.execution_options(synchronize_session=False))
    return int(result.rowcount)


def get_live(
    session: Session,
    model: type[Any],
    kind: str,
    *,
    ident: int | None = None,
    uuid: str | None = None,
) -> Any:
    """The row with this id or uuid that is not removed, or NotFound naming `kind`."""
    query = sa.select(model)
    query = query.where(model.id == ident) if ident is not None else query.where(model.uuid == uuid)
    if hasattr(model, "removed"):
        query = query.where(model.removed.is_(None))
    row = session.scalar(query)
    if row is None:
        raise NotFound(kind, ident if ident is not None else uuid)
    return row
