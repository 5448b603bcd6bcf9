"""Templates through the core: register, download, filters, sharing, limits, copy, delete."""

from __future__ import annotations

import hashlib
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
import sqlalchemy as sa

from core import downloads, limits
from core.context import CallContext, Role
from core.errors import InvalidParameter, LimitExceeded, NotFound, PermissionDenied
from core.infra import create_zone, list_zones
from core.jobs import SUCCEEDED
from core.limits import ResourceCount, ResourceType
from core.os_types import list_os_types, seed_os_types
from core.templates import (
    READY,
    DownloadState,
    Template,
    TemplateSpec,
    TemplateZone,
    copy_template,
    delete_template,
    get_template,
    list_template_rows,
    list_templates,
    parse_checksum,
    register_template,
    template_for_launch,
    update_permissions,
    zone_refs,
)
from core.visibility import ListScope
from drivers.objectstore.local import LocalObjectStore
from tests.core.conftest import CoreHarness

IMAGE = b"QFI\xfb" + bytes(range(256)) * 400  # ~100 KiB that looks like a qcow2 header


@dataclass
class ImageServer:
    """A local http.server thread serving images: path → (bytes, seconds to pause per chunk)."""

    files: dict[str, tuple[bytes, float]] = field(default_factory=dict)
    gate: threading.Event = field(default_factory=threading.Event)
    url: str = ""

    def add(self, path: str, body: bytes, pause: float = 0.0) -> str:
        self.files[path] = (body, pause)
        return self.url + path


def _handler(images: ImageServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            found = images.files.get(self.path)
            if found is None:
                self.send_error(404)
                return
            body, pause = found
            self.send_response(200)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            for start in range(0, len(body), 8192):
                self.wfile.write(body[start : start + 8192])
                if pause:
                    self.wfile.flush()
                    time.sleep(pause)

        def log_message(self, *_args: object) -> None:
            pass

    return Handler


@pytest.fixture
def images() -> Iterator[ImageServer]:
    served = ImageServer()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(served))
    served.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield served
    server.shutdown()
    server.server_close()


@pytest.fixture
def store(core: CoreHarness, tmp_path) -> LocalObjectStore:
    """Secondary storage for the harness (a store of its own, with the OS types seeded)."""
    object_store = LocalObjectStore(tmp_path / "objects")
    core.runtime.object_store = object_store
    with core.db.write() as session:
        seed_os_types(session)
    return object_store


def register(
    core: CoreHarness, ctx: CallContext, url: str, *, zones: int | None = 1, **fields: object
) -> tuple[str, list[str]]:
    with core.db.write() as session:
        all_zones = list_zones(session)
        spec = TemplateSpec(
            name=str(fields.pop("name", "tiny")),
            display_text="tiny image",
            url=url,
            format=str(fields.pop("format", "QCOW2")),
            zones=all_zones if zones is None else all_zones[:zones],
            hypervisor="Simulator",
            **fields,  # type: ignore[arg-type]
        )
        template, jobs = register_template(session, ctx, spec)
        assert template.is_ready is False
        return template.uuid, [job.uuid for job in jobs]


def template_row(core: CoreHarness, uuid: str) -> tuple[Template, list[TemplateZone]]:
    with core.db.read() as session:
        template = session.scalar(sa.select(Template).where(Template.uuid == uuid))
        assert template is not None
        return template, zone_refs(session, template.id)


def stored_bytes(core: CoreHarness, store: LocalObjectStore, ref: TemplateZone) -> bytes:
    with core.db.read() as session:
        space = downloads.namespace(session)
    _info, chunks = store.get_object(space, downloads.CONTAINER, ref.install_path)
    return b"".join(chunks)


def test_checksum_forms_follow_cloudstack() -> None:
    md5 = hashlib.md5(IMAGE).hexdigest()
    sha256 = hashlib.sha256(IMAGE).hexdigest()
    assert parse_checksum(md5) == ("md5", md5)
    assert parse_checksum("{SHA-256}" + sha256.upper()) == ("sha256", sha256)
    assert parse_checksum("{MD5}" + md5) == ("md5", md5)
    with pytest.raises(InvalidParameter):
        parse_checksum("{CRC32}abcd")
    with pytest.raises(InvalidParameter):
        parse_checksum("{SHA-1}" + md5)  # wrong length for the algorithm


def test_register_downloads_into_secondary_storage(
    core: CoreHarness, store: LocalObjectStore, images: ImageServer
) -> None:
    ctx = core.new_tenant("alice")
    url = images.add("/tiny.qcow2", IMAGE)
    uuid, jobs = register(core, ctx, url, checksum="{SHA-256}" + hashlib.sha256(IMAGE).hexdigest())
    assert core.wait(jobs[0]).status == SUCCEEDED
    template, refs = template_row(core, uuid)
    assert template.is_ready and template.status == READY
    assert [r.download_state for r in refs] == [DownloadState.DOWNLOADED]
    assert refs[0].status == "Download Complete" and refs[0].size_bytes == len(IMAGE)
    assert stored_bytes(core, store, refs[0]) == IMAGE
    with core.db.read() as session:
        counted = session.get_one(ResourceCount, (ctx.account_id, ResourceType.SECONDARY_STORAGE))
        templates = session.get_one(ResourceCount, (ctx.account_id, ResourceType.TEMPLATE))
    assert counted.used == 1 and templates.used == 1
    # a re-run of the finished job (crash recovery) changes nothing
    core.jobs.run_job(_job_id(core, jobs[0]))
    assert template_row(core, uuid)[1][0].size_bytes == len(IMAGE)


def _job_id(core: CoreHarness, uuid: str) -> int:
    from core.jobs import AsyncJob

    with core.db.read() as session:
        return session.scalar(sa.select(AsyncJob.id).where(AsyncJob.uuid == uuid))


def test_checksum_mismatch_leaves_template_not_ready(
    core: CoreHarness, store: LocalObjectStore, images: ImageServer
) -> None:
    ctx = core.new_tenant("bob")
    url = images.add("/bad.qcow2", IMAGE)
    uuid, jobs = register(core, ctx, url, checksum="0" * 32)
    core.wait(jobs[0])
    template, refs = template_row(core, uuid)
    assert not template.is_ready
    assert refs[0].download_state == DownloadState.DOWNLOAD_ERROR
    assert refs[0].status.startswith("Failed to download template: checksum mismatch")
    with core.db.read() as session:
        space = downloads.namespace(session)
    listing = store.list_objects(space, downloads.CONTAINER, prefix=f"template/{template.id}/")
    assert listing.objects == []


def test_http_error_is_the_status(
    core: CoreHarness, store: LocalObjectStore, images: ImageServer
) -> None:
    ctx = core.new_tenant("carol")
    uuid, jobs = register(core, ctx, images.url + "/missing.qcow2")
    core.wait(jobs[0])
    template, refs = template_row(core, uuid)
    assert not template.is_ready
    assert "HTTP Server returned 404" in refs[0].status


def test_progress_is_reported_while_downloading(
    core: CoreHarness, store: LocalObjectStore, images: ImageServer, monkeypatch
) -> None:
    monkeypatch.setattr(downloads, "PROGRESS_INTERVAL_SECONDS", 0.0)
    ctx = core.new_tenant("dave")
    url = images.add("/slow.qcow2", IMAGE, pause=0.03)
    uuid, jobs = register(core, ctx, url)
    seen: set[str] = set()
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        _template, refs = template_row(core, uuid)
        seen.add(refs[0].status)
        if refs[0].download_state == DownloadState.DOWNLOADED:
            break
        time.sleep(0.02)
    assert core.wait(jobs[0]).status == SUCCEEDED
    progress = [s for s in seen if s.endswith("% Downloaded")]
    assert len(progress) >= 2, seen
    assert "Download Complete" in seen


def test_size_cap_stops_the_download(
    core: CoreHarness, store: LocalObjectStore, images: ImageServer, monkeypatch
) -> None:
    monkeypatch.setattr(downloads, "MAX_DOWNLOAD_BYTES", 1000)
    ctx = core.new_tenant("erin")
    uuid, jobs = register(core, ctx, images.add("/big.qcow2", IMAGE))
    core.wait(jobs[0])
    _template, refs = template_row(core, uuid)
    assert refs[0].download_state == DownloadState.DOWNLOAD_ERROR
    assert "exceeds the maximum size" in refs[0].status


def test_secondary_storage_limit_fails_the_download(
    core: CoreHarness, store: LocalObjectStore, images: ImageServer
) -> None:
    ctx = core.new_tenant("heidi")
    with core.db.write() as session:
        limits.set_limit(session, ctx.account_id, ResourceType.SECONDARY_STORAGE, 0)
    uuid, jobs = register(core, ctx, images.add("/over.qcow2", IMAGE))
    core.wait(jobs[0])
    template, refs = template_row(core, uuid)
    assert not template.is_ready and refs[0].download_state == DownloadState.DOWNLOAD_ERROR
    assert "secondary_storage" in refs[0].status
    with core.db.read() as session:
        space = downloads.namespace(session)
    listing = store.list_objects(space, downloads.CONTAINER, prefix=f"template/{template.id}/")
    assert listing.objects == []


def test_register_validates_its_input(core: CoreHarness, store: LocalObjectStore) -> None:
    ctx = core.new_tenant("frank")
    with pytest.raises(InvalidParameter, match="scheme"):
        register(core, ctx, "file:///etc/passwd")
    with pytest.raises(InvalidParameter, match="format"):
        register(core, ctx, "http://127.0.0.1/x.img", format="EXE")
    with pytest.raises(InvalidParameter, match=r"(?i)checksum"):
        register(core, ctx, "http://127.0.0.1/x.img", checksum="{SHA-256}zz")


def test_template_limit_is_enforced(core: CoreHarness, store: LocalObjectStore) -> None:
    ctx = core.new_tenant("grace")
    with core.db.write() as session:
        limits.set_limit(session, ctx.account_id, ResourceType.TEMPLATE, 1)
    register(core, ctx, "http://127.0.0.1:9/a.qcow2")
    with pytest.raises(LimitExceeded):
        register(core, ctx, "http://127.0.0.1:9/b.qcow2", name="second")


def test_filters_and_sharing(core: CoreHarness, store: LocalObjectStore, images: ImageServer):
    owner = core.new_tenant("owner")
    other = core.new_tenant("other")
    uuid, jobs = register(core, owner, images.add("/p.qcow2", IMAGE), name="private-one")
    assert core.wait(jobs[0]).status == SUCCEEDED

    def names(ctx: CallContext, template_filter: str) -> set[str]:
        with core.db.read() as session:
            rows = list_template_rows(session, ctx, template_filter=template_filter)
            return {row.template.name for row in rows}

    assert "private-one" in names(owner, "self")
    assert "private-one" in names(owner, "executable")
    assert "private-one" not in names(other, "executable")
    assert "private-one" not in names(other, "self")
    assert names(owner, "featured") == {"CentOS 5.6(64-bit) no GUI (Simulator)"}
    with core.db.read() as session, pytest.raises(NotFound):
        template_for_launch(session, other, uuid=uuid)
    with core.db.read() as session, pytest.raises(InvalidParameter, match="admin only"):
        list_template_rows(session, owner, template_filter="all")

    with core.db.write() as session:
        template = get_template(session, owner, uuid)
        update_permissions(session, owner, template, accounts=["other"], operation="add")
    assert names(other, "sharedexecutable") == {"private-one"}
    assert "private-one" in names(other, "executable")
    assert "private-one" not in names(owner, "sharedexecutable")
    with core.db.read() as session:
        assert template_for_launch(session, other, uuid=uuid).uuid == uuid
    with core.db.write() as session, pytest.raises(NotFound):
        # sharing lets the other account launch it, not change it
        delete_template(session, other, get_template(session, other, uuid))

    with core.db.write() as session:
        template = get_template(session, owner, uuid)
        update_permissions(session, owner, template, accounts=["other"], operation="remove")
        with pytest.raises(PermissionDenied):
            update_permissions(session, owner, template, is_featured=True)
    assert names(other, "sharedexecutable") == set()

    with core.db.write() as session:
        template = get_template(session, owner, uuid)
        update_permissions(session, owner, template, is_public=True)
    assert "private-one" in names(other, "community")
    assert "private-one" in names(core.admin_context(), "all")


def test_copy_to_another_zone_and_delete_per_zone(
    core: CoreHarness, store: LocalObjectStore, images: ImageServer
) -> None:
    ctx = core.new_tenant("mover")
    with core.db.write() as session:
        second = create_zone(session, name="second-zone").id
    uuid, jobs = register(core, ctx, images.add("/c.qcow2", IMAGE))
    assert core.wait(jobs[0]).status == SUCCEEDED
    with core.db.write() as session:
        template = get_template(session, ctx, uuid)
        copies = copy_template(session, ctx, template, source_zone_id=None, dest_zone_ids=[second])
        copy_job = copies[0].uuid
    assert core.wait(copy_job).status == SUCCEEDED
    template, refs = template_row(core, uuid)
    assert [r.download_state for r in refs] == [DownloadState.DOWNLOADED] * 2
    assert template.zone_id is None
    assert all(stored_bytes(core, store, r) == IMAGE for r in refs)
    with core.db.read() as session:
        rows = list_template_rows(session, ctx, template_filter="self")
        assert sorted(r.zone_id for r in rows if r.template.uuid == uuid) == sorted(
            r.zone_id for r in refs
        )

    with core.db.write() as session:
        job = delete_template(session, ctx, get_template(session, ctx, uuid), zone_id=second)
        delete_job = job.uuid
    assert core.wait(delete_job).status == SUCCEEDED
    template, remaining = template_row(core, uuid)
    assert template.removed is None and [r.zone_id for r in remaining] != [second]
    gone = next(r for r in refs if r.zone_id == second)
    with pytest.raises(Exception, match="no object"):
        stored_bytes(core, store, gone)

    with core.db.write() as session:
        job = delete_template(session, ctx, get_template(session, ctx, uuid))
        delete_job = job.uuid
    assert core.wait(delete_job).status == SUCCEEDED
    with core.db.read() as session:
        assert list_templates(session, ctx, template_filter="self") == []
        counts = {
            row.resource_type: row.used
            for row in session.scalars(
                sa.select(ResourceCount).where(ResourceCount.account_id == ctx.account_id)
            )
        }
    assert counts[ResourceType.TEMPLATE] == 0 and counts[ResourceType.SECONDARY_STORAGE] == 0


def test_os_types_are_seeded_and_bootstrap_template_maps(
    core: CoreHarness, store: LocalObjectStore
) -> None:
    with core.db.read() as session:
        centos = list_os_types(session, description="CentOS 5.6 (64-bit)")
        assert [t.display_name for t in centos] == ["CentOS 5.6 (64-bit)"]
        from core.templates import os_type_of

        featured = list_templates(session, core.admin_context(), template_filter="featured")[0]
        assert os_type_of(session, featured).uuid == centos[0].uuid


def test_admin_scope_lists_other_accounts(core: CoreHarness, store: LocalObjectStore) -> None:
    tenant = core.new_tenant("scoped")
    register(core, tenant, "http://127.0.0.1:9/s.qcow2", name="scoped-one")
    admin = core.admin_context()
    assert admin.role is Role.ADMIN
    with core.db.read() as session:
        own = list_template_rows(session, admin, template_filter="self")
        everything = list_template_rows(
            session, admin, template_filter="self", scope=ListScope(list_all=True)
        )
    assert "scoped-one" not in {r.template.name for r in own}
    assert "scoped-one" in {r.template.name for r in everything}
