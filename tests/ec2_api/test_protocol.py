"""The wire itself: XML shape, request ids, authentication and protocol errors."""

from __future__ import annotations

import datetime as dt
import re
import xml.etree.ElementTree as ET
from typing import Any

import boto3
import pytest
from botocore.config import Config
from botocore.exceptions import ClientError

from tests.ec2_api.conftest import REGION, signed_post

NS = "http://ec2.amazonaws.com/doc/2016-11-15/"
UUID = r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"


def client_with(server: Any, access_key: str, secret_key: str) -> Any:
    return boto3.client(
        "ec2",
        region_name=REGION,
        endpoint_url=server.ec2_url,
        aws_access_key_id=access_key,
        aws_secret_access_key=secret_key,
        config=Config(retries={"total_max_attempts": 1}),
    )


def test_success_document(ec2: Any) -> None:
    first = signed_post(ec2, {"Action": "DescribeRegions", "Version": "2016-11-15"})
    second = signed_post(ec2, {"Action": "DescribeRegions", "Version": "2016-11-15"})
    assert first.status_code == 200
    assert first.headers["content-type"] == "text/xml;charset=UTF-8"
    root = ET.fromstring(first.content)
    assert root.tag == f"{{{NS}}}DescribeRegionsResponse"
    assert root[0].tag == f"{{{NS}}}requestId"  # first, as AWS puts it
    request_id = root[0].text or ""
    assert re.fullmatch(UUID, request_id)
    assert request_id != ET.fromstring(second.content)[0].text
    assert root.find(f"{{{NS}}}regionInfo/{{{NS}}}item/{{{NS}}}regionName").text == REGION


def test_error_document_for_unknown_action(ec2: Any) -> None:
    response = signed_post(ec2, {"Action": "LaunchRockets", "Version": "2016-11-15"})
    assert response.status_code == 400
    assert response.headers["content-type"] == "text/xml;charset=UTF-8"
    root = ET.fromstring(response.content)
    assert root.tag == "Response"  # no namespace on errors, as on AWS
    assert root.find("Errors/Error/Code").text == "InvalidAction"
    assert "LaunchRockets" in root.find("Errors/Error/Message").text
    assert re.fullmatch(UUID, root.find("RequestID").text or "")


def test_missing_action_and_missing_parameter(ec2: Any) -> None:
    response = signed_post(ec2, {"Version": "2016-11-15"})
    assert response.status_code == 400
    assert "<Code>MissingAction</Code>" in response.text
    response = signed_post(ec2, {"Action": "StopInstances", "Version": "2016-11-15"})
    assert response.status_code == 400
    assert "<Code>MissingParameter</Code>" in response.text
    assert "InstanceId" in response.text


def test_bad_parameter_type(ec2: Any, image_id: str) -> None:
    params = {"Action": "RunInstances", "ImageId": image_id, "MinCount": "one", "MaxCount": "1"}
    response = signed_post(ec2, params)
    assert response.status_code == 400
    assert "<Code>InvalidParameterValue</Code>" in response.text


def test_unknown_access_key(server: Any) -> None:
    client = client_with(server, "AKNOSUCHKEY", "whatever")
    with pytest.raises(ClientError) as raised:
        client.describe_instances()
    assert raised.value.response["Error"]["Code"] == "AuthFailure"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 401


def test_bad_signature(server: Any, admin_keys: Any) -> None:
    client = client_with(server, admin_keys.access_key, admin_keys.secret_key + "x")
    with pytest.raises(ClientError) as raised:
        client.describe_instances()
    assert raised.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    assert raised.value.response["ResponseMetadata"]["HTTPStatusCode"] == 403


def test_tampered_body_fails_the_signature(ec2: Any, admin_keys: Any) -> None:
    response = signed_post(
        ec2, {"Action": "DescribeRegions"}, secret_key=admin_keys.secret_key + "y"
    )
    assert "<Code>SignatureDoesNotMatch</Code>" in response.text


def test_unsigned_request(server: Any) -> None:
    import httpx

    response = httpx.post(server.ec2_url + "/", data={"Action": "DescribeRegions"})
    assert response.status_code == 401
    assert "<Code>MissingAuthenticationToken</Code>" in response.text


def test_expired_request(ec2: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    import botocore.auth

    an_hour_ago = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(hours=1)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: an_hour_ago)
    response = signed_post(ec2, {"Action": "DescribeRegions"})
    assert response.status_code == 400
    assert "<Code>RequestExpired</Code>" in response.text
