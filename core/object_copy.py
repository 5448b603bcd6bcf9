"""Server-side object copies (S3 CopyObject) and the conditions requests put on an object.

Conditions follow HTTP as S3 applies them (RFC 9110 §13.2.2): If-Match is evaluated before
If-Unmodified-Since and, when present, decides alone (a matching If-Match makes a failed
If-Unmodified-Since irrelevant); likewise If-None-Match before If-Modified-Since. A failed
If-Match or If-Unmodified-Since is "precondition failed"; a failed If-None-Match or
If-Modified-Since is "not modified" for a read, "precondition failed" for a copy source.

A copy never moves the bytes through cloudgate: the store copies them (Swift's copy
middleware; the local store file to file). The caller checks READ on the source bucket and
WRITE on the target bucket (`buckets.handle_for`), so a copy across accounts works exactly
when the caller may read the source.

Copies know versions: the source is the key's current version or the one named (located by
`core.object_versions`, never a delete marker), and in a versioned target bucket the copy is
a new version, through the same prepare_write/record_write pair as an upload, with the tags
it gets recorded in the same transaction.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from core import object_tags, object_versions
from core.buckets import BucketHandle, ObjectInfo, PreconditionNotMet, driver_errors
from core.db import Database
from core.errors import InvalidParameter
from core.object_tags import Tag
from drivers.objectstore.base import ObjectStore

COPY_SOURCE = "copy-source"  # InvalidParameter.parameter of a copy S3 refuses as a request
MAX_COPY_SIZE = 5 * 1024**3  # S3's limit for one CopyObject (larger ones: UploadPartCopy)
# System metadata entries a copy keeps: whole-object checksums (the bytes are the same).
CHECKSUM_PREFIX = "checksum-"
# ... and, unless replaced, the stored content headers (s3_api.content_headers.PREFIX).
CONTENT_HEADER_PREFIX = "header-"


@dataclass(frozen=True, slots=True)
class Conditions:
    """The four HTTP conditions on an object; None for those not given."""

    if_match: str | None = None
    if_none_match: str | None = None
    if_modified_since: datetime | None = None
    if_unmodified_since: datetime | None = None

    def modified(self, key: str, etag: str, last_modified: datetime) -> bool:
        """False for "not modified" (304 on a read); PreconditionNotMet for a failure."""
        if self.if_match is not None:
            if not etag_matches(self.if_match, etag):
                raise PreconditionNotMet(key, "If-Match")
        elif self.if_unmodified_since is not None and last_modified > self.if_unmodified_since:
            raise PreconditionNotMet(key, "If-Unmodified-Since")
        if self.if_none_match is not None:
            return not etag_matches(self.if_none_match, etag)
        if self.if_modified_since is not None:
            return last_modified > self.if_modified_since
        return True

    def require(self, key: str, etag: str, last_modified: datetime) -> None:
        """Every condition holds (a copy source); PreconditionNotMet otherwise."""
        if not self.modified(key, etag, last_modified):
            what = "If-None-Match" if self.if_none_match is not None else "If-Modified-Since"
            raise PreconditionNotMet(key, what)


def etag_matches(condition: str, etag: str) -> bool:
    """Whether an If-Match/If-None-Match list (`"a", "b"`, `*`, weak or bare) names `etag`."""
    bare = etag.strip('"')
    for candidate in condition.split(","):
        candidate = candidate.strip().removeprefix("W/").strip('"')
        if candidate in ("*", bare):
            return True
    return False


@dataclass(frozen=True, slots=True)
class NewFields:
    """What a copy stores instead of the source's (S3's MetadataDirective REPLACE): the
    content type, user metadata and system metadata (content headers) of the request."""

    content_type: str | None
    metadata: Mapping[str, str]
    system_metadata: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Copied:
    """A finished copy: the source version read and the object (version) written; the
    version ids are None where the bucket is unversioned."""

    source: ObjectInfo
    source_version_id: str | None
    info: ObjectInfo
    version_id: str | None


def copy_object(
    db: Database,
    store: ObjectStore,
    source: BucketHandle,
    source_key: str,
    target: BucketHandle,
    key: str,
    *,
    source_version_id: str | None,
    conditions: Conditions,
    replace: NewFields | None,
    tags: Sequence[Tag] | None,
) -> Copied:
    """Copy `source_key` (its current version, or `source_version_id`) to `key` inside the
    store; in a versioned target bucket the copy is a new version, written and recorded as
    an upload is (`object_versions.prepare_write` / `record_write`).

    `replace` None keeps the source's content type, user metadata and content headers
    (S3's MetadataDirective COPY); `tags` None keeps the source version's tags (S3's
    TaggingDirective COPY), else they are the copy's. A plain copy of an object onto itself
    would change nothing, so S3 refuses it; naming a version makes it a restore, which
    S3 allows in a versioned bucket."""
    located = locate_source(db, source, source_key, source_version_id)
    with driver_errors(source.name, source_key):
        found = store.head_object(located.bucket.namespace, located.bucket.name, located.key)
    conditions.require(source_key, found.etag, found.last_modified)
    if found.size > MAX_COPY_SIZE:
        raise InvalidParameter(
            "The specified copy source is larger than the maximum allowable size for a copy"
            f" source: {MAX_COPY_SIZE}",
            parameter=COPY_SOURCE,
        )
    destination = object_versions.prepare_write(db, store, target, key)
    restore = source_version_id is not None and destination.version_id is not None
    if replace is None and (source.name, source_key) == (target.name, key) and not restore:
        raise InvalidParameter(
            "This copy request is illegal because it is trying to copy an object to itself"
            " without changing the object's metadata, storage class, website redirect"
            " location or encryption attributes.",
            parameter=COPY_SOURCE,
        )
    if tags is None:
        with db.read() as session:
            version = located.version_id or object_versions.NULL
            tags = object_tags.tags_of(
                session, located.bucket_id, located.object_key, version, found.etag
            )
    fields = replace or NewFields(found.content_type, found.metadata, kept_headers(found))
    with driver_errors(target.name, key):
        copied = store.copy_object(
            destination.bucket.namespace,
            destination.bucket.name,
            destination.key,
            source_namespace=located.bucket.namespace,
            source_container=located.bucket.name,
            source_key=located.key,
            content_type=fields.content_type,
            metadata=fields.metadata,
            system_metadata={
                **fields.system_metadata,
                **carried_checksums(found.system_metadata),
            },
        )

    def store_tags(session: Session, version_id: str) -> None:
        object_tags.replace_tags(
            session, destination.bucket_id, key, version_id, copied.etag, tags or ()
        )

    version_id = object_versions.record_write(db, store, destination, copied, after=store_tags)
    return Copied(found, located.version_id, copied, version_id)


def locate_source(
    db: Database, source: BucketHandle, key: str, version_id: str | None
) -> object_versions.Located:
    """Where the copy source's bytes are (CopyObject, UploadPartCopy). A current version
    that is a delete marker is a missing key (NoSuchKey); naming a delete marker by its
    version id is a request S3 refuses (InvalidRequest)."""
    try:
        return object_versions.locate(db, source, key, version_id)
    except object_versions.DeleteMarkerFound as error:
        if not error.by_version_id:
            raise
        raise InvalidParameter(
            "The source of a copy request may not specifically refer to a delete marker"
            " by version id.",
            parameter=COPY_SOURCE,
        ) from None


def kept_headers(found: ObjectInfo) -> dict[str, str]:
    """The source's stored content headers, which a COPY directive keeps."""
    return {
        name: value
        for name, value in found.system_metadata.items()
        if name.startswith(CONTENT_HEADER_PREFIX)
    }


def carried_checksums(system_metadata: Mapping[str, str]) -> dict[str, str]:
    """The source's whole-object checksums (a multipart composite `…-N` does not apply to
    a copy, which is one part)."""
    return {
        name: value
        for name, value in system_metadata.items()
        if name.startswith(CHECKSUM_PREFIX) and "-" not in value
    }
