"""A VPC's route table, internet gateway, network ACL and DHCP options through boto3: derived
from the VPC, filterable, refused by id when unknown or someone else's."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest
from botocore.exceptions import ClientError


@pytest.fixture(scope="module")
def tenant_name() -> str:
    return "vpc-views"


@pytest.fixture(scope="module")
def vpc(client: Any) -> Iterator[dict[str, Any]]:
    made = client.create_vpc(CidrBlock="10.61.0.0/16")["Vpc"]
    subnet = client.create_subnet(VpcId=made["VpcId"], CidrBlock="10.61.1.0/24")["Subnet"]
    yield {**made, "SubnetId": subnet["SubnetId"]}
    client.delete_subnet(SubnetId=subnet["SubnetId"])
    client.delete_vpc(VpcId=made["VpcId"])


def code(call: Callable[..., Any], **params: Any) -> str:
    with pytest.raises(ClientError) as raised:
        call(**params)
    return str(raised.value.response["Error"]["Code"])


def by(name: str, *values: str) -> list[dict[str, Any]]:
    return [{"Name": name, "Values": list(values)}]


def test_each_vpc_has_a_main_route_table_through_its_gateway(
    client: Any, vpc: dict[str, Any]
) -> None:
    tables = client.describe_route_tables()["RouteTables"]
    assert len(tables) == 2  # the default VPC's and this one's
    [table] = client.describe_route_tables(Filters=by("vpc-id", vpc["VpcId"]))["RouteTables"]
    assert table["RouteTableId"].startswith("rtb-") and table["OwnerId"] == vpc["OwnerId"]
    [association] = table["Associations"]
    assert association["Main"] is True and association["RouteTableId"] == table["RouteTableId"]
    assert association["RouteTableAssociationId"].startswith("rtbassoc-")
    [gateway] = client.describe_internet_gateways(Filters=by("attachment.vpc-id", vpc["VpcId"]))[
        "InternetGateways"
    ]
    assert gateway["Attachments"] == [{"State": "available", "VpcId": vpc["VpcId"]}]
    routes = [(r["DestinationCidrBlock"], r["GatewayId"], r["State"]) for r in table["Routes"]]
    assert routes == [
        ("10.61.0.0/16", "local", "active"),
        ("0.0.0.0/0", gateway["InternetGatewayId"], "active"),
    ]
    # Terraform finds a VPC's main table so; a subnet has no explicit association.
    main = by("association.main", "true") + by("vpc-id", vpc["VpcId"])
    assert client.describe_route_tables(Filters=main)["RouteTables"] == [table]
    explicit = by("association.subnet-id", vpc["SubnetId"])
    assert client.describe_route_tables(Filters=explicit)["RouteTables"] == []
    via_gateway = by("route.gateway-id", gateway["InternetGatewayId"])
    assert client.describe_route_tables(Filters=via_gateway)["RouteTables"] == [table]
    assert client.describe_route_tables(RouteTableIds=[table["RouteTableId"]])["RouteTables"] == [
        table
    ]
    assert client.describe_route_tables(Filters=by("tag:Name", "*"))["RouteTables"] == []
    gateways = client.describe_internet_gateways()["InternetGateways"]
    assert len(gateways) == 2
    assert client.describe_internet_gateways(InternetGatewayIds=[gateway["InternetGatewayId"]])[
        "InternetGateways"
    ] == [gateway]


def test_the_default_acl_allows_all_on_every_subnet(client: Any, vpc: dict[str, Any]) -> None:
    [acl] = client.describe_network_acls(Filters=by("association.subnet-id", vpc["SubnetId"]))[
        "NetworkAcls"
    ]
    assert acl["VpcId"] == vpc["VpcId"] and acl["IsDefault"] is True
    assert [a["SubnetId"] for a in acl["Associations"]] == [vpc["SubnetId"]]
    assert acl["Associations"][0]["NetworkAclAssociationId"].startswith("aclassoc-")
    entries = {(e["Egress"], e["RuleNumber"], e["RuleAction"]) for e in acl["Entries"]}
    assert entries == {
        (True, 100, "allow"),
        (True, 32767, "deny"),
        (False, 100, "allow"),
        (False, 32767, "deny"),
    }
    assert {(e["CidrBlock"], e["Protocol"]) for e in acl["Entries"]} == {("0.0.0.0/0", "-1")}
    defaults = client.describe_network_acls(Filters=by("default", "true"))["NetworkAcls"]
    assert len(defaults) == 2
    [default_vpc] = client.describe_vpcs(Filters=by("is-default", "true"))["Vpcs"]
    [of_default] = client.describe_network_acls(Filters=by("vpc-id", default_vpc["VpcId"]))[
        "NetworkAcls"
    ]
    subnets = client.describe_subnets(Filters=by("vpc-id", default_vpc["VpcId"]))["Subnets"]
    assert {a["SubnetId"] for a in of_default["Associations"]} == {s["SubnetId"] for s in subnets}


def test_one_dhcp_options_set_named_by_every_vpc(client: Any, vpc: dict[str, Any]) -> None:
    [options] = client.describe_dhcp_options()["DhcpOptions"]
    assert options["DhcpOptionsId"].startswith("dopt-")
    assert {v["DhcpOptionsId"] for v in client.describe_vpcs()["Vpcs"]} == {
        options["DhcpOptionsId"]
    }
    config = {c["Key"]: [v["Value"] for v in c["Values"]] for c in options["DhcpConfigurations"]}
    assert config["domain-name-servers"] == ["AmazonProvidedDNS"]
    assert config["domain-name"][0].endswith(".compute.internal")
    found = client.describe_dhcp_options(Filters=by("key", "domain-name-servers"))
    assert found["DhcpOptions"] == [options]
    assert client.describe_dhcp_options(Filters=by("value", "8.8.8.8"))["DhcpOptions"] == []
    asked = client.describe_dhcp_options(DhcpOptionsIds=[options["DhcpOptionsId"]])
    assert asked["DhcpOptions"] == [options]


def test_unknown_malformed_and_others_ids(client: Any, ec2_other: Any, vpc: dict[str, Any]) -> None:
    [table] = client.describe_route_tables(Filters=by("vpc-id", vpc["VpcId"]))["RouteTables"]
    [gateway] = client.describe_internet_gateways(Filters=by("attachment.vpc-id", vpc["VpcId"]))[
        "InternetGateways"
    ]
    [acl] = client.describe_network_acls(Filters=by("vpc-id", vpc["VpcId"]))["NetworkAcls"]
    [options] = client.describe_dhcp_options()["DhcpOptions"]
    cases = (
        ("describe_route_tables", "RouteTableIds", table["RouteTableId"], "InvalidRouteTableID"),
        (
            "describe_internet_gateways",
            "InternetGatewayIds",
            gateway["InternetGatewayId"],
            "InvalidInternetGatewayID",
        ),
        ("describe_network_acls", "NetworkAclIds", acl["NetworkAclId"], "InvalidNetworkAclID"),
        (
            "describe_dhcp_options",
            "DhcpOptionsIds",
            options["DhcpOptionsId"],
            "InvalidDhcpOptionID",
        ),
    )
    malformed = {
        "describe_route_tables": "InvalidRouteTableId.Malformed",
        "describe_internet_gateways": "InvalidInternetGatewayId.Malformed",
        "describe_network_acls": "InvalidNetworkAclId.Malformed",
        "describe_dhcp_options": "InvalidDhcpOptionsId.Malformed",
    }
    for action, parameter, own_id, not_found in cases:
        prefix = own_id.split("-")[0]
        unknown = f"{prefix}-0123456789abcdef0"
        assert code(getattr(client, action), **{parameter: [unknown]}) == f"{not_found}.NotFound"
        bad = f"{prefix}-xyz"
        assert code(getattr(client, action), **{parameter: [bad]}) == malformed[action]
        # Another tenant: not found by id, absent from its lists.
        assert code(getattr(ec2_other, action), **{parameter: [own_id]}) == f"{not_found}.NotFound"
        listed = str(getattr(ec2_other, action)())
        assert own_id not in listed
