"""List parameters as hand-written clients send them (libcloud's EC2 driver, old scripts).

AWS reads `Name.N` indexes as an order only: 0-based lists (libcloud's CreateTags sends
`ResourceId.0`, `Tag.0.Key`) and gaps work, and a bare scalar list member (`KeyName=x`, as
libcloud's get_key_pair sends it) is a list of one. Found by conformance/test_libcloud_ec2.py.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

from tests.ec2_api.conftest import signed_post

NS = "{http://ec2.amazonaws.com/doc/2016-11-15/}"
VERSION = {"Version": "2016-11-15"}


def key_names(response: Any) -> list[str]:
    assert response.status_code == 200, response.text
    root = ET.fromstring(response.content)
    return [item.findtext(f"{NS}keyName") or "" for item in root.iter(f"{NS}item")]


def test_zero_based_and_sparse_indexes(ec2: Any) -> None:
    group_id = ec2.create_security_group(GroupName="wire-lists", Description="d")["GroupId"]
    try:
        response = signed_post(
            ec2,
            {
                "Action": "CreateTags",
                **VERSION,
                "ResourceId.0": group_id,
                "Tag.0.Key": "first",
                "Tag.0.Value": "a",
                "Tag.7.Key": "second",
                "Tag.7.Value": "b",
            },
        )
        assert response.status_code == 200, response.text
        tags = ec2.describe_security_groups(GroupIds=[group_id])["SecurityGroups"][0]["Tags"]
        assert sorted((t["Key"], t["Value"]) for t in tags) == [("first", "a"), ("second", "b")]
        # Filters numbered 1 and 3 are both applied (AND): nothing has second=a.
        response = signed_post(
            ec2,
            {
                "Action": "DescribeSecurityGroups",
                **VERSION,
                "Filter.1.Name": "tag:first",
                "Filter.1.Value.1": "a",
                "Filter.3.Name": "tag:second",
                "Filter.3.Value.1": "a",
            },
        )
        assert response.status_code == 200, response.text
        assert ET.fromstring(response.content).find(f"{NS}securityGroupInfo/{NS}item") is None
    finally:
        ec2.delete_security_group(GroupId=group_id)


def test_bare_scalar_list_member_is_a_list_of_one(ec2: Any) -> None:
    ec2.create_key_pair(KeyName="wire-bare-1")
    ec2.create_key_pair(KeyName="wire-bare-2")
    try:
        bare = signed_post(ec2, {"Action": "DescribeKeyPairs", **VERSION, "KeyName": "wire-bare-2"})
        assert key_names(bare) == ["wire-bare-2"]
        missing = signed_post(ec2, {"Action": "DescribeKeyPairs", **VERSION, "KeyName": "nope"})
        assert missing.status_code == 400
        assert ET.fromstring(missing.content).findtext("Errors/Error/Code") == (
            "InvalidKeyPair.NotFound"
        )
        indexed = signed_post(
            ec2,
            {
                "Action": "DescribeKeyPairs",
                **VERSION,
                "KeyName.2": "wire-bare-1",
                "KeyName.5": "wire-bare-2",
            },
        )
        assert sorted(key_names(indexed)) == ["wire-bare-1", "wire-bare-2"]
    finally:
        ec2.delete_key_pair(KeyName="wire-bare-1")
        ec2.delete_key_pair(KeyName="wire-bare-2")
