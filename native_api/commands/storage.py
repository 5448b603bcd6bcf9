"""Primary storage pools and image (secondary) stores."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import infra
from core.configuration import get_float
from core.infra import Cluster, ImageStore, Pod, StoragePool, Zone
from core.listing import paginate
from native_api.call import Call
from native_api.commands.common import SUCCESS_FIELDS, delete_command
from native_api.registry import ADMIN_ONLY, PAGING, Field, Kind, Param, Reply, command

POOL_FIELDS = (
    Field("id", description="the ID of the storage pool"),
    Field("name", description="the name of the storage pool"),
    Field("zoneid", description="the Zone ID of the storage pool"),
    Field("podid", description="the Pod ID of the storage pool"),
    Field("clusterid", description="the ID of the cluster for the storage pool"),
    Field("ipaddress", description="the IP address of the storage pool"),
    Field("path", description="the storage pool path"),
    Field("type", description="the storage pool type"),
    Field("scope", description="the scope of the storage pool"),
    Field("state", description="the state of the storage pool"),
    Field("disksizetotal", "long", "the total disk size of the storage pool"),
    Field("disksizeallocated", "long", "the host's currently allocated disk size"),
    Field("tags", description="the tags for the storage pool"),
)
STORE_FIELDS = (
    Field("id", description="the ID of the image store"),
    Field("name", description="the name of the image store"),
    Field("zoneid", description="the Zone ID of the image store"),
    Field("url", description="the url of the image store"),
    Field("protocol", description="the protocol of the image store"),
    Field("providername", description="the provider name of the image store"),
    Field("scope", description="the scope of the image store"),
)


def _named(session: Session, model: Any, ident: int | None) -> tuple[str | None, str | None]:
    row = session.get(model, ident) if ident else None
    return (row.uuid, row.name) if row else (None, None)


def pool_view(session: Session, pool: StoragePool) -> dict[str, Any]:
    from urllib.parse import urlsplit

    zone_id, zone_name = _named(session, Zone, pool.zone_id)
    pod_id, pod_name = _named(session, Pod, pool.pod_id)
    cluster_id, cluster_name = _named(session, Cluster, pool.cluster_id)
    parts = urlsplit(pool.url)
    factor = get_float(session, "storage.overprovisioning.factor")
    state = "Disabled" if pool.state == infra.DISABLED else pool.state
    return {
        "id": pool.uuid,
        "name": pool.name,
        "zoneid": zone_id,
        "zonename": zone_name,
        "podid": pod_id,
        "podname": pod_name,
        "clusterid": cluster_id,
        "clustername": cluster_name,
        "ipaddress": parts.hostname or "",
        "path": parts.path,
        "type": pool.pool_type,
        "scope": pool.scope,
        "hypervisor": "Simulator" if pool.scope == "ZONE" else None,
        "state": state,
        "created": pool.created,
        "disksizetotal": pool.capacity_bytes,
        "disksizeallocated": pool.allocated_bytes,
        "disksizeused": pool.allocated_bytes,
        "capacityiops": None,
        "overprovisionfactor": f"{factor}",
        "tags": pool.tags or None,
        "istagarule": False,
        "provider": "DefaultPrimary",
        "managed": False,
        "hasannotations": False,
    }


def store_view(session: Session, store: ImageStore) -> dict[str, Any]:
    zone_id, zone_name = _named(session, Zone, store.zone_id)
    return {
        "id": store.uuid,
        "name": store.name,
        "zoneid": zone_id,
        "zonename": zone_name,
        "url": store.url,
        "protocol": store.protocol,
        "providername": store.provider,
        "scope": store.scope,
        "readonly": False,
        "hasannotations": False,
    }


# primary storage ----------------------------------------------------------------------------

_CAPACITY = (
    Param(
        "capacitybytes", "long", description="bytes CloudStack can provision from this storage pool"
    ),
    Param(
        "capacityiops", "long", description="IOPS CloudStack can provision from this storage pool"
    ),
)


@command(
    "createStoragePool",
    kind=Kind.SYNC,
    description="Creates a storage pool.",
    response_name="storagepool",
    roles=ADMIN_ONLY,
    params=(
        Param("name", required=True, description="the name for the storage pool"),
        Param("url", required=True, description="the URL of the storage pool"),
        Param("zoneid", "uuid", True, "the Zone ID for the storage pool"),
        Param("podid", "uuid", description="the Pod ID for the storage pool"),
        Param("clusterid", "uuid", description="the cluster ID for the storage pool"),
        Param("scope", description="the scope of the storage: cluster or zone"),
        Param("tags", description="the tags for the storage pool"),
        *_CAPACITY,
        Param(
            "hypervisor",
            description="hypervisor type of the hosts in zone that will be "
            "attached to this storage pool. KVM, VMware supported as of now.",
        ),
        Param("provider", description="the storage provider name"),
        Param(
            "managed", "boolean", description="whether the storage should be managed by CloudStack"
        ),
        Param("details", "map", description="the details for the storage pool"),
    ),
    response_fields=POOL_FIELDS,
    differences="A pool without capacitybytes gets 2 TiB (CloudStack asks the storage).",
)
def create_storage_pool(call: Call) -> Reply:
    zone = infra.zone_by_uuid(call.session, call.get("zoneid"))
    pod = infra.get_pod(call.session, call.get("podid")) if call.get("podid") else None
    cluster = (
        infra.get_cluster(call.session, call.get("clusterid")) if call.get("clusterid") else None
    )
    scope = call.get("scope") or ("CLUSTER" if cluster else "ZONE")
    pool = infra.create_primary_pool(
        call.session,
        call.ctx,
        zone=zone,
        name=call.get("name"),
        url=call.get("url"),
        scope=scope,
        pod=pod,
        cluster=cluster,
        tags=call.get("tags"),
        capacity_bytes=call.get("capacitybytes"),
    )
    return Reply(obj=pool_view(call.session, pool))


@command(
    "updateStoragePool",
    kind=Kind.SYNC,
    description="Updates a storage pool.",
    response_name="storagepool",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", True, "the Id of the storage pool"),
        Param("name", description="Change the name of the storage pool"),
        Param("tags", "list", description="comma-separated list of tags for the storage pool"),
        *_CAPACITY,
        Param(
            "enabled",
            "boolean",
            description="false to disable the pool for allocation of new "
            "volumes, true to enable it back.",
        ),
    ),
    response_fields=POOL_FIELDS,
)
def update_storage_pool(call: Call) -> Reply:
    pool = infra.get_pool(call.session, call.get("id"))
    tags = call.get("tags")
    infra.update_primary_pool(
        call.session,
        call.ctx,
        pool,
        tags=",".join(tags) if tags is not None else None,
        capacity_bytes=call.get("capacitybytes"),
        enabled=call.get("enabled"),
        name=call.get("name"),
    )
    return Reply(obj=pool_view(call.session, pool))


@command(
    "deleteStoragePool",
    kind=Kind.SYNC,
    description="Deletes a storage pool.",
    response_name="success",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", True, "Storage pool id"),
        Param(
            "forced",
            "boolean",
            description="Force destroy storage pool (force expunge "
            "volumes in Destroyed state as a part of pool removal)",
        ),
    ),
    response_fields=SUCCESS_FIELDS,
)
def delete_storage_pool(call: Call) -> Reply:
    pool = infra.get_pool(call.session, call.get("id"))
    infra.delete_primary_pool(call.session, call.ctx, pool, forced=bool(call.get("forced")))
    return Reply(success=True)


@command(
    "listStoragePools",
    kind=Kind.LIST,
    description="Lists storage pools.",
    response_name="storagepool",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", description="the ID of the storage pool"),
        Param("name", description="the name of the storage pool"),
        Param("zoneid", "uuid", description="the Zone ID for the storage pool"),
        Param("podid", "uuid", description="the Pod ID for the storage pool"),
        Param(
            "clusterid", "uuid", description="list storage pools belongig to the specific cluster"
        ),
        Param("ipaddress", description="the IP address for the storage pool"),
        Param("path", description="the storage pool path"),
        Param("scope", description="the scope of the storage pool"),
        Param("status", description="the status of the storage pool"),
        *PAGING,
    ),
    response_fields=POOL_FIELDS,
)
def list_storage_pools(call: Call) -> Reply:
    pool = infra.get_pool(call.session, call.get("id")) if call.get("id") else None
    zone = infra.zone_by_uuid(call.session, call.get("zoneid")) if call.get("zoneid") else None
    pod = infra.get_pod(call.session, call.get("podid")) if call.get("podid") else None
    cluster = (
        infra.get_cluster(call.session, call.get("clusterid")) if call.get("clusterid") else None
    )
    status = call.get("status")
    query = infra.search(
        call.session,
        StoragePool,
        keyword=call.get("keyword"),
        id=pool.id if pool else None,
        name=call.get("name"),
        zone_id=zone.id if zone else None,
        pod_id=pod.id if pod else None,
        cluster_id=cluster.id if cluster else None,
        scope=(call.get("scope") or "").upper() or None,
        state=(infra.HOST_UP if status.lower() == "up" else status) if status else None,
    )
    if call.get("path"):
        query = query.where(StoragePool.url.like(f"%{call.get('path')}"))
    if call.get("ipaddress"):
        query = query.where(StoragePool.url.like(f"%//{call.get('ipaddress')}%"))
    rows, total = paginate(call.session, query, call.page())
    return Reply(items=[pool_view(call.session, p) for p in rows], total=total)


# image stores -------------------------------------------------------------------------------


@command(
    "addImageStore",
    kind=Kind.SYNC,
    description="Adds backup image store.",
    response_name="imagestore",
    roles=ADMIN_ONLY,
    params=(
        Param("provider", required=True, description="the image store provider name"),
        Param("name", description="the name for the image store"),
        Param("url", description="the URL for the image store"),
        Param("zoneid", "uuid", description="the Zone ID for the image store"),
        Param(
            "details",
            "map",
            description="the details for the image store. Example: "
            "details[0].key=accesskey&details[0].value=s389ddssaa",
        ),
    ),
    response_fields=STORE_FIELDS,
)
def add_image_store(call: Call) -> Reply:
    zone = infra.zone_by_uuid(call.session, call.get("zoneid")) if call.get("zoneid") else None
    store = infra.create_image_store(
        call.session,
        call.ctx,
        name=call.get("name"),
        url=call.get("url") or "",
        provider=call.get("provider"),
        zone=zone,
    )
    return Reply(obj=store_view(call.session, store))


@delete_command(
    "deleteImageStore",
    "Deletes an image store or Secondary Storage.",
    "The image store ID or Secondary Storage ID.",
)
def delete_image_store(call: Call) -> Reply:
    store = infra.get_image_store(call.session, call.get("id"))
    infra.delete_image_store(call.session, call.ctx, store)
    return Reply(success=True)


@command(
    "listImageStores",
    kind=Kind.LIST,
    description="Lists image stores.",
    response_name="imagestore",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", description="the ID of the storage pool"),
        Param("name", description="the name of the image store"),
        Param("zoneid", "uuid", description="the Zone ID for the image store"),
        Param("provider", description="the image store provider"),
        Param("protocol", description="the image store protocol"),
        *PAGING,
    ),
    response_fields=STORE_FIELDS,
)
def list_image_stores(call: Call) -> Reply:
    store = infra.get_image_store(call.session, call.get("id")) if call.get("id") else None
    zone = infra.zone_by_uuid(call.session, call.get("zoneid")) if call.get("zoneid") else None
    query = infra.search(
        call.session,
        ImageStore,
        keyword=call.get("keyword"),
        id=store.id if store else None,
        name=call.get("name"),
        zone_id=zone.id if zone else None,
        provider=call.get("provider"),
        protocol=call.get("protocol"),
    )
    rows, total = paginate(call.session, query, call.page())
    return Reply(items=[store_view(call.session, s) for s in rows], total=total)
