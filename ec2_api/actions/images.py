"""DescribeImages: the templates the caller may launch, as AMIs."""

from __future__ import annotations

from typing import Any

from core.templates import Template, list_templates
from ec2_api.call import Call
from ec2_api.errors import Ec2Error
from ec2_api.paging import page
from translators import images
from translators.filters import FilterSet, parse_filters

NO_TAGS: list[str] = []  # tags arrive with issue 4; until then no image has any

IMAGE_FILTERS: FilterSet[dict[str, Any]] = FilterSet(
    {
        "image-id": lambda i: i["ImageId"],
        "name": lambda i: i["Name"],
        "description": lambda i: i["Description"],
        "owner-id": lambda i: i["OwnerId"],
        "owner-alias": lambda i: i.get("ImageOwnerAlias"),
        "state": lambda i: i["State"],
        "is-public": lambda i: i["Public"],
        "architecture": lambda i: i["Architecture"],
        "image-type": lambda i: i["ImageType"],
        "platform": lambda i: i.get("Platform"),
        "platform-details": lambda i: i["PlatformDetails"],
        "root-device-type": lambda i: i["RootDeviceType"],
        "root-device-name": lambda i: i["RootDeviceName"],
        "virtualization-type": lambda i: i["VirtualizationType"],
        "hypervisor": lambda i: i["Hypervisor"],
        "manifest-location": lambda i: i["ImageLocation"],
        "block-device-mapping.device-name": lambda i: [
            m["DeviceName"] for m in i["BlockDeviceMappings"]
        ],
        "block-device-mapping.volume-size": lambda i: [
            m["Ebs"]["VolumeSize"] for m in i["BlockDeviceMappings"]
        ],
        "tag-key": lambda i: NO_TAGS,
        "tag-value": lambda i: NO_TAGS,
    },
    prefixes={"tag:": lambda i, key: NO_TAGS},
)


def _requested(call: Call, templates: list[Template]) -> list[Template]:
    """Only the ImageIds asked for; every one of them must be visible to the caller."""
    wanted = call.get("ImageIds")
    if not wanted:
        return templates
    by_id = {template.id: template for template in templates}
    found, missing = [], []
    for ami_id in dict.fromkeys(wanted):
        template = by_id.get(images.template_id(call.ids, ami_id))
        if template is None:
            missing.append(ami_id)
        else:
            found.append(template)
    if missing:
        listed = ", ".join(missing)
        message = (
            f"The image id '[{listed}]' does not exist"
            if len(missing) == 1
            else f"The image ids '[{listed}]' do not exist"
        )
        raise Ec2Error("InvalidAMIID.NotFound", message)
    return found


def describe_images(call: Call) -> dict[str, Any]:
    templates = _requested(call, list_templates(call.session, call.ctx))
    owners = call.get("Owners")
    if owners:
        owned = images.owner_predicate(call.ids, call.ctx, owners)
        templates = [template for template in templates if owned(template)]
    views = [images.image(call.ids, template) for template in templates]
    views = IMAGE_FILTERS.select(views, parse_filters(call.get("Filters")))
    shown, next_token = page(views, call.get("MaxResults"), call.get("NextToken"))
    result: dict[str, Any] = {"Images": shown}
    if next_token:
        result["NextToken"] = next_token
    return result
