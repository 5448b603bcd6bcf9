"""Security groups through boto3: groups, IpPermissions ⇄ core rules, errors, tenants, one core."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError
from cs import CloudStack

from tests.ec2_api.conftest import FAST_WAITER, error_code

SSH = {"IpProtocol": "tcp", "FromPort": 22, "ToPort": 22}


@pytest.fixture
def make_group(ec2: Any) -> Iterator[Callable[..., str]]:
    """CreateSecurityGroup; the groups are deleted again at teardown (newest first)."""
    made: list[tuple[Any, str]] = []

    def make(name: str, client: Any = None, **params: Any) -> str:
        client = client or ec2
        group_id = str(
            client.create_security_group(GroupName=name, Description=f"{name} group", **params)[
                "GroupId"
            ]
        )
        made.append((client, group_id))
        return group_id

    yield make
    for client, group_id in reversed(made):
        try:
            client.delete_security_group(GroupId=group_id)
        except ClientError as error:
            assert error.response["Error"]["Code"] == "InvalidGroup.NotFound"


def _group(ec2: Any, group_id: str) -> dict[str, Any]:
    [group] = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"]
    return dict(group)


def test_create_describe_delete(ec2: Any, make_group: Callable[..., str]) -> None:
    group_id = make_group(
        "web",
        TagSpecifications=[
            {"ResourceType": "security-group", "Tags": [{"Key": "tier", "Value": "front"}]}
        ],
    )
    assert group_id.startswith("sg-") and len(group_id) == 20
    ec2.get_waiter("security_group_exists").wait(GroupIds=[group_id], WaiterConfig=FAST_WAITER)
    group = _group(ec2, group_id)
    assert group["GroupName"] == "web"
    assert group["Description"] == "web group"
    assert group["OwnerId"].isdigit() and len(group["OwnerId"]) == 12
    assert group["Tags"] == [{"Key": "tier", "Value": "front"}]
    assert group["IpPermissions"] == []
    # A new group allows all egress, as on AWS.
    [egress] = group["IpPermissionsEgress"]
    assert egress["IpProtocol"] == "-1"
    assert egress["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert "FromPort" not in egress
    by_name = ec2.describe_security_groups(GroupNames=["web"])["SecurityGroups"]
    assert [g["GroupId"] for g in by_name] == [group_id]

    with pytest.raises(ClientError) as raised:
        ec2.create_security_group(GroupName="web", Description="again")
    assert error_code(raised) == "InvalidGroup.Duplicate"

    ec2.delete_security_group(GroupId=group_id)
    with pytest.raises(ClientError) as raised:
        ec2.describe_security_groups(GroupIds=[group_id])
    assert error_code(raised) == "InvalidGroup.NotFound"
    assert f"'{group_id}'" in raised.value.response["Error"]["Message"]


def test_default_group_and_bad_names(ec2: Any) -> None:
    [default] = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"]
    with pytest.raises(ClientError) as raised:
        ec2.delete_security_group(GroupId=default["GroupId"])
    assert error_code(raised) == "CannotDelete"
    with pytest.raises(ClientError) as raised:
        ec2.delete_security_group(GroupName="default")
    assert error_code(raised) == "CannotDelete"
    with pytest.raises(ClientError) as raised:
        ec2.create_security_group(GroupName="default", Description="x")
    assert error_code(raised) == "InvalidGroup.Duplicate"
    with pytest.raises(ClientError) as raised:
        ec2.create_security_group(GroupName="sg-12345678", Description="x")
    assert error_code(raised) == "InvalidParameterValue"
    with pytest.raises(ClientError) as raised:
        ec2.describe_security_groups(GroupIds=["sg-nothex"])
    assert error_code(raised) == "InvalidGroupId.Malformed"
    with pytest.raises(ClientError) as raised:
        ec2.delete_security_group(GroupName="no-such-group")
    assert error_code(raised) == "InvalidGroup.NotFound"


def test_ip_permissions_round_trip(ec2: Any, make_group: Callable[..., str]) -> None:
    source = make_group("sources")
    group_id = make_group("app")
    result = ec2.authorize_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[
            {**SSH, "IpRanges": [{"CidrIp": "10.0.0.0/8", "Description": "office"}]},
            {
                "IpProtocol": "tcp",
                "FromPort": 80,
                "ToPort": 81,
                "IpRanges": [{"CidrIp": "0.0.0.0/0"}],
                "Ipv6Ranges": [{"CidrIpv6": "::/0"}],
            },
            {
                "IpProtocol": "icmp",
                "FromPort": 8,
                "ToPort": -1,
                "IpRanges": [{"CidrIp": "1.2.3.4/32"}],
            },
            {"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": source, "Description": "peers"}]},
        ],
    )
    assert result["Return"] is True
    rules = result["SecurityGroupRules"]
    assert len(rules) == 5
    assert all(r["SecurityGroupRuleId"].startswith("sgr-") for r in rules)
    assert all(r["GroupId"] == group_id and r["IsEgress"] is False for r in rules)
    assert rules[0]["CidrIpv4"] == "10.0.0.0/8" and rules[0]["Description"] == "office"
    assert rules[4]["ReferencedGroupInfo"]["GroupId"] == source
    assert (rules[4]["IpProtocol"], rules[4]["FromPort"], rules[4]["ToPort"]) == ("-1", -1, -1)

    permissions = {
        (p["IpProtocol"], p.get("FromPort"), p.get("ToPort")): p
        for p in _group(ec2, group_id)["IpPermissions"]
    }
    assert set(permissions) == {
        ("tcp", 22, 22),
        ("tcp", 80, 81),
        ("icmp", 8, -1),
        ("-1", None, None),
    }
    assert permissions[("tcp", 22, 22)]["IpRanges"] == [
        {"CidrIp": "10.0.0.0/8", "Description": "office"}
    ]
    assert permissions[("tcp", 80, 81)]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert permissions[("tcp", 80, 81)]["Ipv6Ranges"] == [{"CidrIpv6": "::/0"}]
    [pair] = permissions[("-1", None, None)]["UserIdGroupPairs"]
    assert pair["GroupId"] == source and pair["Description"] == "peers"
    assert pair["UserId"] == _group(ec2, group_id)["OwnerId"]

    # A duplicate is refused, and the request's other, new rule is not half-written.
    with pytest.raises(ClientError) as raised:
        ec2.authorize_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[
                {**SSH, "IpRanges": [{"CidrIp": "192.168.0.0/16"}]},
                {**SSH, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]},
            ],
        )
    assert error_code(raised) == "InvalidPermission.Duplicate"
    cidrs = [r["CidrIp"] for p in _group(ec2, group_id)["IpPermissions"] for r in p["IpRanges"]]
    assert "192.168.0.0/16" not in cidrs

    # The referenced group is in use by a rule.
    with pytest.raises(ClientError) as raised:
        ec2.delete_security_group(GroupId=source)
    assert error_code(raised) == "DependencyViolation"

    revoked = ec2.revoke_security_group_ingress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": source}]}],
    )
    assert revoked["Return"] is True
    assert (
        revoked["RevokedSecurityGroupRules"][0]["SecurityGroupRuleId"]
        == rules[4]["SecurityGroupRuleId"]
    )
    with pytest.raises(ClientError) as raised:
        ec2.revoke_security_group_ingress(
            GroupId=group_id,
            IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": source}]}],
        )
    assert error_code(raised) == "InvalidPermission.NotFound"
    ec2.revoke_security_group_ingress(
        GroupId=group_id, SecurityGroupRuleIds=[rules[2]["SecurityGroupRuleId"]]
    )
    remaining = {
        (p["IpProtocol"], p.get("FromPort")): p for p in _group(ec2, group_id)["IpPermissions"]
    }
    assert set(remaining) == {("tcp", 22), ("tcp", 80), ("icmp", 8)}
    assert remaining[("tcp", 80)]["IpRanges"] == [{"CidrIp": "0.0.0.0/0"}]
    assert remaining[("tcp", 80)]["Ipv6Ranges"] == []


def test_legacy_flat_parameters_and_group_names(ec2: Any, make_group: Callable[..., str]) -> None:
    make_group("legacy-src")
    group_id = make_group("legacy")
    ec2.authorize_security_group_ingress(
        GroupName="legacy", IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="10.1.0.0/16"
    )
    ec2.authorize_security_group_ingress(GroupName="legacy", SourceSecurityGroupName="legacy-src")
    permissions = _group(ec2, group_id)["IpPermissions"]
    assert {(p["IpProtocol"], p.get("FromPort")) for p in permissions} == {
        ("tcp", 443),
        ("-1", None),
    }
    ec2.revoke_security_group_ingress(
        GroupName="legacy", IpProtocol="tcp", FromPort=443, ToPort=443, CidrIp="10.1.0.0/16"
    )
    ec2.revoke_security_group_ingress(GroupName="legacy", SourceSecurityGroupName="legacy-src")
    assert _group(ec2, group_id)["IpPermissions"] == []


def test_egress_rules(ec2: Any, make_group: Callable[..., str]) -> None:
    group_id = make_group("egress")
    ec2.revoke_security_group_egress(
        GroupId=group_id,
        IpPermissions=[{"IpProtocol": "-1", "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}],
    )
    assert _group(ec2, group_id)["IpPermissionsEgress"] == []
    added = ec2.authorize_security_group_egress(
        GroupId=group_id,
        IpPermissions=[
            {
                "IpProtocol": "udp",
                "FromPort": 53,
                "ToPort": 53,
                "IpRanges": [{"CidrIp": "8.8.8.8/32"}],
            }
        ],
    )["SecurityGroupRules"]
    assert added[0]["IsEgress"] is True
    [egress] = _group(ec2, group_id)["IpPermissionsEgress"]
    assert (egress["IpProtocol"], egress["FromPort"], egress["ToPort"]) == ("udp", 53, 53)
    # An egress rule is not an ingress rule.
    with pytest.raises(ClientError) as raised:
        ec2.revoke_security_group_ingress(
            GroupId=group_id, SecurityGroupRuleIds=[added[0]["SecurityGroupRuleId"]]
        )
    assert error_code(raised) == "InvalidSecurityGroupRuleId.NotFound"


def test_describe_filters_rules_and_paging(ec2: Any, make_group: Callable[..., str]) -> None:
    ids = [make_group(f"page-{n}") for n in range(6)]
    ec2.authorize_security_group_ingress(
        GroupId=ids[0], IpPermissions=[{**SSH, "IpRanges": [{"CidrIp": "172.16.0.0/12"}]}]
    )
    ec2.create_tags(Resources=[ids[1]], Tags=[{"Key": "pick", "Value": "me"}])

    def found(*filters: dict[str, Any]) -> list[str]:
        groups = ec2.describe_security_groups(Filters=list(filters))["SecurityGroups"]
        return [g["GroupId"] for g in groups]

    assert found({"Name": "ip-permission.from-port", "Values": ["22"]},
                 {"Name": "ip-permission.cidr", "Values": ["172.16.*"]}) == [ids[0]]  # fmt: skip
    assert found({"Name": "tag:pick", "Values": ["me"]}) == [ids[1]]
    assert sorted(found({"Name": "group-name", "Values": ["page-?"]})) == sorted(ids)
    assert ids[2] in found({"Name": "egress.ip-permission.protocol", "Values": ["-1"]})
    assert found({"Name": "description", "Values": ["page-3 group"]}) == [ids[3]]
    with pytest.raises(ClientError) as raised:
        ec2.describe_security_groups(Filters=[{"Name": "bogus", "Values": ["1"]}])
    assert error_code(raised) == "InvalidParameterValue"

    pages = ec2.get_paginator("describe_security_groups").paginate(
        Filters=[{"Name": "group-name", "Values": ["page-*"]}], PaginationConfig={"PageSize": 5}
    )
    sizes = [len(p["SecurityGroups"]) for p in pages]
    assert sizes == [5, 1]

    rules = ec2.describe_security_group_rules(Filters=[{"Name": "group-id", "Values": [ids[0]]}])[
        "SecurityGroupRules"
    ]
    assert {(r["IsEgress"], r["IpProtocol"]) for r in rules} == {(False, "tcp"), (True, "-1")}
    ingress = next(r for r in rules if not r["IsEgress"])
    [same] = ec2.describe_security_group_rules(
        SecurityGroupRuleIds=[ingress["SecurityGroupRuleId"]]
    )["SecurityGroupRules"]
    assert same == ingress
    rule_pages = ec2.get_paginator("describe_security_group_rules").paginate(
        Filters=[{"Name": "group-id", "Values": ids}], PaginationConfig={"PageSize": 5}
    )
    assert [len(p["SecurityGroupRules"]) for p in rule_pages] == [5, 2]
    with pytest.raises(ClientError) as raised:
        ec2.describe_security_group_rules(SecurityGroupRuleIds=["sgr-0123456789abcdef0"])
    assert error_code(raised) == "InvalidSecurityGroupRuleId.NotFound"


def test_other_tenant_cannot_see_or_touch_a_group(
    ec2: Any, ec2_other: Any, make_group: Callable[..., str]
) -> None:
    group_id = make_group("private")
    assert group_id not in {
        g["GroupId"] for g in ec2_other.describe_security_groups()["SecurityGroups"]
    }
    for call, params in (
        (ec2_other.describe_security_groups, {"GroupIds": [group_id]}),
        (ec2_other.delete_security_group, {"GroupId": group_id}),
        (ec2_other.authorize_security_group_ingress,
         {"GroupId": group_id, "IpPermissions": [{**SSH, "IpRanges": [{"CidrIp": "0.0.0.0/0"}]}]}),
    ):  # fmt: skip
        with pytest.raises(ClientError) as raised:
            call(**params)
        assert error_code(raised) == "InvalidGroup.NotFound"
    # Nor can another tenant's group be named as a source.
    theirs = make_group("theirs", client=ec2_other)
    with pytest.raises(ClientError) as raised:
        ec2_other.authorize_security_group_ingress(
            GroupId=theirs,
            IpPermissions=[{"IpProtocol": "-1", "UserIdGroupPairs": [{"GroupId": group_id}]}],
        )
    assert error_code(raised) == "InvalidGroup.NotFound"
    assert _group(ec2, group_id)["IpPermissions"] == []


def test_one_core_security_groups(
    ec2: Any, cloudstack_admin: CloudStack, make_group: Callable[..., str]
) -> None:
    group_id = make_group("via-ec2")
    ec2.authorize_security_group_ingress(
        GroupId=group_id, IpPermissions=[{**SSH, "IpRanges": [{"CidrIp": "10.9.0.0/16"}]}]
    )
    [native] = cloudstack_admin.listSecurityGroups(securitygroupname="via-ec2")["securitygroup"]
    [rule] = native["ingressrule"]
    assert (rule["protocol"], rule["startport"], rule["cidr"]) == ("tcp", 22, "10.9.0.0/16")

    created = cloudstack_admin.createSecurityGroup(name="via-cloudstack")["securitygroup"]
    try:
        cloudstack_admin.authorizeSecurityGroupIngress(
            securitygroupid=created["id"], protocol="udp", startport=53, endport=53,
            cidrlist="10.0.0.0/24",
        )  # fmt: skip
        [group] = ec2.describe_security_groups(GroupNames=["via-cloudstack"])["SecurityGroups"]
        [permission] = group["IpPermissions"]
        assert (permission["IpProtocol"], permission["FromPort"], permission["ToPort"]) == (
            "udp", 53, 53,
        )  # fmt: skip
        assert permission["IpRanges"] == [{"CidrIp": "10.0.0.0/24"}]
        # No egress rule in CloudStack means all egress allowed; EC2 shows the rows as they are.
        assert group["IpPermissionsEgress"] == []
    finally:
        ec2.delete_security_group(GroupName="via-cloudstack")
    assert cloudstack_admin.listSecurityGroups(securitygroupname="via-cloudstack") == {}


def test_modify_security_group_rules_keeps_the_rule_id(
    ec2: Any, make_group: Callable[..., str]
) -> None:
    group_id = make_group("modify")
    [rule] = ec2.authorize_security_group_ingress(
        GroupId=group_id, IpPermissions=[{**SSH, "IpRanges": [{"CidrIp": "10.0.0.0/8"}]}]
    )["SecurityGroupRules"]
    rule_id = rule["SecurityGroupRuleId"]
    ec2.modify_security_group_rules(
        GroupId=group_id,
        SecurityGroupRules=[
            {
                "SecurityGroupRuleId": rule_id,
                "SecurityGroupRule": {
                    "IpProtocol": "tcp",
                    "FromPort": 2222,
                    "ToPort": 2222,
                    "CidrIpv4": "10.2.0.0/16",
                    "Description": "moved",
                },
            }
        ],
    )
    [changed] = ec2.describe_security_group_rules(SecurityGroupRuleIds=[rule_id])[
        "SecurityGroupRules"
    ]
    assert (changed["FromPort"], changed["CidrIpv4"], changed["Description"]) == (
        2222, "10.2.0.0/16", "moved",
    )  # fmt: skip
    with pytest.raises(ClientError) as raised:
        ec2.modify_security_group_rules(
            GroupId=group_id,
            SecurityGroupRules=[
                {"SecurityGroupRuleId": "sgr-0123456789abcdef0", "SecurityGroupRule": {}}
            ],
        )
    assert error_code(raised) == "InvalidSecurityGroupRuleId.NotFound"


def test_groups_live_in_a_vpc(ec2: Any, make_group: Callable[..., str]) -> None:
    [default_vpc] = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    vpc_id = default_vpc["VpcId"]
    plain = make_group("no-vpc-given")
    explicit = make_group("in-vpc", VpcId=vpc_id)
    assert _group(ec2, plain)["VpcId"] == _group(ec2, explicit)["VpcId"] == vpc_id
    in_vpc = ec2.describe_security_groups(Filters=[{"Name": "vpc-id", "Values": [vpc_id]}])
    assert {plain, explicit} <= {g["GroupId"] for g in in_vpc["SecurityGroups"]}
    with pytest.raises(ClientError) as raised:
        ec2.create_security_group(
            GroupName="nowhere", Description="x", VpcId="vpc-0123456789abcdef0"
        )
    assert error_code(raised) == "InvalidVpcID.NotFound"


def test_a_group_in_use_by_an_instance_cannot_be_deleted(
    ec2: Any, make_group: Callable[..., str], launch: Callable[..., dict[str, Any]]
) -> None:
    group_id = make_group("in-use")
    [instance] = launch(SecurityGroupIds=[group_id])["Instances"]
    assert [g["GroupId"] for g in instance["SecurityGroups"]] == [group_id]
    with pytest.raises(ClientError) as raised:
        ec2.delete_security_group(GroupId=group_id)
    assert error_code(raised) == "DependencyViolation"
    assert (
        raised.value.response["Error"]["Message"] == f"resource {group_id} has a dependent object"
    )


def test_dry_run_writes_nothing(ec2: Any) -> None:
    with pytest.raises(ClientError) as raised:
        ec2.create_security_group(GroupName="dry", Description="d", DryRun=True)
    assert error_code(raised) == "DryRunOperation"
    assert (
        ec2.describe_security_groups(Filters=[{"Name": "group-name", "Values": ["dry"]}])[
            "SecurityGroups"
        ]
        == []
    )
