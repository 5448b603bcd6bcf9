"""Images: DescribeImages, Describe/ModifyImageAttribute and DeregisterImage.

An AMI is a template (translators.images). The caller sees, as on AWS, its own account's
images in every state, and the public images and those shared with it once they are
available — admins included, since EC2 callers act for their own account. Only the owning
account may change or deregister an image. Creating images is image_registration's.
"""

from __future__ import annotations

from typing import Any

from core.template_sources import launch_permission_map, share_template
from core.templates import (
    Template,
    TemplateUpdate,
    delete_template,
    list_template_rows,
    update_template,
)
from ec2_api import tagging
from ec2_api.action import Action
from ec2_api.actions.selection import by_ec2_ids
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value
from ec2_api.paging import page
from translators import images
from translators.filters import parse_filters
from translators.ids import IMAGE as IMAGE_ID

IMAGE = "image"  # the tagging resource type

IMAGE_FILTERS = tagging.filter_set(
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
        "usage-operation": lambda i: i["UsageOperation"],
        "root-device-type": lambda i: i["RootDeviceType"],
        "root-device-name": lambda i: i["RootDeviceName"],
        "virtualization-type": lambda i: i["VirtualizationType"],
        "hypervisor": lambda i: i["Hypervisor"],
        "manifest-location": lambda i: i["ImageLocation"],
        "creation-date": lambda i: i["CreationDate"],
        "ena-support": lambda i: i["EnaSupport"],
        "block-device-mapping.device-name": lambda i: [
            m["DeviceName"] for m in i["BlockDeviceMappings"]
        ],
        "block-device-mapping.volume-size": lambda i: [
            m["Ebs"]["VolumeSize"] for m in i["BlockDeviceMappings"]
        ],
        "block-device-mapping.volume-type": lambda i: [
            m["Ebs"]["VolumeType"] for m in i["BlockDeviceMappings"]
        ],
        "block-device-mapping.delete-on-termination": lambda i: [
            m["Ebs"]["DeleteOnTermination"] for m in i["BlockDeviceMappings"]
        ],
        "block-device-mapping.encrypted": lambda i: [
            m["Ebs"]["Encrypted"] for m in i["BlockDeviceMappings"]
        ],
    },
    lambda i: i["Tags"],
)


# finding images ----------------------------------------------------------------------------


def visible_templates(call: Call, template_ids: list[int] | None = None) -> list[Template]:
    """The caller's own templates (any state), and the public and shared ones that are ready."""
    found: dict[int, Template] = {}
    for template_filter in ("self", "executable"):
        rows = list_template_rows(
            call.session, call.ctx, template_filter=template_filter, template_ids=template_ids
        )
        for row in rows:
            found.setdefault(row.template.id, row.template)
    return sorted(found.values(), key=lambda template: template.id)


def _not_found(missing: list[str]) -> Ec2Error:
    listed = ", ".join(missing)
    if len(missing) == 1:
        return Ec2Error("InvalidAMIID.NotFound", f"The image id '[{listed}]' does not exist")
    return Ec2Error("InvalidAMIID.NotFound", f"The image ids '[{listed}]' do not exist")


def templates_by_image_ids(call: Call, ami_ids: list[str]) -> list[Template]:
    """The templates of `ami_ids`, in order; InvalidAMIID.* unless the caller sees every one."""
    found = by_ec2_ids(
        call, IMAGE_ID, ami_ids, lambda core_ids: visible_templates(call, [*core_ids]), _not_found
    )
    return list(found.values())


def template_of(call: Call, ami_id: str) -> Template:
    return templates_by_image_ids(call, [ami_id])[0]


def owned_template(call: Call, ami_id: str) -> Template:
    """An image the caller's account owns: others' visible images may not be changed."""
    template = template_of(call, ami_id)
    if template.account_id != call.ctx.account_id:
        raise Ec2Error("AuthFailure", f"Not authorized for image:{ami_id}")
    return template


def render_images(call: Call, templates: list[Template]) -> list[dict[str, Any]]:
    tags = tagging.tags_by_id(call, IMAGE, [t.id for t in templates])
    return [images.image(call.ids, t, tags.get(t.id, [])) for t in templates]


# DescribeImages ----------------------------------------------------------------------------


def describe_images(call: Call) -> dict[str, Any]:
    ami_ids = call.get("ImageIds")
    templates = templates_by_image_ids(call, ami_ids) if ami_ids else visible_templates(call)
    owners = call.get("Owners")
    if owners:
        owned = images.owner_predicate(call.ids, call.ctx, owners)
        templates = [template for template in templates if owned(template)]
    users = call.get("ExecutableUsers")
    if users:
        shared = launch_permission_map(call.session, [t.id for t in templates])
        executable = images.executable_predicate(call.ids, call.ctx, users, shared)
        templates = [template for template in templates if executable(template)]
    views = IMAGE_FILTERS.select(render_images(call, templates), parse_filters(call.get("Filters")))
    shown, next_token = page(views, call.get("MaxResults"), call.get("NextToken"))
    result: dict[str, Any] = {"Images": shown}
    if next_token:
        result["NextToken"] = next_token
    return result


# attributes --------------------------------------------------------------------------------

PLAIN_ATTRIBUTES = {  # attributes with nothing behind them here: AWS's empty answers
    "kernel": ("KernelId", {}),
    "ramdisk": ("RamdiskId", {}),
    "productCodes": ("ProductCodes", []),
    "sriovNetSupport": ("SriovNetSupport", {}),
    "bootMode": ("BootMode", {"Value": "legacy-bios"}),
    "tpmSupport": ("TpmSupport", {}),
    "uefiData": ("UefiData", {}),
    "lastLaunchedTime": ("LastLaunchedTime", {}),
    "imdsSupport": ("ImdsSupport", {}),
    "deregistrationProtection": ("DeregistrationProtection", {"Value": "disabled"}),
}


def _launch_permissions(call: Call, template: Template) -> list[dict[str, str]]:
    shared = launch_permission_map(call.session, [template.id])[template.id]
    permissions = [{"Group": "all"}] if template.is_public else []
    permissions += [{"UserId": call.ids.account_number(a)} for a in shared]
    return permissions


def describe_image_attribute(call: Call) -> dict[str, Any]:
    attribute, ami_id = call.get("Attribute"), call.get("ImageId")
    template = template_of(call, ami_id)
    result: dict[str, Any] = {"ImageId": ami_id}
    if attribute == "description":
        result["Description"] = {"Value": template.display_text}
    elif attribute == "launchPermission":
        owned_template(call, ami_id)
        result["LaunchPermissions"] = _launch_permissions(call, template)
    elif attribute == "blockDeviceMapping":
        result["BlockDeviceMappings"] = images.image(call.ids, template)["BlockDeviceMappings"]
    elif attribute in PLAIN_ATTRIBUTES:
        key, value = PLAIN_ATTRIBUTES[attribute]
        result[key] = value
    else:
        raise invalid_value(f"Value ({attribute}) for parameter attribute is invalid.")
    return result


def _permission_changes(call: Call) -> tuple[list[dict[str, str]], list[dict[str, str]]]:
    """(added, removed) launch permissions, from LaunchPermission or the flat parameters."""
    change = call.get("LaunchPermission") or {}
    added, removed = list(change.get("Add") or []), list(change.get("Remove") or [])
    flat = [{"UserId": u} for u in call.get("UserIds") or []]
    flat += [{"Group": g} for g in call.get("UserGroups") or []]
    if flat:
        operation = call.get("OperationType")
        if operation not in ("add", "remove"):
            raise Ec2Error(
                "MissingParameter", "The request must contain the parameter OperationType"
            )
        (added if operation == "add" else removed).extend(flat)
    return added, removed


def _account_ids(call: Call, permissions: list[dict[str, str]]) -> list[int]:
    found = []
    for permission in permissions:
        if "Group" in permission:
            if permission["Group"] != "all":
                raise invalid_value(f"Invalid value '{permission['Group']}' for Group")
            continue
        number = permission.get("UserId", "")
        account_id = call.ids.account_id(number)
        if account_id is None:
            raise Ec2Error(
                "InvalidAMIAttributeItemValue", f"Invalid attribute item value '{number}'"
            )
        found.append(account_id)
    return found


def _group_all(permissions: list[dict[str, str]]) -> bool:
    return any(permission.get("Group") == "all" for permission in permissions)


def modify_image_attribute(call: Call) -> None:
    template = owned_template(call, call.get("ImageId"))
    attribute = call.get("Attribute")
    description = (call.get("Description") or {}).get("Value")
    if attribute == "description" and description is None:
        description = call.get("Value")
    if description is not None:
        update_template(call.session, call.ctx, template, TemplateUpdate(display_text=description))
        return
    added, removed = _permission_changes(call)
    if not added and not removed:
        raise Ec2Error("InvalidParameterCombination", "No attributes specified.")
    public = True if _group_all(added) else (False if _group_all(removed) else None)
    share_template(
        call.session,
        call.ctx,
        template,
        add=_account_ids(call, added),
        remove=_account_ids(call, removed),
        is_public=public,
    )


# DeregisterImage ---------------------------------------------------------------------------


def deregister_image(call: Call) -> dict[str, Any]:
    template = owned_template(call, call.get("ImageId"))
    # Instances launched from it keep running, as on AWS (CloudStack's forced delete).
    delete_template(call.session, call.ctx, template, forced=True)
    return {"Return": True}


ACTIONS = (
    Action(
        "DescribeImages",
        describe_images,
        notes="AMIs are templates; Owners `amazon` = public templates of the system account; "
        "ExecutableUsers = launch permissions (shared with) or `all` (public)",
    ),
    Action(
        "DescribeImageAttribute",
        describe_image_attribute,
        notes="description, launchPermission (accounts the template is shared with, `all` when "
        "public), blockDeviceMapping; others answer AWS's empty values",
    ),
    Action(
        "ModifyImageAttribute",
        modify_image_attribute,
        writes=True,
        notes="description and launchPermission; accounts must be of the image owner's "
        "CloudStack domain (templates are shared within a domain)",
    ),
    Action(
        "DeregisterImage",
        deregister_image,
        writes=True,
        notes="deletes the template in every zone (instances using it keep running)",
    ),
)
