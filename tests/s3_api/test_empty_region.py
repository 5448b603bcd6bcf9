"""SigV4 with an empty region in the credential scope, as libcloud's MinIO driver signs.

Found by conformance/test_libcloud_s3.py: the driver's `region_name` is "" and every request
was refused AuthorizationHeaderMalformed. The region is not checked (any name signs, as on
MinIO), so an empty one is accepted too; the signature itself is still verified.
"""

from __future__ import annotations

import httpx
from botocore.auth import S3SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials as BotoCredentials

from tests.s3_api.conftest import S3Server


def signed_with_region(server: S3Server, path: str, region: str, secret: str) -> httpx.Response:
    request = AWSRequest(method="GET", url=server.url + path, data=b"")
    credentials = BotoCredentials(server.admin.access_key, secret)
    S3SigV4Auth(credentials, "s3", region).add_auth(request)
    return httpx.get(server.url + path, headers=dict(request.headers.items()), timeout=30)


def test_an_empty_region_signs(s3_server: S3Server, bucket: str) -> None:
    answer = signed_with_region(s3_server, f"/{bucket}", "", s3_server.admin.secret_key)
    assert "Credential=" in answer.request.headers["authorization"]
    assert "//s3/aws4_request" in answer.request.headers["authorization"]
    assert answer.status_code == 200, answer.text
    assert "<ListBucketResult" in answer.text


def test_an_empty_region_still_needs_the_right_signature(s3_server: S3Server, bucket: str) -> None:
    answer = signed_with_region(s3_server, f"/{bucket}", "", "not-the-secret")
    assert answer.status_code == 403
    assert "<Code>SignatureDoesNotMatch</Code>" in answer.text
