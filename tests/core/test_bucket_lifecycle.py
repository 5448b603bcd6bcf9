"""Lifecycle rules at the service layer, on SQLite and MariaDB: validation, rule matching,
and the run itself with a clock days ahead, against the local object store."""

from __future__ import annotations

import datetime as dt
import io

import pytest
import sqlalchemy as sa

from core import bucket_cors, bucket_lifecycle, bucket_tags, buckets, object_tags
from core.bucket_cors import CorsRule
from core.bucket_lifecycle import BucketLifecycle, LifecycleRule
from core.buckets import READ, Bucket, BucketHandle
from core.context import CallContext
from core.errors import InvalidParameter, NotFound, PermissionDenied
from core.lifecycle_run import run_lifecycle
from core.object_versions import NULL
from core.runtime import Runtime
from drivers.objectstore.base import ObjectStore
from tests.core.conftest import CoreHarness

NOW = dt.datetime.now(dt.UTC)


@pytest.fixture
def runtime(core: CoreHarness, store: ObjectStore) -> Runtime:
    return Runtime(db=core.db, hypervisor=core.runtime.hypervisor, msid="test", object_store=store)


def make_bucket(core: CoreHarness, ctx: CallContext, store: ObjectStore, name: str) -> BucketHandle:
    with core.db.write() as session:
        buckets.create_bucket(session, ctx, name, store=store, region="cloudgate")
    with core.db.read() as session:
        return buckets.handle_for(session, ctx, name, action=READ)


def put(store: ObjectStore, bucket: BucketHandle, *keys: str, size: int = 3) -> None:
    for key in keys:
        buckets.put_object(
            store, bucket, key, io.BytesIO(b"x" * size), content_type=None, metadata={},
            content_length=size,
        )  # fmt: skip


def keys(store: ObjectStore, bucket: BucketHandle) -> list[str]:
    page = buckets.list_objects(store, bucket, prefix="", delimiter=None, marker=None, limit=1000)
    return [item.key for item in page.objects]


def configure(core: CoreHarness, ctx: CallContext, name: str, *rules: LifecycleRule) -> None:
    with core.db.write() as session:
        bucket_lifecycle.put_lifecycle(session, ctx, name, rules)


def test_days_round_up_to_the_next_midnight() -> None:
    rule = LifecycleRule(status="Enabled", expiration_days=2)
    created = dt.datetime(2026, 3, 1, 13, 45, tzinfo=dt.UTC)
    assert rule.expires_at(created) == dt.datetime(2026, 3, 4, tzinfo=dt.UTC)
    dated = LifecycleRule(status="Enabled", expiration_date=dt.datetime(2027, 1, 1, tzinfo=dt.UTC))
    assert dated.expires_at(created) == dt.datetime(2027, 1, 1, tzinfo=dt.UTC)


def test_filters_select_by_prefix_tags_and_size() -> None:
    rule = LifecycleRule(
        status="Enabled", prefix="logs/", tags=(("kind", "tmp"),), size_greater_than=10,
        expiration_days=1,
    )  # fmt: skip
    assert rule.selects("logs/a", 11, {"kind": "tmp", "other": "x"})
    assert not rule.selects("logs/a", 11, {"kind": "keep"})
    assert not rule.selects("logs/a", 10, {"kind": "tmp"})
    assert not rule.selects("data/a", 11, {"kind": "tmp"})
    assert LifecycleRule(status="Enabled", size_less_than=5).selects("k", 4)


@pytest.mark.parametrize(
    ("rule", "parameter"),
    [
        (LifecycleRule(status="On", expiration_days=1), "document"),
        (LifecycleRule(status="Enabled"), "request"),
        (LifecycleRule(status="Enabled", expiration_days=0), "lifecycle"),
        (
            LifecycleRule(
                status="Enabled",
                expiration_days=1,
                expiration_date=dt.datetime(2027, 1, 1, tzinfo=dt.UTC),
            ),
            "document",
        ),
        (
            LifecycleRule(
                status="Enabled", expiration_date=dt.datetime(2027, 1, 1, 5, tzinfo=dt.UTC)
            ),
            "lifecycle",
        ),
        (LifecycleRule(status="Enabled", id="x" * 256, expiration_days=1), "lifecycle"),
        (LifecycleRule(status="Enabled", abort_incomplete_days=0), "lifecycle"),
        (
            LifecycleRule(status="Enabled", tags=(("a", "b"),), abort_incomplete_days=1),
            "lifecycle",
        ),
        (LifecycleRule(status="Enabled", tags=(("aws:x", "b"),), expiration_days=1), "tagging"),
    ],
)
def test_validation(rule: LifecycleRule, parameter: str) -> None:
    with pytest.raises(InvalidParameter) as raised:
        bucket_lifecycle.validate([rule])
    assert raised.value.parameter == parameter


def test_rule_ids_are_unique() -> None:
    rule = LifecycleRule(status="Enabled", id="same", expiration_days=1)
    with pytest.raises(InvalidParameter) as raised:
        bucket_lifecycle.validate([rule, rule])
    assert raised.value.parameter == "lifecycle"


def test_configuration_round_trip_and_isolation(
    core: CoreHarness, alice: CallContext, store: ObjectStore
) -> None:
    make_bucket(core, alice, store, "configured")
    rules = (
        LifecycleRule(status="Enabled", id="logs", prefix="logs/", expiration_days=3),
        LifecycleRule(status="Disabled", expiration_date=dt.datetime(2027, 1, 1, tzinfo=dt.UTC)),
    )
    configure(core, alice, "configured", *rules)
    with core.db.read() as session:
        assert bucket_lifecycle.get_lifecycle(session, alice, "configured") == list(rules)
    bob = core.new_tenant("bob")
    with core.db.read() as session, pytest.raises(PermissionDenied):
        bucket_lifecycle.get_lifecycle(session, bob, "configured")
    with core.db.write() as session, pytest.raises(PermissionDenied):
        bucket_lifecycle.delete_lifecycle(session, bob, "configured")
    with core.db.write() as session:
        bucket_lifecycle.delete_lifecycle(session, alice, "configured")
    with core.db.read() as session, pytest.raises(NotFound) as raised:
        bucket_lifecycle.get_lifecycle(session, alice, "configured")
    assert raised.value.kind == bucket_lifecycle.LIFECYCLE_CONFIGURATION


def test_run_expires_what_the_rules_select(
    core: CoreHarness, alice: CallContext, store: ObjectStore, runtime: Runtime
) -> None:
    bucket = make_bucket(core, alice, store, "expiring")
    put(store, bucket, "logs/a", "logs/b", "keep/c", "tmp/d", "big/e")
    put(store, bucket, "big/f", size=100)
    tagged = buckets.put_object(
        store, bucket, "tmp/tagged", io.BytesIO(b"t"), content_type=None, metadata={},
        content_length=1,
    )  # fmt: skip
    with core.db.write() as session:
        bucket_id = session.scalar(sa.select(Bucket.id).where(Bucket.name == "expiring"))
        object_tags.replace_tags(session, bucket_id, "tmp/tagged", NULL, tagged.etag, [("t", "1")])
    configure(
        core,
        alice,
        "expiring",
        LifecycleRule(status="Enabled", id="logs", prefix="logs/", expiration_days=1),
        LifecycleRule(status="Disabled", id="off", prefix="keep/", expiration_days=1),
        LifecycleRule(
            status="Enabled", id="tagged", prefix="tmp/", tags=(("t", "1"),), expiration_days=1
        ),
        LifecycleRule(
            status="Enabled", id="big", prefix="big/", size_greater_than=50, expiration_days=1
        ),
    )
    # Today nothing is due: a day's rule waits for the midnight after tomorrow.
    assert run_lifecycle(runtime, now=NOW).expired == []
    assert len(keys(store, bucket)) == 7

    later = NOW + dt.timedelta(days=3)
    run = run_lifecycle(runtime, now=later)
    assert sorted(run.expired) == [
        ("expiring", "big/f"),
        ("expiring", "logs/a"),
        ("expiring", "logs/b"),
        ("expiring", "tmp/tagged"),
    ]
    # An untagged object does not match a tag filter; a disabled rule does nothing.
    assert keys(store, bucket) == ["big/e", "keep/c", "tmp/d"]


def test_a_date_rule_expires_everything_it_selects_from_that_date(
    core: CoreHarness, alice: CallContext, store: ObjectStore, runtime: Runtime
) -> None:
    bucket = make_bucket(core, alice, store, "dated")
    put(store, bucket, "a", "b/c")
    date = dt.datetime.combine(NOW.date() + dt.timedelta(days=10), dt.time(), dt.UTC)
    configure(core, alice, "dated", LifecycleRule(status="Enabled", expiration_date=date))
    assert run_lifecycle(runtime, now=date - dt.timedelta(seconds=1)).expired == []
    assert len(run_lifecycle(runtime, now=date + dt.timedelta(hours=2)).expired) == 2
    assert keys(store, bucket) == []


def test_each_bucket_run_is_claimed_once(
    core: CoreHarness, alice: CallContext, store: ObjectStore, runtime: Runtime
) -> None:
    make_bucket(core, alice, store, "claimed")
    configure(core, alice, "claimed", LifecycleRule(status="Enabled", expiration_days=1))
    later = NOW + dt.timedelta(days=3)
    assert run_lifecycle(runtime, now=later).buckets == 1
    # The next run is an hour later: a second server running now finds nothing due.
    assert run_lifecycle(runtime, now=later).buckets == 0
    assert run_lifecycle(runtime, now=later + dt.timedelta(hours=2)).buckets == 1


def test_configuration_goes_with_its_bucket(
    core: CoreHarness, alice: CallContext, store: ObjectStore
) -> None:
    make_bucket(core, alice, store, "short-lived")
    configure(core, alice, "short-lived", LifecycleRule(status="Enabled", expiration_days=1))
    with core.db.write() as session:
        rule = CorsRule(allowed_origins=("*",), allowed_methods=("GET",))
        bucket_cors.put_cors(session, alice, "short-lived", [rule])
        bucket_tags.put_tags(session, alice, "short-lived", [("team", "a")])
    with core.db.write() as session:
        buckets.delete_bucket(session, alice, "short-lived", store=store)
    make_bucket(core, alice, store, "short-lived")
    with core.db.read() as session:
        assert session.scalar(sa.select(sa.func.count()).select_from(BucketLifecycle)) == 0
        with pytest.raises(NotFound):
            bucket_cors.get_cors(session, alice, "short-lived")
        with pytest.raises(NotFound):
            bucket_tags.get_tags(session, alice, "short-lived")
