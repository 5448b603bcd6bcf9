"""ListObjectsV2 (and V1) through boto3: prefix, delimiter, paging, start-after, owner."""

from __future__ import annotations

from typing import Any
from xml.etree import ElementTree

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import (
    S3_NAMESPACE,
    Credentials,
    S3Server,
    error_of,
    signed_request,
)

KEYS = sorted(
    [
        "a.txt",
        "b/1",
        "b/2",
        "b/c/3",
        "b/c/4",
        "c/5",
        "d.txt",
        "e/f/g/6",
        "ü/7",
        "spaced key/8",
        "plus+key",
    ],
    key=lambda key: key.encode(),
)


@pytest.fixture
def filled(s3: BaseClient, bucket: str) -> str:
    for key in KEYS:
        s3.put_object(Bucket=bucket, Key=key, Body=key.encode())
    return bucket


def keys_of(page: dict[str, Any]) -> list[str]:
    return [item["Key"] for item in page.get("Contents", [])]


def prefixes_of(page: dict[str, Any]) -> list[str]:
    return [item["Prefix"] for item in page.get("CommonPrefixes", [])]


def test_everything_in_byte_order(s3: BaseClient, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled)
    assert keys_of(page) == KEYS
    assert page["KeyCount"] == len(KEYS)
    assert page["IsTruncated"] is False
    assert [item["Size"] for item in page["Contents"]] == [len(key.encode()) for key in KEYS]
    assert all(item["ETag"].startswith('"') for item in page["Contents"])
    assert "Owner" not in page["Contents"][0]


def test_delimiter_rolls_up_common_prefixes(s3: BaseClient, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, Delimiter="/")
    assert keys_of(page) == ["a.txt", "d.txt", "plus+key"]
    assert prefixes_of(page) == ["b/", "c/", "e/", "spaced key/", "ü/"]
    assert page["KeyCount"] == 8


def test_prefix_and_delimiter(s3: BaseClient, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, Prefix="b/", Delimiter="/")
    assert keys_of(page) == ["b/1", "b/2"]
    assert prefixes_of(page) == ["b/c/"]
    assert page["Prefix"] == "b/"
    assert s3.list_objects_v2(Bucket=filled, Prefix="nothing/")["KeyCount"] == 0


@pytest.mark.parametrize(("delimiter", "max_keys"), [(None, 1), (None, 3), ("/", 1), ("/", 2)])
def test_pages_add_up_to_the_whole_listing(
    s3: BaseClient, filled: str, delimiter: str | None, max_keys: int
) -> None:
    options: dict[str, Any] = {"Bucket": filled, "PaginationConfig": {"PageSize": max_keys}}
    if delimiter:
        options["Delimiter"] = delimiter
    pages = list(s3.get_paginator("list_objects_v2").paginate(**options))
    whole = s3.list_objects_v2(Bucket=filled, **({"Delimiter": delimiter} if delimiter else {}))
    assert [key for page in pages for key in keys_of(page)] == keys_of(whole)
    assert [prefix for page in pages for prefix in prefixes_of(page)] == prefixes_of(whole)
    assert all(page["KeyCount"] <= max_keys for page in pages)
    assert all(page["IsTruncated"] for page in pages[:-1])
    assert pages[-1]["IsTruncated"] is False
    assert len(pages) > 1


def test_start_after(s3: BaseClient, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, StartAfter="b/c/3")
    assert keys_of(page) == [key for key in KEYS if key.encode() > b"b/c/3"]
    assert page["StartAfter"] == "b/c/3"


def test_fetch_owner(s3: BaseClient, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, FetchOwner=True, MaxKeys=1)
    owner = page["Contents"][0]["Owner"]
    assert owner["ID"] == s3.list_buckets()["Owner"]["ID"]
    assert owner["DisplayName"]


def test_max_keys_zero(s3: BaseClient, filled: str) -> None:
    page = s3.list_objects_v2(Bucket=filled, MaxKeys=0)
    assert page["KeyCount"] == 0
    assert "Contents" not in page


def test_bad_parameters(s3: BaseClient, filled: str) -> None:
    with pytest.raises(ClientError) as raised:
        s3.list_objects_v2(Bucket=filled, ContinuationToken="!!not-a-token!!")
    assert error_of(raised) == ("InvalidArgument", 400)
    with pytest.raises(ClientError) as raised:
        s3.list_objects_v2(Bucket=filled, MaxKeys=-1)
    assert error_of(raised) == ("InvalidArgument", 400)


def test_list_objects_v1_with_marker(s3: BaseClient, filled: str) -> None:
    page = s3.list_objects(Bucket=filled, Marker="b/2", MaxKeys=2)
    assert keys_of(page) == [key for key in KEYS if key.encode() > b"b/2"][:2]
    assert page["IsTruncated"] is True
    assert page["Contents"][0]["Owner"]["ID"]
    pages = list(s3.get_paginator("list_objects").paginate(Bucket=filled, Delimiter="/"))
    assert prefixes_of(pages[0]) == ["b/", "c/", "e/", "spaced key/", "ü/"]


def test_url_encoding_on_the_wire(s3_server: S3Server, filled: str) -> None:
    """S3's form-style encoding: '/' kept, a space as '+', '+' and non-ASCII escaped."""
    query = "list-type=2&encoding-type=url&prefix=s&delimiter=%2F&start-after=plus%2Bkey"
    response = signed_request(s3_server, "GET", f"/{filled}", query=query)
    assert response.status_code == 200
    root = ElementTree.fromstring(response.content)
    assert root.findtext(f"{S3_NAMESPACE}EncodingType") == "url"
    assert root.findtext(f"{S3_NAMESPACE}StartAfter") == "plus%2Bkey"
    assert root.findtext(f"{S3_NAMESPACE}Delimiter") == "/"
    prefixes = root.findall(f"{S3_NAMESPACE}CommonPrefixes/{S3_NAMESPACE}Prefix")
    assert [element.text for element in prefixes] == ["spaced+key/"]
    whole = signed_request(s3_server, "GET", f"/{filled}", query="encoding-type=url")
    keys = [
        element.text for element in ElementTree.fromstring(whole.content).iter(f"{S3_NAMESPACE}Key")
    ]
    assert "plus%2Bkey" in keys
    assert "%C3%BC/7" in keys
    assert "spaced+key/8" in keys
    bad = signed_request(s3_server, "GET", f"/{filled}", query="encoding-type=base64")
    assert bad.status_code == 400


def test_boto3_decodes_what_it_asked_to_be_encoded(s3: BaseClient, filled: str) -> None:
    # botocore asks for encoding-type=url by itself and decodes Key, Prefix, StartAfter.
    page = s3.list_objects_v2(Bucket=filled, Prefix="spaced ", StartAfter="plus+key")
    assert keys_of(page) == ["spaced key/8"]
    assert page["Prefix"] == "spaced "
    assert page["StartAfter"] == "plus+key"
    v1 = s3.list_objects(Bucket=filled, Marker="plus+key", Delimiter="/", MaxKeys=1)
    assert v1["Marker"] == "plus+key"
    assert prefixes_of(v1) == ["spaced key/"]
    assert v1["NextMarker"] == "spaced key/"


def test_v1_next_marker_only_with_a_delimiter(s3: BaseClient, filled: str) -> None:
    page = s3.list_objects(Bucket=filled, MaxKeys=2)
    assert page["IsTruncated"] is True
    assert "NextMarker" not in page
    page = s3.list_objects(Bucket=filled, MaxKeys=2, Delimiter="/")
    assert keys_of(page) == ["a.txt"]
    assert prefixes_of(page) == ["b/"]
    assert page["NextMarker"] == "b/"
    following = s3.list_objects(Bucket=filled, Marker=page["NextMarker"], Delimiter="/")
    assert prefixes_of(following)[0] == "c/"  # the common prefix is not repeated


def test_continuation_token_wins_over_start_after(s3: BaseClient, filled: str) -> None:
    first = s3.list_objects_v2(Bucket=filled, MaxKeys=2)
    token = first["NextContinuationToken"]
    page = s3.list_objects_v2(Bucket=filled, ContinuationToken=token, StartAfter="d.txt")
    assert keys_of(page) == KEYS[2:]
    assert page["ContinuationToken"] == token
    assert page["StartAfter"] == "d.txt"
    assert page["KeyCount"] == len(KEYS) - 2


def test_listing_of_another_accounts_bucket_is_denied(
    s3_server: S3Server, filled: str, other_tenant: Credentials
) -> None:
    other = s3_server.client(other_tenant)
    for call in (other.list_objects_v2, other.list_objects):
        with pytest.raises(ClientError) as raised:
            call(Bucket=filled)
        assert error_of(raised) == ("AccessDenied", 403)
