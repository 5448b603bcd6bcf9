"""CreateTags, DeleteTags and DescribeTags over the core's one tag table.

An EC2 id names its resource type by its prefix (`i-`, `vol-`, `sg-` …); the type maps to the
core's taggable type (`ec2_api.tagging.CORE_TYPE`) and the id decodes to the core row. The
tags written are the core's, so `listTags` on the CloudStack API shows them and the reverse.
EC2 callers tag their own account's resources only (admins included), and DescribeTags shows
the caller's own tags, with each resource named by its EC2 id.
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import sqlalchemy as sa

from core import errors
from core import tags as core_tags
from core.networks import Network
from core.visibility import ListScope
from ec2_api.action import Action
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value
from ec2_api.paging import page
from ec2_api.tagging import CORE_TYPE, EC2_TYPE, MAX_TAGS, requested_tags
from translators import ids
from translators.filters import FilterSet, parse_filters

# EC2 id prefix → EC2 resource type, and the error AWS gives for an id it does not know.
PREFIX_TYPE: dict[str, str] = {
    ids.INSTANCE: "instance",
    ids.IMAGE: "image",
    ids.VOLUME: "volume",
    ids.SNAPSHOT: "snapshot",
    ids.SECURITY_GROUP: "security-group",
    ids.ALLOCATION: "elastic-ip",
    ids.KEY_PAIR: "key-pair",
    ids.VPC: "vpc",
    ids.SUBNET: "subnet",
}
TYPE_PREFIX: dict[str, str] = {ec2_type: prefix for prefix, ec2_type in PREFIX_TYPE.items()}
NOT_FOUND: dict[str, tuple[str, str]] = {
    ids.INSTANCE: ("InvalidInstanceID.NotFound", "The instance ID '{}' does not exist"),
    ids.IMAGE: ("InvalidAMIID.NotFound", "The image id '[{}]' does not exist"),
    ids.VOLUME: ("InvalidVolume.NotFound", "The volume '{}' does not exist."),
    ids.SNAPSHOT: ("InvalidSnapshot.NotFound", "The snapshot '{}' does not exist."),
    ids.SECURITY_GROUP: ("InvalidGroup.NotFound", "The security group '{}' does not exist"),
    ids.ALLOCATION: ("InvalidAllocationID.NotFound", "The allocation ID '{}' does not exist"),
    ids.KEY_PAIR: ("InvalidKeyPair.NotFound", "The key pair '{}' does not exist"),
    ids.VPC: ("InvalidVpcID.NotFound", "The vpc ID '{}' does not exist"),
    ids.SUBNET: ("InvalidSubnetID.NotFound", "The subnet ID '{}' does not exist"),
}


def _not_found(prefix: str, ec2_id: str) -> Ec2Error:
    code, template = NOT_FOUND[prefix]
    return Ec2Error(code, template.format(ec2_id))


def _own_resource(call: Call, ec2_id: str) -> tuple[str, Any]:
    """(core resource type, row) of one of the caller's own resources, by its EC2 id."""
    prefix = ec2_id.rpartition("-")[0]
    ec2_type = PREFIX_TYPE.get(prefix)
    if ec2_type is None:
        raise Ec2Error("InvalidID", f"The ID '{ec2_id}' is not valid")
    core_id = call.ids.decode(prefix, ec2_id)
    try:
        core_type, model = core_tags.resolve_model(CORE_TYPE[ec2_type])
    except errors.InvalidParameter:  # a family this installation does not have
        raise _not_found(prefix, ec2_id) from None
    row = call.session.get(model, core_id) if core_id is not None else None
    if (
        row is None
        or getattr(row, "removed", None) is not None
        or getattr(row, "account_id", None) != call.ctx.account_id
        or (ec2_type == "subnet" and row.vpc_id is None)
    ):
        raise _not_found(prefix, ec2_id)
    return core_type, row


def _resources(call: Call) -> dict[str, list[Any]]:
    """The `Resources` asked for, grouped by core type (every one must be the caller's)."""
    grouped: dict[str, list[Any]] = defaultdict(list)
    for ec2_id in dict.fromkeys(call.get("Resources") or ()):
        core_type, row = _own_resource(call, ec2_id)
        grouped[core_type].append(row)
    return grouped


def create_tags(call: Call) -> None:
    tags = requested_tags(call.get("Tags"))
    if not tags:
        raise Ec2Error("MissingParameter", "The request must contain the parameter Tags")
    for core_type, rows in _resources(call).items():
        core_tags.create_tags(
            call.session,
            call.ctx,
            resource_type=core_type,
            resource_uuids=[row.uuid for row in rows],
            tags=tags,
            overwrite=True,  # AWS: an existing key takes the new value
        )
        counts = core_tags.tags_of(call.session, core_type, [row.id for row in rows])
        if any(len(found) > MAX_TAGS for found in counts.values()):
            raise Ec2Error(
                "TagLimitExceeded", f"The maximum number of tags per resource is {MAX_TAGS}"
            )


def _deleted_tags(entries: list[dict[str, Any]] | None) -> dict[str, str | None]:
    """Key → value to match: no `Value` deletes the key whatever its value; `Value=""`
    deletes it only when its value is empty (AWS)."""
    wanted: dict[str, str | None] = {}
    for entry in entries or ():
        key = entry.get("Key")
        if not key:
            raise invalid_value("Tag keys must not be empty")
        if key.lower().startswith("aws:"):
            raise invalid_value(f"Tag keys starting with 'aws:' are reserved ('{key}')")
        wanted[key] = entry.get("Value")
    return wanted


def delete_tags(call: Call) -> None:
    wanted = _deleted_tags(call.get("Tags"))
    for core_type, rows in _resources(call).items():
        core_tags.remove_tags(
            call.session,
            call.ctx,
            resource_type=core_type,
            resource_uuids=[row.uuid for row in rows],
            tags=wanted,
        )


TagView = dict[str, Any]


def _tag_filters(siblings: dict[tuple[str, str], list[TagView]]) -> FilterSet[TagView]:
    def values_of(view: TagView, key: str) -> list[str]:
        return [
            other["Value"]
            for other in siblings[(view["ResourceType"], view["ResourceId"])]
            if other["Key"] == key
        ]

    return FilterSet(
        {
            "key": lambda view: view["Key"],
            "value": lambda view: view["Value"],
            "resource-id": lambda view: view["ResourceId"],
            "resource-type": lambda view: view["ResourceType"],
        },
        prefixes={"tag:": values_of},
    )


def _non_subnet_networks(call: Call, network_ids: list[int]) -> set[int]:
    """Networks without a VPC: CloudStack networks that are not EC2 subnets."""
    if not network_ids:
        return set()
    return set(
        call.session.scalars(
            sa.select(Network.id).where(Network.id.in_(network_ids), Network.vpc_id.is_(None))
        )
    )


def describe_tags(call: Call) -> dict[str, Any]:
    filters = parse_filters(call.get("Filters"))
    rows, _ = core_tags.list_tags(call.session, call.ctx, ListScope())
    rows = [tag for tag in rows if tag.resource_type in EC2_TYPE]
    hidden = _non_subnet_networks(
        call, [tag.resource_id for tag in rows if EC2_TYPE[tag.resource_type] == "subnet"]
    )
    views: list[TagView] = []
    for tag in rows:
        ec2_type = EC2_TYPE[tag.resource_type]
        if ec2_type == "subnet" and tag.resource_id in hidden:
            continue
        views.append(
            {
                "Key": tag.key,
                "Value": tag.value,
                "ResourceId": call.ids.encode(TYPE_PREFIX[ec2_type], tag.resource_id),
                "ResourceType": ec2_type,
            }
        )
    siblings: dict[tuple[str, str], list[TagView]] = defaultdict(list)
    for view in views:
        siblings[(view["ResourceType"], view["ResourceId"])].append(view)
    views.sort(key=lambda view: (view["ResourceType"], view["ResourceId"], view["Key"]))
    shown, next_token = page(
        _tag_filters(siblings).select(views, filters),
        call.get("MaxResults"),
        call.get("NextToken"),
    )
    result: dict[str, Any] = {"Tags": shown}
    if next_token:
        result["NextToken"] = next_token
    return result


ACTIONS = (
    Action(
        "CreateTags",
        create_tags,
        writes=True,
        notes="on instances, images, volumes, snapshots, security groups, Elastic IPs, key "
        "pairs, VPCs and subnets the caller owns; the tags are CloudStack's resource tags",
    ),
    Action(
        "DeleteTags",
        delete_tags,
        writes=True,
        notes='no Value: any value; `Value=""`: only an empty value; no Tags: all tags',
    ),
    Action(
        "DescribeTags",
        describe_tags,
        notes="the caller's own tags; sorted by resource type, resource id and key",
    ),
)
