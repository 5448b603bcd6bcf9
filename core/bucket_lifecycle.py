"""Bucket lifecycle: expiration rules and their configuration, validated as S3 validates them.

A configuration is up to 1,000 rules. A rule selects objects by a filter (a key prefix, tags,
object size, or an `And` of them) and says when they expire: `Days` after creation (S3
rounds up to the next midnight UTC) or on a `Date` (midnight UTC). Rules may also abort
multipart uploads left incomplete, expire noncurrent versions and remove delete markers
that no longer hide anything.

The rules are executed by `core.lifecycle_run`; `next_run` is its claim on each bucket.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Mapped, Session, mapped_column

from core import bucket_config
from core.bucket_config import BucketConfigMixin
from core.bucket_cors import INVALID_REQUEST, MALFORMED
from core.bucket_tags import validate as validate_tags
from core.context import CallContext
from core.db import Base, utcnow
from core.errors import InvalidParameter

LIFECYCLE_CONFIGURATION = "lifecycle configuration"
INVALID_ARGUMENT = "lifecycle"  # InvalidParameter.parameter for S3's InvalidArgument
MAX_RULES = 1000
MAX_ID = 255
STATUSES = ("Enabled", "Disabled")
PUT_ACTION = "s3:PutLifecycleConfiguration"  # the bucket policy's name for changing it


class BucketLifecycle(BucketConfigMixin, Base):
    __tablename__ = "bucket_lifecycle"

    next_run: Mapped[dt.datetime] = mapped_column(index=True, default=utcnow)


@dataclass(frozen=True)
class LifecycleRule:
    status: str
    id: str | None = None
    prefix: str = ""
    tags: tuple[tuple[str, str], ...] = ()
    size_greater_than: int | None = None
    size_less_than: int | None = None
    expiration_days: int | None = None
    expiration_date: dt.datetime | None = None
    expired_object_delete_marker: bool | None = None
    abort_incomplete_days: int | None = None
    noncurrent_days: int | None = None
    # Which S3 form the filter had, to render it back as it was given.
    filter_form: str = field(default="Filter", compare=False)

    @property
    def enabled(self) -> bool:
        return self.status == "Enabled"

    def selects(self, key: str, size: int, tags: Mapping[str, str] | None = None) -> bool:
        """Whether the rule's filter selects this object (its status aside)."""
        if not key.startswith(self.prefix):
            return False
        if self.size_greater_than is not None and not size > self.size_greater_than:
            return False
        if self.size_less_than is not None and not size < self.size_less_than:
            return False
        have = tags or {}
        return all(have.get(name) == value for name, value in self.tags)

    def expires_at(self, last_modified: dt.datetime) -> dt.datetime | None:
        """When an object last modified then expires under this rule (None: never)."""
        if self.expiration_date is not None:
            return self.expiration_date
        if self.expiration_days is None:
            return None
        return days_after(last_modified, self.expiration_days)


def days_after(moment: dt.datetime, days: int) -> dt.datetime:
    """S3's lifecycle arithmetic: `days` after `moment`, rounded up to the next midnight UTC."""
    due = moment.astimezone(dt.UTC) + dt.timedelta(days=days)
    return dt.datetime.combine(due.date() + dt.timedelta(days=1), dt.time(), dt.UTC)


# --- validation -----------------------------------------------------------------------------


def validate(rules: Sequence[LifecycleRule]) -> None:
    """S3's checks of a configuration, each refusal naming the S3 error it becomes."""
    if not rules or len(rules) > MAX_RULES:
        raise InvalidParameter(f"A configuration has 1 to {MAX_RULES} rules", parameter=MALFORMED)
    ids = [rule.id for rule in rules if rule.id]
    if len(ids) != len(set(ids)):
        raise InvalidParameter(
            "Rule ID must be unique. Found same ID for more than one rule",
            parameter=INVALID_ARGUMENT,
        )
    for rule in rules:
        _validate_rule(rule)


def _validate_rule(rule: LifecycleRule) -> None:
    def refuse(message: str, parameter: str = INVALID_ARGUMENT) -> None:
        raise InvalidParameter(message, parameter=parameter)

    if rule.status not in STATUSES:
        refuse(f"Status must be one of {', '.join(STATUSES)}", MALFORMED)
    if rule.id is not None and len(rule.id) > MAX_ID:
        refuse("ID length should not exceed allowed limit of 255")
    validate_tags(rule.tags)
    expiration = (rule.expiration_days, rule.expiration_date, rule.expired_object_delete_marker)
    if sum(value is not None for value in expiration) > 1:
        refuse("Expiration takes one of Days, Date or ExpiredObjectDeleteMarker", MALFORMED)
    actions = (*expiration, rule.abort_incomplete_days, rule.noncurrent_days)
    if all(value is None for value in actions):
        refuse("At least one action needs to be specified in a rule", INVALID_REQUEST)
    if rule.expiration_days is not None and rule.expiration_days <= 0:
        refuse("'Days' for Expiration action must be a positive integer")
    date = rule.expiration_date
    if date is not None and (date.hour, date.minute, date.second, date.microsecond) != (0, 0, 0, 0):
        refuse("'Date' must be at midnight GMT")
    if rule.abort_incomplete_days is not None:
        if rule.abort_incomplete_days <= 0:
            refuse(
                "'DaysAfterInitiation' for AbortIncompleteMultipartUpload action must be a"
                " positive integer"
            )
        if rule.tags:
            refuse("AbortIncompleteMultipartUpload cannot be specified with Tags.")
    if rule.noncurrent_days is not None and rule.noncurrent_days <= 0:
        refuse("'NoncurrentDays' for NoncurrentVersionExpiration action must be a positive integer")
    if rule.expired_object_delete_marker and rule.tags:
        refuse("ExpiredObjectDeleteMarker cannot be specified with a tag-based filter.")


# --- use cases ------------------------------------------------------------------------------


def put_lifecycle(
    session: Session, ctx: CallContext, name: str, rules: Sequence[LifecycleRule]
) -> None:
    """Replace the bucket's lifecycle configuration; it is first run at the next check."""
    validate(rules)
    document = [_fields(rule) for rule in rules]
    row = bucket_config.replace(session, ctx, name, BucketLifecycle, document, s3_action=PUT_ACTION)
    row.next_run = utcnow()
    session.flush()


def get_lifecycle(session: Session, ctx: CallContext, name: str) -> list[LifecycleRule]:
    """The bucket's rules; NotFound(LIFECYCLE_CONFIGURATION) when it has none."""
    document = bucket_config.read(
        session, ctx, name, BucketLifecycle, s3_action="s3:GetLifecycleConfiguration",
        kind=LIFECYCLE_CONFIGURATION, what="lifecycle configuration",
    )  # fmt: skip
    return [_rule(fields) for fields in document]


def delete_lifecycle(session: Session, ctx: CallContext, name: str) -> None:
    """Remove the bucket's lifecycle configuration (none is not an error, as in S3)."""
    bucket_config.remove(session, ctx, name, BucketLifecycle, s3_action=PUT_ACTION)


def expiration_of(
    session: Session, bucket_name: str, key: str, size: int, last_modified: dt.datetime
) -> tuple[dt.datetime, str] | None:
    """(expiry date, rule id) of the enabled rule that expires this object first, for the
    `x-amz-expiration` header (rules with tag filters are left out: no tag read per GET)."""
    document = bucket_config.stored_by_name(session, BucketLifecycle, bucket_name)
    found = [
        (when, rule.id or "")
        for rule in map(_rule, document or ())
        if rule.enabled and not rule.tags and rule.selects(key, size)
        if (when := rule.expires_at(last_modified)) is not None
    ]
    return min(found) if found else None


def _fields(rule: LifecycleRule) -> dict[str, Any]:
    fields = asdict(rule)
    if rule.expiration_date is not None:
        fields["expiration_date"] = rule.expiration_date.isoformat()
    return fields


def rules_of(session: Session, bucket_id: int) -> list[LifecycleRule] | None:
    """The bucket's rules as stored (None: no configuration); no access check."""
    document = bucket_config.stored(session, BucketLifecycle, bucket_id)
    return None if document is None else [_rule(fields) for fields in document]


def _rule(fields: dict[str, Any]) -> LifecycleRule:
    date = fields.get("expiration_date")
    return LifecycleRule(
        **{
            **fields,
            "expiration_date": dt.datetime.fromisoformat(date) if date else None,
            "tags": tuple(tuple(pair) for pair in fields.get("tags") or ()),
        }
    )
