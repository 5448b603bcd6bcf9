"""Signatures: SigV4 headers, presigned GET/PUT fetched with plain HTTP clients, SigV2."""

from __future__ import annotations

import datetime as dt
import urllib.error
import urllib.request
import xml.etree.ElementTree as ET

import httpx
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import Credentials, S3Server, error_of
from tests.support.aws_signing import botocore_clock


def test_unknown_access_key(s3_server: S3Server) -> None:
    client = s3_server.client(Credentials("AKNOBODY", "whatever"))
    with pytest.raises(ClientError) as raised:
        client.list_buckets()
    assert error_of(raised) == ("InvalidAccessKeyId", 403)


def test_wrong_secret(s3_server: S3Server) -> None:
    client = s3_server.client(Credentials(s3_server.admin.access_key, "wrong-secret"))
    with pytest.raises(ClientError) as raised:
        client.list_buckets()
    assert error_of(raised) == ("SignatureDoesNotMatch", 403)
    assert raised.value.response["Error"]["StringToSign"].startswith("AWS4-HMAC-SHA256\n")


def test_anonymous_requests_are_refused(s3_server: S3Server, bucket: str) -> None:
    response = httpx.get(f"{s3_server.url}/{bucket}")
    assert response.status_code == 403
    assert ET.fromstring(response.content).findtext("Code") == "AccessDenied"


def test_request_time_too_skewed(s3_server: S3Server) -> None:
    # A client clock an hour behind.
    past = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
    with botocore_clock(past), pytest.raises(ClientError) as raised:
        s3_server.client().list_buckets()
    assert error_of(raised) == ("RequestTimeTooSkewed", 403)


def test_presigned_get_with_urllib(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="shared/report.txt", Body=b"presigned content")
    url = s3.generate_presigned_url(
        "get_object", Params={"Bucket": bucket, "Key": "shared/report.txt"}, ExpiresIn=300
    )
    with urllib.request.urlopen(url, timeout=30) as response:
        assert response.status == 200
        assert response.read() == b"presigned content"


def test_presigned_put_with_httpx(s3: BaseClient, bucket: str) -> None:
    url = s3.generate_presigned_url(
        "put_object", Params={"Bucket": bucket, "Key": "uploaded.bin"}, ExpiresIn=300
    )
    response = httpx.put(url, content=b"sent without an SDK")
    assert response.status_code == 200, response.text
    assert s3.get_object(Bucket=bucket, Key="uploaded.bin")["Body"].read() == b"sent without an SDK"


def test_expired_presigned_url(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"x")
    # Signed ten seconds ago, valid for the shortest time SigV4 allows: expired nine seconds ago.
    with botocore_clock(dt.datetime.now(dt.UTC) - dt.timedelta(seconds=10)):
        url = s3.generate_presigned_url(
            "get_object", Params={"Bucket": bucket, "Key": "k"}, ExpiresIn=1
        )
    with pytest.raises(urllib.error.HTTPError) as raised:
        urllib.request.urlopen(url, timeout=30)
    assert raised.value.code == 403
    assert ET.fromstring(raised.value.read()).findtext("Code") == "AccessDenied"


def test_tampered_presigned_url(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a", Body=b"a")
    s3.put_object(Bucket=bucket, Key="b", Body=b"b")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": bucket, "Key": "a"})
    response = httpx.get(url.replace(f"/{bucket}/a?", f"/{bucket}/b?"))
    assert response.status_code == 403
    assert ET.fromstring(response.content).findtext("Code") == "SignatureDoesNotMatch"


def test_signature_v2_clients(s3_server: S3Server, bucket: str) -> None:
    client = s3_server.client(signature_version="s3")
    client.put_object(Bucket=bucket, Key="v2", Body=b"signed the old way")
    assert client.get_object(Bucket=bucket, Key="v2")["Body"].read() == b"signed the old way"
