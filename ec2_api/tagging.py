"""Tags as EC2 shows them, over the core's one tag table.

Every taggable EC2 resource is a core resource, and its tags are the core's (`core.tags`), so a
tag set through CreateTags is the tag `listTags` shows and the reverse. This module holds what
every EC2 family shares: the EC2 resource type ⇄ CloudStack resource type table, rendering
`Tags`/`TagSet` for a page of resources in one query, the `tag:<key>`, `tag-key` and
`tag-value` filters, and applying `TagSpecifications` on create.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any, TypeVar

from core import tags as core_tags
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value
from translators.filters import Attribute, FilterSet, PrefixAttribute

T = TypeVar("T")

# EC2's ResourceType (TagSpecifications, DescribeTags `resource-type`) → CloudStack's type.
CORE_TYPE: dict[str, str] = {
    "instance": "UserVm",
    "image": "Template",
    "volume": "Volume",
    "snapshot": "Snapshot",
    "security-group": "SecurityGroup",
    "elastic-ip": "PublicIpAddress",
    "key-pair": "SSHKeyPair",
    "vpc": "Vpc",
    "subnet": "Network",
}
EC2_TYPE: dict[str, str] = {core: ec2 for ec2, core in CORE_TYPE.items()}
MAX_TAGS = 50  # per resource, as on AWS


def tag_list(tags: Sequence[core_tags.ResourceTag]) -> list[dict[str, str]]:
    """`[{"Key": …, "Value": …}]`, the shape of both `Tags` and `TagSet` in botocore's model."""
    return [{"Key": tag.key, "Value": tag.value} for tag in tags]


def tags_by_id(call: Call, ec2_type: str, core_ids: list[int]) -> dict[int, list[dict[str, str]]]:
    """The tags of many resources of one type in one query, keyed by core id."""
    found = core_tags.tags_of(call.session, CORE_TYPE[ec2_type], core_ids)
    return {core_id: tag_list(tags) for core_id, tags in found.items()}


def _keys(tags: Sequence[Mapping[str, str]] | None) -> list[str]:
    return [tag["Key"] for tag in tags or ()]


def _values(tags: Sequence[Mapping[str, str]] | None) -> list[str]:
    return [tag.get("Value", "") for tag in tags or ()]


def _value_of(tags: Sequence[Mapping[str, str]] | None, key: str) -> list[str]:
    return [tag.get("Value", "") for tag in tags or () if tag["Key"] == key]


def filter_set(
    attributes: Mapping[str, Attribute[T]],
    read_tags: Callable[[T], Sequence[Mapping[str, str]] | None],
    prefixes: Mapping[str, PrefixAttribute[T]] | None = None,
) -> FilterSet[T]:
    """A FilterSet with `tag:<key>`, `tag-key` and `tag-value` added, reading `read_tags`."""
    return FilterSet(
        {
            **attributes,
            "tag-key": lambda item: _keys(read_tags(item)),
            "tag-value": lambda item: _values(read_tags(item)),
        },
        prefixes={**(prefixes or {}), "tag:": lambda item, key: _value_of(read_tags(item), key)},
    )


def requested_tags(entries: Sequence[Mapping[str, Any]] | None) -> dict[str, str]:
    """`Tag.N.Key/Value` as a dict, with AWS's checks (keys given, no `aws:` prefix)."""
    tags: dict[str, str] = {}
    for entry in entries or ():
        key = entry.get("Key")
        if key is None:
            raise Ec2Error("InvalidParameterValue", "Tag keys must not be empty")
        if key.lower().startswith("aws:"):
            raise invalid_value(
                f"Tag keys starting with 'aws:' are reserved for internal use ('{key}')"
            )
        tags[key] = entry.get("Value") or ""
    if len(tags) > MAX_TAGS:
        raise Ec2Error("TagLimitExceeded", f"The maximum number of tags is {MAX_TAGS}")
    return tags


def specified_tags(call: Call, ec2_type: str) -> dict[str, str]:
    """The tags `TagSpecifications` asks to put on a new resource of `ec2_type`.

    A specification for a type this action does not create is InvalidParameterValue, as on AWS.
    """
    tags: dict[str, str] = {}
    for spec in call.get("TagSpecifications") or ():
        resource_type = spec.get("ResourceType")
        if resource_type != ec2_type:
            raise invalid_value(
                f"'{resource_type}' is not a valid taggable resource type for this operation."
            )
        tags.update(requested_tags(spec.get("Tags")))
    return tags


def tag_new(call: Call, ec2_type: str, resource_uuids: list[str], tags: dict[str, str]) -> None:
    """Put `tags` on freshly created resources (the caller's own, so no conflict is possible)."""
    if not tags or not resource_uuids:
        return
    core_tags.create_tags(
        call.session,
        call.ctx,
        resource_type=CORE_TYPE[ec2_type],
        resource_uuids=resource_uuids,
        tags=tags,
        overwrite=True,
    )
