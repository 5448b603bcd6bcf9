"""Content headers given on upload are the object's: GET and HEAD return them.

Found by `aws s3 cp --cache-control … --content-type …` followed by `s3api head-object`
(conformance/test_awscli_s3.py): the headers were accepted and then lost.
"""

from __future__ import annotations

import datetime as dt
import io

from botocore.client import BaseClient

from tests.s3_api.test_streaming import force_trailing_checksum

EXPIRES = dt.datetime(2030, 1, 2, 3, 4, 5, tzinfo=dt.UTC)
HEADERS = {
    "CacheControl": "max-age=60, public",
    "ContentDisposition": 'attachment; filename="report.csv"',
    "ContentEncoding": "gzip",
    "ContentLanguage": "de-CH",
}


def test_put_object_keeps_content_headers(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="report.csv", Body=b"a,b\n", Expires=EXPIRES, **HEADERS)
    for answer in (
        s3.head_object(Bucket=bucket, Key="report.csv"),
        s3.get_object(Bucket=bucket, Key="report.csv"),
    ):
        assert {name: answer.get(name) for name in HEADERS} == HEADERS
        assert answer["Expires"] == EXPIRES
    # An object uploaded without them has none.
    s3.put_object(Bucket=bucket, Key="plain", Body=b"x")
    plain = s3.head_object(Bucket=bucket, Key="plain")
    assert not {"CacheControl", "ContentDisposition", "ContentEncoding", "Expires"} & set(plain)


def test_aws_chunked_is_framing_not_content_encoding(s3: BaseClient, bucket: str) -> None:
    """boto3 over HTTPS sends `Content-Encoding: gzip,aws-chunked`: only gzip is the object's."""
    s3.meta.events.register("before-call.s3.PutObject", force_trailing_checksum)
    s3.put_object(Bucket=bucket, Key="z", Body=io.BytesIO(b"\x1f\x8b..."), ContentEncoding="gzip")
    head = s3.head_object(Bucket=bucket, Key="z")
    assert (head["ContentEncoding"], head["ContentLength"]) == ("gzip", 5)


def test_response_overrides_win_over_stored_headers(s3: BaseClient, bucket: str) -> None:
    s3.put_object(Bucket=bucket, Key="k", Body=b"v", CacheControl="no-cache")
    got = s3.get_object(Bucket=bucket, Key="k", ResponseCacheControl="max-age=1")
    assert got["CacheControl"] == "max-age=1"
