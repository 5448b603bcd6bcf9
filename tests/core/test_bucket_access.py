"""The access decision of buckets and objects (core.bucket_acl.authorize with bucket
policies) at the service layer, on SQLite and MariaDB."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

import pytest
import sqlalchemy as sa

from core import bucket_acl, bucket_policy, buckets
from core.bucket_acl import AclSpec, Grant, Requester, anonymous_requester
from core.buckets import READ, WRITE
from core.context import CallContext
from core.errors import InvalidParameter, PermissionDenied
from drivers.objectstore.base import ObjectStore
from tests.core.conftest import CoreHarness

NAME = "access-test"


@pytest.fixture
def alice(core: CoreHarness, store: ObjectStore) -> CallContext:
    ctx = core.new_tenant("alice")
    with core.db.write() as session:
        buckets.create_bucket(session, ctx, NAME, store=store, region="cloudgate")
    return ctx


@pytest.fixture
def bob(core: CoreHarness) -> CallContext:
    return core.new_tenant("bob")


def requester(ctx: CallContext, number: str = "", **facts: Any) -> Requester:
    principals = frozenset({number, f"arn:aws:iam::{number}:root"}) if number else frozenset()
    return Requester(**asdict(ctx), principals=principals, **facts)


def allowed(core: CoreHarness, ctx: CallContext, action: str, key: str | None = None) -> bool:
    with core.db.read() as session:
        try:
            buckets.get_bucket_for(session, ctx, NAME, action=action, key=key)
        except PermissionDenied:
            return False
    return True


def set_policy(core: CoreHarness, *statements: dict[str, Any]) -> None:
    with core.db.write() as session:
        bucket = session.scalar(sa.select(buckets.Bucket).where(buckets.Bucket.name == NAME))
        assert bucket is not None
        document = json.dumps({"Statement": list(statements)})
        bucket_policy.put_policy(session, bucket.id, NAME, document)


def test_policy_deny_beats_allow_and_ownership(
    core: CoreHarness, alice: CallContext, bob: CallContext
) -> None:
    owner, other = requester(alice), requester(bob, "123456789012")
    set_policy(
        core,
        {"Effect": "Allow", "Principal": {"AWS": "123456789012"}, "Action": "s3:Get*",
         "Resource": f"arn:aws:s3:::{NAME}/*"},
        {"Effect": "Deny", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{NAME}/secret/*"},
    )  # fmt: skip
    assert allowed(core, other, READ, "docs/a")
    assert not allowed(core, other, READ, "secret/a")
    assert not allowed(core, owner, READ, "secret/a")
    assert allowed(core, owner, READ, "docs/a")
    assert not allowed(core, other, READ)  # s3:ListBucket was not allowed
    assert not allowed(core, requester(bob, "999999999999"), READ, "docs/a")
    # the core's own work (a plain CallContext) is decided by ownership and ACLs only
    assert allowed(core, alice, READ, "secret/a")
    assert allowed(core, owner, bucket_acl.POLICY)
    assert not allowed(core, other, bucket_acl.POLICY)


def test_conditions(core: CoreHarness, alice: CallContext, bob: CallContext) -> None:
    set_policy(
        core,
        {"Effect": "Allow", "Principal": "*", "Action": "s3:GetObject",
         "Resource": f"arn:aws:s3:::{NAME}/*",
         "Condition": {"IpAddress": {"aws:SourceIp": ["192.0.2.0/24", "2001:db8::/32"]},
                       "Bool": {"aws:SecureTransport": "true"}}},
    )  # fmt: skip
    for ip, secure, expected in [
        ("192.0.2.7", True, True),
        ("2001:db8::1", True, True),
        ("192.0.2.7", False, False),
        ("198.51.100.1", True, False),
        (None, True, False),
    ]:
        anonymous = anonymous_requester(source_ip=ip, secure=secure)
        assert allowed(core, anonymous, READ, "k") is expected, (ip, secure)


def test_acl_grants_and_object_ownership(
    core: CoreHarness, alice: CallContext, bob: CallContext
) -> None:
    anonymous = anonymous_requester(source_ip="127.0.0.1", secure=False)
    with core.db.write() as session:
        bucket = buckets.get_bucket_for(session, alice, NAME, action=READ)
        bucket_acl.apply_bucket_acl(session, bucket, AclSpec(canned="public-read-write"))
        bucket_acl.object_written(session, bob, bucket, "bobs", grants=None)
        bucket_acl.object_written(session, anonymous, bucket, "anon", grants=None)
    assert allowed(core, anonymous, READ) and allowed(core, anonymous, WRITE, "x")
    assert not allowed(core, anonymous, bucket_acl.WRITE_ACP)
    assert not allowed(core, bob, bucket_acl.OWNER)
    # bob owns what bob wrote; alice (the bucket's owner) may not read it, but may delete it
    assert allowed(core, bob, READ, "bobs")
    assert not allowed(core, alice, READ, "bobs")
    assert allowed(core, alice, WRITE, "bobs")
    # an anonymous upload belongs to the bucket's owner
    assert allowed(core, alice, READ, "anon") and not allowed(core, bob, READ, "anon")
    with core.db.read() as session:
        bucket = buckets.get_bucket_for(session, alice, NAME, action=READ)
        assert bucket_acl.object_acl(session, bucket, "bobs").owner_uuid == bob.account_uuid
        with pytest.raises(InvalidParameter):
            bucket_acl.resolve(
                session,
                AclSpec(grants=(Grant("READ", account_uuid="no-such-account"),)),
                owner_uuid=alice.account_uuid,
                bucket_owner_uuid=alice.account_uuid,
            )


def test_deleting_a_bucket_drops_its_acls_and_policy(
    core: CoreHarness, alice: CallContext, bob: CallContext, store: ObjectStore
) -> None:
    set_policy(core, {"Effect": "Allow", "Principal": "*", "Action": "s3:*",
                      "Resource": f"arn:aws:s3:::{NAME}"})  # fmt: skip
    with core.db.write() as session:
        bucket = buckets.get_bucket_for(session, alice, NAME, action=READ)
        bucket_acl.apply_bucket_acl(session, bucket, AclSpec(canned="public-read"))
        bucket_acl.object_written(session, bob, bucket, "k", grants=None)
    with core.db.write() as session:
        buckets.delete_bucket(session, alice, NAME, store=store)
    with core.db.read() as session:
        for model in (bucket_acl.BucketAcl, bucket_acl.ObjectAcl, bucket_policy.BucketPolicy):
            assert session.scalar(sa.select(sa.func.count()).select_from(model)) == 0
