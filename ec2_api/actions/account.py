"""Who the caller is: STS GetCallerIdentity and EC2 DescribeAccountAttributes.

Terraform's aws provider, and many scripts, ask STS for the account id before anything else;
it is answered on the EC2 endpoint (signed for service "sts", in STS's wire format), so that
pointing the STS endpoint at cloudgate's EC2 URL is enough. A cloudgate user is an IAM user of
its account: `arn:aws:iam::<12-digit account>:user/<username>`.
"""

from __future__ import annotations

import hashlib
from typing import Any

from core.limits import ResourceType, account_limit
from core.networks.vpcs import list_vpcs
from core.visibility import ListScope
from ec2_api.action import Action
from ec2_api.call import Call
from ec2_api.errors import invalid_value
from translators.ids import VPC

USER_ID_PREFIX = "AIDA"  # what AWS's IAM user ids start with
SECURITY_GROUPS_PER_INTERFACE = 5  # AWS's default quota; the core sets no such limit


def user_id(call: Call) -> str:
    """A stable IAM-style user id (AIDA + 17 characters) for the calling user."""
    digest = hashlib.sha256(f"{call.ids.account_number(call.ctx.account_id)}/{call.ctx.user_id}"
                            .encode()).hexdigest()  # fmt: skip
    return USER_ID_PREFIX + digest[:17].upper()


def get_caller_identity(call: Call) -> dict[str, Any]:
    account = call.ids.account_number(call.ctx.account_id)
    username = call.ctx.username or call.ctx.account_name or str(call.ctx.user_id)
    return {
        "UserId": user_id(call),
        "Account": account,
        "Arn": f"arn:aws:iam::{account}:user/{username}",
    }


def _limit(call: Call, resource: ResourceType) -> str:
    return str(account_limit(call.session, call.ctx.account_id, resource))


def _default_vpc(call: Call) -> str:
    """The account's default VPC id (the core makes it with the account), else "none"."""
    vpcs, _ = list_vpcs(call.session, call.ctx, ListScope(), is_default=True)
    return call.ids.encode(VPC, vpcs[0].id) if vpcs else "none"


ATTRIBUTES = {
    "supported-platforms": lambda call: ["VPC"],
    "default-vpc": lambda call: [_default_vpc(call)],
    "max-instances": lambda call: [_limit(call, ResourceType.USER_VM)],
    "max-elastic-ips": lambda call: [_limit(call, ResourceType.PUBLIC_IP)],
    "vpc-max-elastic-ips": lambda call: [_limit(call, ResourceType.PUBLIC_IP)],
    "vpc-max-security-groups-per-interface": lambda call: [str(SECURITY_GROUPS_PER_INTERFACE)],
}


def describe_account_attributes(call: Call) -> dict[str, Any]:
    names = call.get("AttributeNames") or list(ATTRIBUTES)
    unknown = [name for name in names if name not in ATTRIBUTES]
    if unknown:
        raise invalid_value(f"Invalid attribute name: {unknown[0]}")
    return {
        "AccountAttributes": [
            {
                "AttributeName": name,
                "AttributeValues": [{"AttributeValue": v} for v in ATTRIBUTES[name](call)],
            }
            for name in dict.fromkeys(names)
        ]
    }


ACTIONS = (
    Action(
        "GetCallerIdentity",
        get_caller_identity,
        service="sts",
        notes="STS, answered on the EC2 endpoint (sign for service `sts`); the user's ARN is "
        "`arn:aws:iam::<account>:user/<username>`",
    ),
    Action(
        "DescribeAccountAttributes",
        describe_account_attributes,
        notes="max-instances and max-elastic-ips are the account's core limits (-1: unlimited); "
        "platforms: VPC only",
    ),
)
