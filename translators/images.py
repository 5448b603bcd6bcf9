"""AMIs ⇄ templates.

An AMI id is the template's integer id encoded with the `ami` prefix (translators.ids).
Templates of the system account that are public play the part of Amazon's images: their
owner alias is "amazon", so `Owners=["amazon"]` finds them, as scripts written for AWS expect.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

from core.context import SYSTEM_CONTEXT, CallContext
from core.errors import InvalidParameter, NotFound
from core.templates import READY, Template
from translators.ids import IMAGE, IdCodec

AMAZON = "amazon"
ROOT_DEVICE = "/dev/sda1"
S3_SCHEME = "s3://"  # the url of a template registered from an object (core.template_sources)
GIB = 1024**3


def image_id(codec: IdCodec, template: Template) -> str:
    return codec.encode(IMAGE, template.id)


def template_id(codec: IdCodec, ami_id: str) -> int:
    """The template id behind an AMI id: MalformedId, or NotFound if it is not one of ours."""
    core_id = codec.decode(IMAGE, ami_id)
    if core_id is None:
        raise NotFound("template", ami_id)
    return core_id


def is_amazon(template: Template) -> bool:
    """System-owned public templates stand in for Amazon's own images."""
    return template.account_id == SYSTEM_CONTEXT.account_id and template.is_public


def owner_alias(template: Template) -> str | None:
    return AMAZON if is_amazon(template) else None


def _creation_date(template: Template) -> str:
    return template.created.strftime("%Y-%m-%dT%H:%M:%S.000Z")


def image_state(template: Template) -> str:
    """available once a zone holds it; failed when its only copies failed; else pending."""
    if template.is_ready:
        return "available"
    return "failed" if template.status and template.status != READY else "pending"


def _location(template: Template, owner: str) -> str:
    if template.url.startswith(S3_SCHEME):
        return template.url.removeprefix(S3_SCHEME)
    return f"{owner_alias(template) or owner}/{template.name}"


def image(
    codec: IdCodec, template: Template, tags: list[dict[str, str]] | None = None
) -> dict[str, Any]:
    """DescribeImages' Image for one template."""
    windows = "windows" in template.os_type.lower()
    owner = codec.account_number(template.account_id)
    size_gib = max(1, math.ceil(template.size_bytes / GIB)) if template.size_bytes else 1
    state = image_state(template)
    view: dict[str, Any] = {
        "ImageId": image_id(codec, template),
        "ImageLocation": _location(template, owner),
        "State": state,
        "OwnerId": owner,
        "CreationDate": _creation_date(template),
        "Public": template.is_public,
        "Architecture": "x86_64",
        "ImageType": "machine",
        "Name": template.name,
        "Description": template.display_text or template.name,
        "RootDeviceType": "ebs",
        "RootDeviceName": ROOT_DEVICE,
        "VirtualizationType": "hvm",
        "Hypervisor": "xen",
        "EnaSupport": False,
        "BootMode": "legacy-bios",  # as every instance type's SupportedBootModes
        "ProductCodes": [],  # no AWS Marketplace here
        "PlatformDetails": "Windows" if windows else "Linux/UNIX",
        "UsageOperation": "RunInstances:0002" if windows else "RunInstances",
        "BlockDeviceMappings": [
            {
                "DeviceName": ROOT_DEVICE,
                "Ebs": {
                    "DeleteOnTermination": True,
                    "VolumeSize": size_gib,
                    "VolumeType": "standard",
                    "Encrypted": False,
                },
            }
        ],
        "Tags": tags or [],
    }
    if state == "failed":
        view["StateReason"] = {"Code": "Client.InvalidImage", "Message": template.status}
    if windows:
        view["Platform"] = "windows"
    alias = owner_alias(template)
    if alias:
        view["ImageOwnerAlias"] = alias
    return view


def owner_predicate(
    codec: IdCodec, ctx: CallContext, owners: Sequence[str]
) -> Callable[[Template], bool]:
    """DescribeImages' `Owners`: "self", "amazon" or account numbers, any of them (OR)."""
    checks: list[Callable[[Template], bool]] = []
    for owner in owners:
        if owner == "self":
            checks.append(lambda t: t.account_id == ctx.account_id)
        elif owner == AMAZON:
            checks.append(is_amazon)
        elif owner == "aws-marketplace":
            checks.append(lambda t: False)
        elif owner.isdigit() and len(owner) == 12:
            checks.append(lambda t, number=owner: codec.account_number(t.account_id) == number)
        else:
            raise InvalidParameter(f"Invalid value '{owner}' for Owner", parameter="Owner")
    return lambda template: any(check(template) for check in checks)


def executable_predicate(
    codec: IdCodec, ctx: CallContext, users: Sequence[str], shared: dict[int, list[int]]
) -> Callable[[Template], bool]:
    """DescribeImages' `ExecutableUsers`: images with explicit launch permission (OR).

    "all" finds public images; "self" (or the caller's own number) images shared with the
    caller; another account number the images shared with that account.
    """
    own = codec.account_number(ctx.account_id)
    checks: list[Callable[[Template], bool]] = []
    for user in users:
        if user == "all":
            checks.append(lambda t: t.is_public)
            continue
        if user == "self":
            user = own
        if not (user.isdigit() and len(user) == 12):
            raise InvalidParameter(
                f"Invalid value '{user}' for ExecutableBy", parameter="ExecutableBy"
            )
        account_id = codec.account_id(user)
        checks.append(lambda t, a=account_id: a is not None and a in shared.get(t.id, ()))
    return lambda template: any(check(template) for check in checks)
