"""DescribeVpcs' `isDefault` filter: the wire name of the field, which AWS accepts beside the
documented `is-default` and Ansible's amazon.aws (ec2_instance, ec2_vpc_net_info …) sends to
find the default VPC; it used to be refused as an invalid filter."""

from __future__ import annotations

from typing import Any

import pytest

from tests.ec2_api.conftest import create_user, ec2_client
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def client(server: ServerProcess) -> Any:
    return ec2_client(server, create_user(server, "vpc-filter-names"))


def vpc_ids(client: Any, name: str, value: str) -> list[str]:
    vpcs = client.describe_vpcs(Filters=[{"Name": name, "Values": [value]}])["Vpcs"]
    return [vpc["VpcId"] for vpc in vpcs]


def test_is_default_by_its_wire_name(client: Any) -> None:
    client.create_vpc(CidrBlock="10.40.0.0/16")
    everything = vpc_ids(client, "vpc-id", "*")
    default = vpc_ids(client, "isDefault", "true")
    assert len(everything) == 2 and len(default) == 1
    assert default == vpc_ids(client, "is-default", "true")
    assert vpc_ids(client, "isDefault", "false") == vpc_ids(client, "is-default", "false")
    assert set(vpc_ids(client, "isDefault", "false")) == set(everything) - set(default)
