"""Regions, zones, account attributes and STS GetCallerIdentity, through boto3 over HTTP."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.ec2_api.conftest import REGION, Keys, create_user, ec2_client
from tests.support.server import ServerProcess


def error_code(raised: pytest.ExceptionInfo[ClientError]) -> str:
    return str(raised.value.response["Error"]["Code"])


def sts_client(server: ServerProcess, keys: Keys) -> Any:
    return boto3.client(
        "sts",
        region_name=REGION,
        endpoint_url=server.ec2_url,
        aws_access_key_id=keys.access_key,
        aws_secret_access_key=keys.secret_key,
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_get_caller_identity_names_the_user_and_account(
    server: ServerProcess, admin_keys: Keys, ec2: Any
) -> None:
    identity = sts_client(server, admin_keys).get_caller_identity()
    account = identity["Account"]
    assert re.fullmatch(r"\d{12}", account)
    assert identity["Arn"] == f"arn:aws:iam::{account}:user/admin"
    assert re.fullmatch(r"AIDA[0-9A-Z]{17}", identity["UserId"])
    # The same account number EC2 shows as the owner of the admin's resources.
    group = ec2.describe_security_groups(GroupNames=["default"])["SecurityGroups"][0]
    assert group["OwnerId"] == account


def test_get_caller_identity_differs_per_account(server: ServerProcess, admin_keys: Keys) -> None:
    mine = sts_client(server, admin_keys).get_caller_identity()
    theirs = sts_client(server, create_user(server, "sts-other")).get_caller_identity()
    assert theirs["Account"] != mine["Account"]
    assert theirs["UserId"] != mine["UserId"]
    assert theirs["Arn"].endswith(":user/sts-other")


def test_get_caller_identity_speaks_sts_wire_format(
    server: ServerProcess, admin_keys: Keys
) -> None:
    client = sts_client(server, admin_keys)
    captured: dict[str, bytes] = {}
    client.meta.events.register(
        "after-call.sts.GetCallerIdentity",
        lambda http_response, **_: captured.update(body=http_response.content),
    )
    client.get_caller_identity()
    body = captured["body"].decode()
    assert body.startswith(
        '<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/">'
    )
    assert "<GetCallerIdentityResult><UserId>" in body
    assert "<ResponseMetadata><RequestId>" in body


def test_get_caller_identity_bad_secret_is_refused_in_sts_format(
    server: ServerProcess, admin_keys: Keys
) -> None:
    client = sts_client(server, Keys(admin_keys.access_key, "wrong" + admin_keys.secret_key))
    with pytest.raises(ClientError) as raised:
        client.get_caller_identity()
    assert error_code(raised) == "SignatureDoesNotMatch"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_sts_scope_is_accepted_for_sts_actions_only(ec2: Any, server: ServerProcess) -> None:
    # An EC2 action signed for "sts" is refused: the scope must name the action's service.
    credentials = ec2._request_signer._credentials
    body = "Action=DescribeRegions&Version=2016-11-15"
    request = AWSRequest(
        method="POST",
        url=server.ec2_url + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(credentials, "sts", REGION).add_auth(request)
    answer = httpx.post(server.ec2_url + "/", content=body, headers=dict(request.headers.items()))
    assert answer.status_code in (400, 401, 403)
    assert "<Code>DescribeRegions</Code>" not in answer.text
    assert "Credential should be scoped to correct service" in answer.text


def test_describe_regions(ec2: Any, server: ServerProcess) -> None:
    regions = ec2.describe_regions(AllRegions=True)["Regions"]
    assert [r["RegionName"] for r in regions] == [REGION]
    assert regions[0]["OptInStatus"] == "opt-in-not-required"
    by_endpoint = ec2.describe_regions(
        Filters=[{"Name": "endpoint", "Values": [regions[0]["Endpoint"]]}]
    )["Regions"]
    assert by_endpoint == regions


def test_describe_availability_zones_by_id_state_and_filters(ec2: Any) -> None:
    zones = ec2.describe_availability_zones()["AvailabilityZones"]
    zone = zones[0]
    assert zone["State"] == "available"
    assert zone["ZoneType"] == "availability-zone"
    for name, values in (
        ("state", ["available"]),
        ("zone-id", [zone["ZoneId"]]),
        ("region-name", [REGION]),
        ("zone-type", ["availability-zone"]),
    ):
        found = ec2.describe_availability_zones(Filters=[{"Name": name, "Values": values}])
        assert found["AvailabilityZones"] == zones, name
    assert (
        ec2.describe_availability_zones(Filters=[{"Name": "state", "Values": ["unavailable"]}])[
            "AvailabilityZones"
        ]
        == []
    )
    with pytest.raises(ClientError) as raised:
        ec2.describe_availability_zones(ZoneIds=[f"{REGION}-az999999"])
    assert error_code(raised) == "InvalidParameterValue"


def test_describe_account_attributes(ec2: Any, server: ServerProcess) -> None:
    attributes = {
        a["AttributeName"]: [v["AttributeValue"] for v in a["AttributeValues"]]
        for a in ec2.describe_account_attributes()["AccountAttributes"]
    }
    assert attributes["supported-platforms"] == ["VPC"]
    assert attributes["vpc-max-security-groups-per-interface"] == ["5"]
    assert attributes["max-instances"] == ["-1"]  # the root admin is unlimited
    [default_vpc] = attributes["default-vpc"]
    vpcs = ec2.describe_vpcs(Filters=[{"Name": "is-default", "Values": ["true"]}])["Vpcs"]
    assert default_vpc == (vpcs[0]["VpcId"] if vpcs else "none")
    user = create_user(server, "attrs-user")
    limited = ec2_client(server, user).describe_account_attributes(
        AttributeNames=["supported-platforms"]
    )["AccountAttributes"]
    assert [a["AttributeName"] for a in limited] == ["supported-platforms"]
    max_instances = ec2_client(server, user).describe_account_attributes()["AccountAttributes"]
    values = {a["AttributeName"]: a["AttributeValues"][0]["AttributeValue"] for a in max_instances}
    assert values["max-instances"] == "20"  # CloudStack's max.account.user.vms default
    with pytest.raises(ClientError) as raised:
        ec2.describe_account_attributes(AttributeNames=["colour"])
    assert error_code(raised) == "InvalidParameterValue"


def test_get_caller_identity_unknown_key_is_invalid_client_token(server: ServerProcess) -> None:
    client = sts_client(server, Keys("AKNOBODY0000000000000", "secret"))
    with pytest.raises(ClientError) as raised:
        client.get_caller_identity()
    assert error_code(raised) == "InvalidClientTokenId"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_awscli_sts_with_the_endpoint_cloudgate_env_exports(
    server: ServerProcess, admin_keys: Keys, tmp_path: Path
) -> None:
    env = {
        **os.environ,
        "AWS_ACCESS_KEY_ID": admin_keys.access_key,
        "AWS_SECRET_ACCESS_KEY": admin_keys.secret_key,
        "AWS_DEFAULT_REGION": REGION,
        "AWS_ENDPOINT_URL_STS": server.ec2_url,
        "AWS_CONFIG_FILE": str(tmp_path / "config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(tmp_path / "credentials"),
    }
    done = subprocess.run(
        ["aws", "sts", "get-caller-identity", "--output", "json"],
        env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    identity = json.loads(done.stdout)
    assert identity["Arn"] == f"arn:aws:iam::{identity['Account']}:user/admin"
