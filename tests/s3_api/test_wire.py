"""The wire itself, read raw: XML roots and namespace, error documents, routing answers."""

from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest
from botocore.client import BaseClient

from tests.s3_api.conftest import S3_DOMAIN, S3_NAMESPACE, S3Server, signed_request


def test_list_buckets_document(s3_server: S3Server, bucket: str) -> None:
    response = signed_request(s3_server, "GET", "/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/xml"
    root = ET.fromstring(response.content)
    assert root.tag == f"{S3_NAMESPACE}ListAllMyBucketsResult"
    names = [node.text for node in root.iter(f"{S3_NAMESPACE}Name")]
    assert bucket in names
    assert root.find(f"{S3_NAMESPACE}Owner/{S3_NAMESPACE}ID") is not None


def test_list_objects_v2_document(s3: BaseClient, s3_server: S3Server, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="a&b<c>", Body=b"x")
    response = signed_request(s3_server, "GET", f"/{bucket}", query="list-type=2")
    root = ET.fromstring(response.content)
    assert root.tag == f"{S3_NAMESPACE}ListBucketResult"
    assert root.findtext(f"{S3_NAMESPACE}Name") == bucket
    assert root.findtext(f"{S3_NAMESPACE}KeyCount") == "1"
    assert root.findtext(f"{S3_NAMESPACE}Contents/{S3_NAMESPACE}Key") == "a&b<c>"


def test_error_document(s3_server: S3Server) -> None:
    response = signed_request(s3_server, "GET", "/no-such-bucket-here/some/key")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/xml"
    root = ET.fromstring(response.content)
    assert root.tag == "Error"
    assert root.findtext("Code") == "NoSuchBucket"
    assert root.findtext("Message")
    assert root.findtext("Resource") == "/no-such-bucket-here/some/key"
    assert root.findtext("RequestId") == response.headers["x-amz-request-id"]


def test_head_errors_have_no_body(s3_server: S3Server, bucket: str) -> None:
    response = signed_request(s3_server, "HEAD", f"/{bucket}/absent")
    assert response.status_code == 404
    assert response.content == b""


@pytest.mark.parametrize(
    ("method", "path", "query"),
    [
        ("GET", "/{bucket}", "ownershipControls"),
        ("PUT", "/{bucket}", "website"),
        ("GET", "/{bucket}", "replication"),
        ("GET", "/{bucket}/key", "retention"),
        ("POST", "/{bucket}/key", "select&select-type=2"),
        ("PUT", "/{bucket}", "object-lock"),
    ],
)
def test_unsupported_operations_answer_not_implemented(
    s3_server: S3Server, bucket: str, method: str, path: str, query: str
) -> None:
    response = signed_request(s3_server, method, path.format(bucket=bucket), query=query)
    assert response.status_code == 501
    assert ET.fromstring(response.content).findtext("Code") == "NotImplemented"


def test_method_not_allowed(s3_server: S3Server, bucket: str) -> None:
    response = signed_request(s3_server, "POST", f"/{bucket}/key")
    assert response.status_code == 405
    assert ET.fromstring(response.content).findtext("Code") == "MethodNotAllowed"


def test_virtual_hosted_style(s3: BaseClient, s3_server: S3Server, bucket: str) -> None:
    port = s3_server.url.rsplit(":", 1)[1]
    host = {"Host": f"{bucket}.{S3_DOMAIN}:{port}"}
    put = signed_request(s3_server, "PUT", "/dir/vhost.txt", headers=host, body=b"virtual")
    assert put.status_code == 200, put.text
    got = signed_request(s3_server, "GET", "/dir/vhost.txt", headers=host)
    assert got.content == b"virtual"
    listed = signed_request(s3_server, "GET", "/", query="list-type=2&prefix=dir%2F", headers=host)
    assert ET.fromstring(listed.content).findtext(f"{S3_NAMESPACE}Name") == bucket
    assert s3.get_object(Bucket=bucket, Key="dir/vhost.txt")["Body"].read() == b"virtual"


def test_a_key_no_store_can_hold_is_an_invalid_argument(s3_server: S3Server, bucket: str) -> None:
    response = signed_request(s3_server, "PUT", f"/{bucket}/nul%00byte", body=b"x")
    assert response.status_code == 400
    assert ET.fromstring(response.content).findtext("Code") == "InvalidArgument"
