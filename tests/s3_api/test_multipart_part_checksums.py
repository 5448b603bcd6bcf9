"""Part checksums of multipart uploads on both backends, through boto3: UploadPart answers
the checksum the server computed in the upload's algorithm even when the client sent none;
GET/HEAD `?partNumber=N` with checksum mode show a COMPOSITE object's part checksum (and
boto3 validates the part's body against it); a completion must name the upload's own
checksum type."""

from __future__ import annotations

import base64
import hashlib
import os

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import S3Server, error_of
from tests.s3_api.test_multipart import MiB
from tests.s3_api.test_multipart_checksums import botocore_checksum


def sha256(data: bytes) -> str:
    return base64.b64encode(hashlib.sha256(data).digest()).decode()


@pytest.fixture(scope="module")
def parts() -> list[bytes]:
    return [os.urandom(5 * MiB), os.urandom(1234)]


@pytest.fixture
def plain(s3_server: S3Server) -> BaseClient:
    """A client that sends a checksum only where S3 requires one (never with a part)."""
    return s3_server.client(request_checksum_calculation="when_required")


def upload(
    s3: BaseClient, bucket: str, key: str, parts: list[bytes], **checksum: str
) -> tuple[str, list[dict]]:
    """An upload of `parts` sent without checksums; its id and the answers to its parts."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **checksum)["UploadId"]
    answers = [
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
        for number, data in enumerate(parts, start=1)
    ]
    return upload_id, answers


def complete(
    s3: BaseClient, bucket: str, key: str, upload_id: str, answers: list[dict], **extra: str
) -> dict:
    listed = [
        {"PartNumber": number, "ETag": answer["ETag"]}
        for number, answer in enumerate(answers, start=1)
    ]
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}, **extra
    )


def test_upload_part_answers_the_server_computed_checksum(
    plain: BaseClient, bucket: str, parts: list[bytes]
) -> None:
    upload_id, answers = upload(plain, bucket, "k", parts, ChecksumAlgorithm="SHA256")
    assert [answer["ChecksumSHA256"] for answer in answers] == [sha256(data) for data in parts]
    # Without an algorithm on the upload, there is nothing to compute.
    plain.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)
    _, answers = upload(plain, bucket, "none", parts[1:])
    assert not any(name.startswith("Checksum") for name in answers[0])


def test_a_composite_objects_parts_show_their_own_checksums(
    s3: BaseClient, plain: BaseClient, bucket: str, parts: list[bytes]
) -> None:
    upload_id, answers = upload(plain, bucket, "k", parts, ChecksumAlgorithm="SHA256")
    done = complete(plain, bucket, "k", upload_id, answers)
    assert done["ChecksumType"] == "COMPOSITE" and done["ChecksumSHA256"].endswith("-2")
    for number, data in enumerate(parts, start=1):
        # boto3 (checksums on) validates the part's bytes against the header it is given.
        got = s3.get_object(Bucket=bucket, Key="k", PartNumber=number, ChecksumMode="ENABLED")
        assert got["Body"].read() == data
        assert (got["ChecksumSHA256"], got["ChecksumType"]) == (sha256(data), "COMPOSITE")
        head = s3.head_object(Bucket=bucket, Key="k", PartNumber=number, ChecksumMode="ENABLED")
        assert head["ChecksumSHA256"] == sha256(data)
    # Without checksum mode, no checksum; the whole object keeps its composite one.
    assert "ChecksumSHA256" not in s3.head_object(Bucket=bucket, Key="k", PartNumber=1)
    whole = s3.head_object(Bucket=bucket, Key="k", ChecksumMode="ENABLED")
    assert whole["ChecksumSHA256"] == done["ChecksumSHA256"]


def test_a_full_object_checksum_has_no_part_checksums(
    s3: BaseClient, plain: BaseClient, bucket: str, parts: list[bytes]
) -> None:
    upload_id, answers = upload(
        plain, bucket, "k", parts, ChecksumAlgorithm="CRC32", ChecksumType="FULL_OBJECT"
    )
    assert [answer["ChecksumCRC32"] for answer in answers] == [
        botocore_checksum("CRC32", data) for data in parts
    ]
    done = complete(plain, bucket, "k", upload_id, answers, ChecksumType="FULL_OBJECT")
    assert done["ChecksumCRC32"] == botocore_checksum("CRC32", b"".join(parts))
    got = s3.get_object(Bucket=bucket, Key="k", PartNumber=2, ChecksumMode="ENABLED")
    assert got["Body"].read() == parts[1]
    assert "ChecksumCRC32" not in got and "ChecksumType" not in got


@pytest.mark.parametrize(
    ("created", "completed", "mode"),
    [
        ({"ChecksumAlgorithm": "CRC32"}, "FULL_OBJECT", "the COMPOSITE checksum mode"),
        (
            {"ChecksumAlgorithm": "CRC32", "ChecksumType": "FULL_OBJECT"},
            "COMPOSITE",
            "the FULL_OBJECT checksum mode",
        ),
        ({}, "COMPOSITE", "no checksum"),
    ],
)
def test_completion_must_name_the_uploads_checksum_type(
    plain: BaseClient,
    bucket: str,
    parts: list[bytes],
    created: dict[str, str],
    completed: str,
    mode: str,
) -> None:
    upload_id, answers = upload(plain, bucket, "k", parts[1:], **created)
    with pytest.raises(ClientError) as raised:
        complete(plain, bucket, "k", upload_id, answers, ChecksumType=completed)
    assert error_of(raised) == ("InvalidRequest", 400)
    assert mode in raised.value.response["Error"]["Message"]
    # Nothing was completed: the upload is still there, and completes as created.
    assert "Contents" not in plain.list_objects_v2(Bucket=bucket)
    listed = plain.list_parts(Bucket=bucket, Key="k", UploadId=upload_id)["Parts"]
    assert [part["PartNumber"] for part in listed] == [1]
    done = complete(plain, bucket, "k", upload_id, answers)
    assert done["ETag"].endswith('-1"')
