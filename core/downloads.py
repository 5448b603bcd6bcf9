"""Secondary storage work: download, copy, create and delete template and ISO images.

Images live in the object store (`runtime.object_store`) in one system namespace (the
system account's uuid), container "secondary-storage", keys
`template/<template id>/<zone uuid>/<template uuid>.<format>`. Each job fills or empties one
zone's copy (`TemplateZone`) and is idempotent: a copy already downloaded is left alone, an
interrupted download starts over and replaces the partial object.

Downloads use the standard library (urllib), streamed, with connect/read timeouts and a
size cap, and verify the registered checksum; progress is written to the zone row as
CloudStack's status text ("5% Downloaded" … "Download Complete").
"""

from __future__ import annotations

import hashlib
import math
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import CloudgateError, OperationFailed, ResourceUnavailable
from core.events import record_event
from core.identity import Account
from core.infra import Zone
from core.jobs import AsyncJob, job_handler
from core.limits import ResourceType, reserve
from core.templates import (
    READY,
    DownloadState,
    Template,
    TemplateZone,
    ensure_state,
    parse_checksum,
)

CONTAINER = "secondary-storage"
CHUNK_BYTES = 1024 * 1024
CONNECT_TIMEOUT_SECONDS = 30
MAX_DOWNLOAD_BYTES = 50 * 1024**3  # CloudStack's max.template.iso.size default: 50 GiB
PROGRESS_INTERVAL_SECONDS = 0.5
GIB = 1024**3


def storage_gib(size_bytes: int) -> int:
    """Secondary storage is counted in whole GiB, as the max.account.* setting is."""
    return math.ceil(size_bytes / GIB)


def namespace(session: Session) -> str:
    """The system account's uuid: the object-store namespace of secondary storage."""
    uuid = session.scalar(
        sa.select(Account.uuid).where(Account.name == "system").order_by(Account.id).limit(1)
    )
    if uuid is None:
        raise ResourceUnavailable("No system account to hold secondary storage")
    return uuid


def image_key(template: Template, zone: Zone) -> str:
    return f"template/{template.id}/{zone.uuid}/{template.uuid}.{template.format.lower()}"


def _store(runtime: Any) -> Any:
    if runtime.object_store is None:
        raise ResourceUnavailable("No secondary storage (object store) is configured")
    return runtime.object_store


def load_zone_copy(session: Session, job: AsyncJob) -> tuple[Template, TemplateZone, Zone]:
    """The template, zone copy and zone a zone-copy job (`add_zone_copy`) fills."""
    template = session.get_one(Template, job.instance_id)
    ref = session.scalar(
        sa.select(TemplateZone).where(
            TemplateZone.template_id == template.id,
            TemplateZone.zone_id == job.arguments["zone_id"],
        )
    )
    if ref is None:
        raise OperationFailed(f"No zone copy of {template.kind} {template.uuid}")
    return template, ref, session.get_one(Zone, ref.zone_id)


class _Progress:
    """Writes "N% Downloaded" to the zone row, at most every PROGRESS_INTERVAL_SECONDS."""

    def __init__(self, runtime: Any, ref_id: int, total: int | None) -> None:
        self._db = runtime.db
        self._ref_id = ref_id
        self._total = total
        self._last_pct = -1
        self._last_write = 0.0

    def update(self, done: int, *, force: bool = False) -> None:
        pct = min(99, done * 100 // self._total) if self._total else 0
        now = time.monotonic()
        if pct == self._last_pct or (
            not force and now - self._last_write < PROGRESS_INTERVAL_SECONDS
        ):
            return
        self._last_pct, self._last_write = pct, now
        with self._db.write() as session:
            session.execute(
                sa.update(TemplateZone)
                .where(
                    TemplateZone.id == self._ref_id,
                    TemplateZone.download_state == DownloadState.DOWNLOAD_IN_PROGRESS,
                )
                .values(download_pct=pct, status=f"{pct}% Downloaded")
            )


def _open(url: str, kind: str) -> Any:
    request = urllib.request.Request(url, headers={"User-Agent": "cloudgate-ssvm"})
    try:
        return urllib.request.urlopen(request, timeout=CONNECT_TIMEOUT_SECONDS)
    except urllib.error.HTTPError as error:
        raise OperationFailed(
            f"Failed to download {kind}: HTTP Server returned {error.code} (expected 200 OK)"
        ) from None
    except (urllib.error.URLError, OSError, ValueError) as error:
        reason = getattr(error, "reason", error)
        raise OperationFailed(f"Failed to download {kind}: {reason}") from None


def _stream(response: Any, kind: str, progress: _Progress, hasher: Any) -> Iterator[bytes]:
    done = 0
    while True:
        try:
            # read1: whatever has arrived (up to a chunk), so progress moves with the bytes
            # instead of jumping from 0 to 100% on files smaller than a chunk.
            chunk = response.read1(CHUNK_BYTES)
        except OSError as error:  # read timeouts and resets
            raise OperationFailed(f"Failed to download {kind}: {error}") from None
        if not chunk:
            return
        done += len(chunk)
        if done > MAX_DOWNLOAD_BYTES:
            raise OperationFailed(
                f"Failed to download {kind}: the image exceeds the maximum size of "
                f"{MAX_DOWNLOAD_BYTES} bytes"
            )
        hasher.update(chunk)
        progress.update(done)
        yield chunk


@job_handler(
    "template.download", fail=lambda runtime, job, error: mark_copy_failed(runtime, job, error)
)
def download(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    """Fetch the registered URL into this zone's secondary storage and verify it."""
    with runtime.db.read() as session:
        template, ref, zone = load_zone_copy(session, job)
        if ref.removed is not None or ref.is_ready:
            return {}
        space = namespace(session)
    kind = template.kind
    store = _store(runtime)
    algorithm, expected = parse_checksum(template.checksum) if template.checksum else ("md5", "")
    hasher = hashlib.new(algorithm)
    response = _open(template.url, kind)
    with response:
        length = response.headers.get("Content-Length")
        total = int(length) if length and length.isdigit() else None
        if total is not None and total > MAX_DOWNLOAD_BYTES:
            raise OperationFailed(
                f"Failed to download {kind}: the image ({total} bytes) exceeds the maximum "
                f"size of {MAX_DOWNLOAD_BYTES} bytes"
            )
        progress = _Progress(runtime, ref.id, total)
        progress.update(0, force=True)
        key = image_key(template, zone)
        store.create_container(space, CONTAINER)
        info = store.put_object(
            space,
            CONTAINER,
            key,
            _stream(response, kind, progress, hasher),
            content_type="application/octet-stream",
            metadata={"template-uuid": template.uuid},
        )
    if expected and hasher.hexdigest() != expected:
        store.delete_object(space, CONTAINER, key)
        raise OperationFailed(
            f"Failed to download {kind}: checksum mismatch (expected {expected}, "
            f"got {hasher.hexdigest()})"
        )
    _complete_or_drop(runtime, job, space, key, info.size, info.size)
    return {}


def _complete_or_drop(
    runtime: Any, job: AsyncJob, space: str, key: str, size: int, virtual_size: int
) -> None:
    """Record the stored image, or remove it again if it cannot be counted (limits)."""
    try:
        _complete(runtime, job, key, size, virtual_size)
    except Exception:
        runtime.object_store.delete_object(space, CONTAINER, key)
        raise


def _complete(runtime: Any, job: AsyncJob, key: str, size: int, virtual_size: int) -> None:
    with runtime.db.write() as session:
        template, ref, zone = load_zone_copy(session, job)
        if ref.removed is not None:  # deleted while downloading: drop what was fetched
            runtime.object_store.delete_object(namespace(session), CONTAINER, key)
            return
        if ref.is_ready:
            return
        ensure_state(ref, DownloadState.DOWNLOADED)
        reserve(session, template.account_id, {ResourceType.SECONDARY_STORAGE: storage_gib(size)})
        ref.download_state = DownloadState.DOWNLOADED
        ref.download_pct = 100
        ref.status = READY
        ref.size_bytes = size
        ref.install_path = key
        template.is_ready = True
        template.status = READY
        template.size_bytes = max(template.size_bytes, virtual_size)
        text = f"{template.kind} {template.name} is ready in zone {zone.name}"
        _event(session, job, template, "TEMPLATE.DOWNLOAD.SUCCESS", text)


def _event(
    session: Session, job: AsyncJob, template: Template, event_type: str, text: str, **level: str
) -> None:
    """Download events belong to the template's owner (the job may be an admin's copy)."""
    record_event(
        session,
        account_id=template.account_id,
        domain_id=template.domain_id,
        user_id=job.user_id,
        event_type=event_type,
        description=text,
        resource_type=template.resource_type,
        resource_uuid=template.uuid,
        **level,
    )


def mark_copy_failed(runtime: Any, job: AsyncJob, error: Exception) -> None:
    """The zone copy ends in DOWNLOAD_ERROR with the reason as its status (every zone-copy
    job's `fail`)."""
    kind = "ISO" if job.instance_type == "Iso" else "template"
    text = (
        error.message
        if isinstance(error, CloudgateError)
        else f"Failed to download {kind}: internal error"
    )
    with runtime.db.write() as session:
        template, ref, _zone = load_zone_copy(session, job)
        if ref.removed is not None or ref.is_ready:
            return
        ref.download_state = DownloadState.DOWNLOAD_ERROR
        ref.status = text[:1024]
        if not template.is_ready:
            template.status = text[:255]
        # CloudStack uses TEMPLATE.DOWNLOAD.FAILED for ISOs too
        _event(session, job, template, "TEMPLATE.DOWNLOAD.FAILED", text, level="ERROR")


@job_handler("template.copy", fail=mark_copy_failed)
def copy(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    """Copy another zone's image into this zone's secondary storage."""
    with runtime.db.read() as session:
        template, ref, zone = load_zone_copy(session, job)
        if ref.removed is not None or ref.is_ready:
            return {}
        source = session.get_one(TemplateZone, job.arguments["source_ref_id"])
        space = namespace(session)
    copy_object_in(
        runtime,
        job,
        template,
        zone,
        (space, CONTAINER, source.install_path),
        failure=f"Failed to copy {template.kind}",
        virtual_size=template.size_bytes,
    )
    return {}


def copy_object_in(
    runtime: Any,
    job: AsyncJob,
    template: Template,
    zone: Zone,
    source: tuple[str, str, str],
    *,
    failure: str,
    virtual_size: int | None = None,
) -> None:
    """Copy the object (namespace, container, key) into this zone's copy of `template`."""
    store = _store(runtime)
    with runtime.db.read() as session:
        space = namespace(session)
    key = image_key(template, zone)
    try:
        _info, chunks = store.get_object(*source)
        store.create_container(space, CONTAINER)
        info = store.put_object(
            space,
            CONTAINER,
            key,
            chunks,
            content_type="application/octet-stream",
            metadata={"template-uuid": template.uuid},
        )
    except Exception as error:
        if isinstance(error, CloudgateError):
            raise
        raise OperationFailed(f"{failure}: {error}") from None
    size = info.size if virtual_size is None else virtual_size
    _complete_or_drop(runtime, job, space, key, info.size, size)


@job_handler("template.create", fail=mark_copy_failed)
def create_from_volume(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    """Write the image of a VM's ROOT volume (or of a snapshot) to secondary storage.

    A snapshot's image is its backup object, copied. The simulator holds no disk bytes, so
    a volume's image is a small descriptor of it; the template's size is the volume's
    (virtual) size, as CloudStack reports it.
    """
    with runtime.db.read() as session:
        template, ref, zone = load_zone_copy(session, job)
        if ref.removed is not None or ref.is_ready:
            return {}
        space = namespace(session)
        volume_size = int(job.arguments.get("volume_size", 0))
        source = f"{job.arguments.get('source_kind', 'volume')} {job.arguments.get('source_uuid')}"
    if job.arguments.get("snapshot_path"):
        backup = (space, CONTAINER, job.arguments["snapshot_path"])
        failure = f"Failed to create {template.kind} from {source}"
        copy_object_in(
            runtime, job, template, zone, backup, failure=failure, virtual_size=volume_size
        )
        return {}
    store = _store(runtime)
    key = image_key(template, zone)
    body = f"cloudgate image of {source}, {volume_size} bytes\n".encode()
    store.create_container(space, CONTAINER)
    info = store.put_object(
        space,
        CONTAINER,
        key,
        [body],
        content_type="application/octet-stream",
        metadata={"template-uuid": template.uuid},
    )
    _complete_or_drop(runtime, job, space, key, info.size, volume_size)
    return {}


def _nothing(_runtime: Any, _job: AsyncJob, _error: Exception) -> None:
    """Deleting images leaves the database as the request left it: nothing to undo."""


@job_handler("template.delete", fail=_nothing)
def delete_images(runtime: Any, job: AsyncJob) -> dict[str, Any]:
    """Remove the deleted zone copies' images (a missing image is not an error)."""
    with runtime.db.read() as session:
        paths = list(
            session.scalars(
                sa.select(TemplateZone.install_path).where(
                    TemplateZone.id.in_(job.arguments.get("ref_ids", [])),
                    TemplateZone.removed.is_not(None),
                )
            )
        )
        space = namespace(session)
    if runtime.object_store is not None:
        for path in paths:
            if path:
                runtime.object_store.delete_object(space, CONTAINER, path)
    return {}


def read_image(runtime: Any, session: Session, ref: TemplateZone) -> bytes:
    """The whole image of a zone copy (tests and small images only)."""
    _info, chunks = _store(runtime).get_object(namespace(session), CONTAINER, ref.install_path)
    return b"".join(chunks)
