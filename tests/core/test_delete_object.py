"""DeleteObject (`core.object_deletes.delete_object`) on SQLite and MariaDB: it decides from
the versioning state read under PutBucketVersioning's lock, so a first PutBucketVersioning
arriving during the store delete of an unversioned bucket waits for it and adopts nothing
that the delete removed."""

from __future__ import annotations

import threading
from typing import Any, cast

import sqlalchemy as sa

from core import object_deletes, object_versions
from core.context import CallContext
from core.object_versions import Deleted, ObjectVersion
from drivers.objectstore.base import ObjectStore
from tests.core.conftest import CoreHarness
from tests.core.test_object_deletes import make_public, stored, with_acl
from tests.core.test_object_versions import make_bucket, put

SWITCH_GRACE = 2.0  # seconds PutBucketVersioning gets to finish while the delete runs


class SwitchesVersioningOnDuringDelete:
    """The local store, except that its delete starts PutBucketVersioning in another thread
    and gives it time to finish before deleting: unless the delete holds the lock, the
    adoption sees the object whose bytes then go."""

    def __init__(self, core: CoreHarness, ctx: CallContext, store: ObjectStore) -> None:
        self._core, self._ctx, self._store = core, ctx, store
        self.switch = threading.Thread(target=self._switch_on)
        self.finished_before_delete = False

    def __getattr__(self, name: str) -> Any:
        return getattr(self._store, name)

    def _switch_on(self) -> None:
        with self._core.db.write() as session:
            object_versions.set_status(
                session, self._ctx, "versions", object_versions.ENABLED, store=self._store
            )

    def delete_object(self, namespace: str, container: str, key: str) -> None:
        self.switch.start()
        self.switch.join(SWITCH_GRACE)
        self.finished_before_delete = not self.switch.is_alive()
        self._store.delete_object(namespace, container, key)


def test_first_put_bucket_versioning_waits_for_a_delete(core, alice, store) -> None:
    bucket = make_bucket(core, alice, store, None)
    for key in ("gone", "keep"):
        put(core, store, bucket, key, key.encode())
        make_public(core, alice, key)
    racing = SwitchesVersioningOnDuringDelete(core, alice, store)
    deleted = object_deletes.delete_object(core.db, cast(ObjectStore, racing), bucket, "gone", None)
    racing.switch.join(60)
    assert deleted == Deleted(None, False)
    assert not racing.finished_before_delete  # it waited for the delete's lock
    with core.db.read() as session:
        assert object_versions.get_status(session, alice, "versions") == "Enabled"
        rows = session.execute(sa.select(ObjectVersion.key, ObjectVersion.version_id)).all()
    # Adopted afterwards: only what the delete left, nothing pointing at removed bytes.
    assert [(key.decode(), version_id) for key, version_id in rows] == [("keep", "null")]
    assert not stored(store, bucket, "gone") and with_acl(core) == {"keep"}
