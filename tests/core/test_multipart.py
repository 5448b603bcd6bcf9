"""Multipart uploads at the service layer, on SQLite and MariaDB, with the local store:
byte-ordered upload listings, the state rules, and what is kept after completion."""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from core import buckets, multipart
from core import multipart_complete as completion
from core.context import CallContext
from core.multipart import COMPLETING, MultipartUpload, NoSuchUpload, UploadBusy
from drivers.objectstore.base import ObjectStore
from tests.core.conftest import CoreHarness


@pytest.fixture
def alice(core: CoreHarness, store: ObjectStore) -> CallContext:
    ctx = core.new_tenant("alice")
    with core.db.write() as session:
        buckets.create_bucket(session, ctx, "uploads", store=store, region="cloudgate")
    return ctx


def create(core: CoreHarness, ctx: CallContext, key: str) -> str:
    with core.db.write() as session:
        target = multipart.create_upload(
            session, ctx, "uploads", key, content_type=None, metadata={}
        )
        return target.upload.uuid


def send(
    core: CoreHarness,
    store: ObjectStore,
    ctx: CallContext,
    upload_id: str,
    number: int,
    data: bytes,
) -> multipart.MultipartPart:
    """Part `number` of key "k"'s upload."""
    address = multipart.PartAddress("uploads", "k", upload_id, number)
    body = io.BytesIO(data)
    uploaded = multipart.upload_part(core.db, store, ctx, address, body, content_length=len(data))
    return uploaded.part


def listed(core: CoreHarness, ctx: CallContext, **kw: object) -> completion.UploadListing:
    options: dict = {"prefix": "", "delimiter": "", "key_marker": "", "upload_id_marker": ""}
    options.update(kw)
    options.setdefault("limit", 1000)
    with core.db.read() as session:
        return completion.list_uploads(session, ctx, "uploads", **options)


def test_uploads_list_in_utf8_byte_order_case_sensitively(
    core: CoreHarness, alice: CallContext
) -> None:
    keys = ["a", "é", "B", "Z/1", "A", "Z/2"]
    for key in keys:
        create(core, alice, key)
    assert [u.key for u in listed(core, alice).uploads] == sorted(keys, key=str.encode)
    rolled = listed(core, alice, delimiter="/")
    assert [u.key for u in rolled.uploads] == ["A", "B", "a", "é"]
    assert rolled.common_prefixes == ["Z/"]
    page = listed(core, alice, limit=2, delimiter="/")
    assert (page.is_truncated, page.next_key_marker) == (True, "B")
    rest = listed(core, alice, key_marker="B", delimiter="/")
    assert [u.key for u in rest.uploads] + rest.common_prefixes == ["a", "é", "Z/"]


def test_an_upload_being_completed_cannot_be_aborted_or_completed_again(
    core: CoreHarness, alice: CallContext, store: ObjectStore
) -> None:
    upload_id = create(core, alice, "k")
    part = send(core, store, alice, upload_id, 1, b"data")
    with core.db.write() as session:
        session.execute(
            sa.update(MultipartUpload)
            .where(MultipartUpload.uuid == upload_id)
            .values(state=COMPLETING)
        )
    with pytest.raises(UploadBusy):
        multipart.abort_upload(core.db, store, alice, "uploads", "k", upload_id)
    requested = [completion.RequestedPart(1, part.etag)]
    with pytest.raises(UploadBusy):
        completion.complete_upload(core.db, store, alice, "uploads", "k", upload_id, requested)
    with pytest.raises(NoSuchUpload):  # nor take new parts
        send(core, store, alice, upload_id, 2, b"x")


def test_completed_uploads_are_kept_a_day_then_purged(
    core: CoreHarness, alice: CallContext, store: ObjectStore
) -> None:
    upload_id = create(core, alice, "k")
    part = send(core, store, alice, upload_id, 1, b"data")
    requested = [completion.RequestedPart(1, part.etag)]
    done = completion.complete_upload(core.db, store, alice, "uploads", "k", upload_id, requested)
    again = completion.complete_upload(core.db, store, alice, "uploads", "k", upload_id, requested)
    assert again == done
    assert listed(core, alice).uploads == []
    with core.db.write() as session:
        session.execute(
            sa.update(MultipartUpload).values(
                completed_at=dt.datetime.now(dt.UTC) - dt.timedelta(days=2)
            )
        )
    multipart._purge_completed(core.runtime)
    with pytest.raises(NoSuchUpload):
        completion.complete_upload(core.db, store, alice, "uploads", "k", upload_id, requested)


def test_deleting_the_bucket_forgets_its_uploads(
    core: CoreHarness, alice: CallContext, store: ObjectStore
) -> None:
    create(core, alice, "pending")
    with core.db.write() as session:
        buckets.delete_bucket(session, alice, "uploads", store=store)
    with core.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(MultipartUpload)) == 0


def test_a_part_arriving_after_an_abort_is_not_kept(
    core: CoreHarness, alice: CallContext, store: ObjectStore, tmp_path: Path
) -> None:
    upload_id = create(core, alice, "k")

    def body() -> Iterator[bytes]:
        yield b"first half "
        multipart.abort_upload(core.db, store, alice, "uploads", "k", upload_id)
        yield b"second half"

    address = multipart.PartAddress("uploads", "k", upload_id, 1)
    with pytest.raises(NoSuchUpload):
        multipart.upload_part(core.db, store, alice, address, body(), content_length=22)
    parts = tmp_path / "objects" / alice.account_uuid / "parts"
    assert parts.is_dir()  # the part was written, then removed
    assert [path for path in parts.rglob("*") if path.is_file()] == []
