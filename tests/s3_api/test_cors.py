"""Bucket CORS through boto3 and the aws CLI, and browsers' preflights through plain httpx."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import (
    S3_NAMESPACE,
    Credentials,
    S3Server,
    assert_access_denied,
    aws_s3api,
    error_of,
    signed_request,
)

VARY = "Origin, Access-Control-Request-Headers, Access-Control-Request-Method"
RULES: list[dict[str, Any]] = [
    {
        "ID": "app",
        "AllowedOrigins": ["https://*.example.com"],
        "AllowedMethods": ["GET", "PUT"],
        "AllowedHeaders": ["x-amz-*", "Content-Type"],
        "ExposeHeaders": ["ETag", "x-amz-request-id"],
        "MaxAgeSeconds": 600,
    },
    {"AllowedOrigins": ["*"], "AllowedMethods": ["GET", "HEAD"]},
]


def preflight(server: S3Server, path: str, **headers: str) -> httpx.Response:
    return httpx.request("OPTIONS", server.url + path, headers=headers, timeout=30)


def test_put_get_delete(s3: BaseClient, bucket: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(raised) == ("NoSuchCORSConfiguration", 404)
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES
    deleted = s3.delete_bucket_cors(Bucket=bucket)
    assert deleted["ResponseMetadata"]["HTTPStatusCode"] == 204
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(raised) == ("NoSuchCORSConfiguration", 404)


def test_get_renders_s3s_document(s3_server: S3Server, s3: BaseClient, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES[1:]})
    response = signed_request(s3_server, "GET", f"/{bucket}", query="cors=")
    assert response.status_code == 200
    assert f'<CORSConfiguration xmlns="{S3_NAMESPACE[1:-1]}">' in response.text
    assert "<CORSRule><AllowedMethod>GET</AllowedMethod>" in response.text.replace("\n", "")


@pytest.mark.parametrize(
    ("rule", "code"),
    [
        ({"AllowedOrigins": ["*"], "AllowedMethods": ["PATCH"]}, "InvalidRequest"),
        (
            {"AllowedOrigins": ["https://*.*.example.com"], "AllowedMethods": ["GET"]},
            "InvalidRequest",
        ),
        (
            {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"], "AllowedHeaders": ["*-*"]},
            "InvalidRequest",
        ),
        ({"AllowedOrigins": [], "AllowedMethods": ["GET"]}, "MalformedXML"),
    ],
)
def test_invalid_rules(s3: BaseClient, bucket: str, rule: dict[str, Any], code: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule]})
    assert error_of(raised) == (code, 400)
    with pytest.raises(ClientError) as raised:
        s3.get_bucket_cors(Bucket=bucket)
    assert error_of(raised)[0] == "NoSuchCORSConfiguration"


def test_at_most_100_rules(s3: BaseClient, bucket: str) -> None:
    rule = {"AllowedOrigins": ["*"], "AllowedMethods": ["GET"]}
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule] * 100})
    with pytest.raises(ClientError) as raised:
        s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": [rule] * 101})
    assert error_of(raised) == ("InvalidRequest", 400)


def test_malformed_documents(s3_server: S3Server, bucket: str) -> None:
    for body in (b"<CORSConfiguration><CORSRule>", b"<Other/>", b""):
        response = signed_request(s3_server, "PUT", f"/{bucket}", query="cors=", body=body)
        assert response.status_code == 400, body
        assert "<Code>MalformedXML</Code>" in response.text


def test_preflight_allowed(s3_server: S3Server, s3: BaseClient, bucket: str) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    response = preflight(
        s3_server,
        f"/{bucket}/photos/cat.jpg",
        Origin="https://app.example.com",
        **{
            "Access-Control-Request-Method": "PUT",
            "Access-Control-Request-Headers": "content-type, x-amz-date",
        },
    )
    assert response.status_code == 200, response.text
    headers = response.headers
    assert headers["access-control-allow-origin"] == "https://app.example.com"
    assert headers["access-control-allow-methods"] == "GET, PUT"
    assert headers["access-control-allow-headers"] == "content-type, x-amz-date"
    assert headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert headers["access-control-max-age"] == "600"
    assert headers["access-control-allow-credentials"] == "true"
    assert headers["vary"] == VARY


def test_preflight_falls_through_to_the_first_allowing_rule(
    s3_server: S3Server, s3: BaseClient, bucket: str
) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    # Another origin: only the second rule (any origin, GET/HEAD, no headers) may allow it.
    response = preflight(
        s3_server, f"/{bucket}/k", Origin="https://other.test",
        **{"Access-Control-Request-Method": "GET"},
    )  # fmt: skip
    assert response.status_code == 200
    assert response.headers["access-control-allow-origin"] == "*"
    assert response.headers["access-control-allow-methods"] == "GET, HEAD"
    assert "access-control-allow-credentials" not in response.headers
    assert "access-control-max-age" not in response.headers


@pytest.mark.parametrize(
    ("origin", "method", "request_headers"),
    [
        ("https://other.test", "PUT", ""),  # PUT only for *.example.com
        ("https://app.example.com", "DELETE", ""),  # no rule allows DELETE
        ("https://other.test", "GET", "x-amz-date"),  # the open rule allows no headers
        ("https://app.example.com", "PUT", "authorization"),  # not among AllowedHeaders
        ("http://app.example.com", "PUT", ""),  # another scheme is another origin
    ],
)
def test_preflight_refused(
    s3_server: S3Server,
    s3: BaseClient,
    bucket: str,
    origin: str,
    method: str,
    request_headers: str,
) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if request_headers:
        headers["Access-Control-Request-Headers"] = request_headers
    response = preflight(s3_server, f"/{bucket}/k", **headers)
    assert response.status_code == 403
    assert "<Code>AccessForbidden</Code>" in response.text
    assert "CORSResponse: This CORS request is not allowed." in response.text
    assert f"<Method>{method}</Method>" in response.text
    assert "<ResourceType>OBJECT</ResourceType>" in response.text


def test_preflight_without_configuration_or_bucket(s3_server: S3Server, bucket: str) -> None:
    headers = {"Origin": "https://a.test", "Access-Control-Request-Method": "GET"}
    response = preflight(s3_server, f"/{bucket}", **headers)
    assert response.status_code == 403
    assert "<ResourceType>BUCKET</ResourceType>" in response.text
    assert preflight(s3_server, "/no-such-bucket-cors/k", **headers).status_code == 403


def test_preflight_needs_origin_and_method(s3_server: S3Server, bucket: str) -> None:
    response = preflight(s3_server, f"/{bucket}/k", **{"Access-Control-Request-Method": "GET"})
    assert response.status_code == 400
    assert "<Code>BadRequest</Code>" in response.text
    assert preflight(s3_server, f"/{bucket}/k", Origin="https://a.test").status_code == 400


def test_actual_requests_get_the_rules_headers(
    s3_server: S3Server, s3: BaseClient, bucket: str
) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    s3.put_object(Bucket=bucket, Key="k", Body=b"hello")
    allowed = signed_request(
        s3_server, "GET", f"/{bucket}/k", headers={"Origin": "https://app.example.com"}
    )
    assert allowed.status_code == 200
    assert allowed.content == b"hello"
    assert allowed.headers["access-control-allow-origin"] == "https://app.example.com"
    assert allowed.headers["access-control-expose-headers"] == "ETag, x-amz-request-id"
    assert allowed.headers["vary"] == VARY
    # An error answer carries them too, so that the page's script can read the error.
    missing = signed_request(
        s3_server, "GET", f"/{bucket}/missing", headers={"Origin": "https://app.example.com"}
    )
    assert missing.status_code == 404
    assert missing.headers["access-control-allow-origin"] == "https://app.example.com"
    # DELETE is allowed by no rule; no Origin means no browser: no CORS headers either way.
    refused = signed_request(
        s3_server, "DELETE", f"/{bucket}/k", headers={"Origin": "https://app.example.com"}
    )
    assert refused.status_code == 204
    assert "access-control-allow-origin" not in refused.headers
    plain = signed_request(s3_server, "GET", f"/{bucket}/k")
    assert "access-control-allow-origin" not in plain.headers


def test_another_tenant_cannot_touch_the_configuration(
    s3_server: S3Server, s3: BaseClient, bucket: str, other_tenant: Credentials
) -> None:
    s3.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES})
    other = s3_server.client(other_tenant)
    assert_access_denied(
        lambda: other.get_bucket_cors(Bucket=bucket),
        lambda: other.delete_bucket_cors(Bucket=bucket),
        lambda: other.put_bucket_cors(Bucket=bucket, CORSConfiguration={"CORSRules": RULES[1:]}),
    )
    assert s3.get_bucket_cors(Bucket=bucket)["CORSRules"] == RULES


def test_aws_cli_put_bucket_cors(s3_server: S3Server, bucket: str, tmp_path: Path) -> None:
    document = tmp_path / "cors.json"
    document.write_text(json.dumps({"CORSRules": RULES[:1]}))

    def s3api(*args: str) -> str:
        return aws_s3api(s3_server, *args, "--bucket", bucket)

    s3api("put-bucket-cors", "--cors-configuration", f"file://{document}")
    assert json.loads(s3api("get-bucket-cors"))["CORSRules"] == RULES[:1]
    s3api("delete-bucket-cors")
