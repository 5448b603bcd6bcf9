"""Checksums of multipart objects on both backends: FULL_OBJECT CRCs (CRC32, CRC32C,
CRC64NVME) combined from the parts' own, equal to what botocore computes over the whole
object and validated by boto3 on download; COMPOSITE checksums (`<base64>-N`), also over
copied parts; S3's rules on which algorithm takes which type."""

from __future__ import annotations

import base64
import os
from pathlib import Path

import pytest
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from botocore.httpchecksum import CrtCrc32cChecksum, CrtCrc32Checksum, CrtCrc64NvmeChecksum

from tests.s3_api.conftest import error_of
from tests.s3_api.test_multipart import SMALL_TRANSFER, MiB

# botocore's own implementations, the reference for what the server must answer.
BOTOCORE = {
    "CRC32": CrtCrc32Checksum,
    "CRC32C": CrtCrc32cChecksum,
    "CRC64NVME": CrtCrc64NvmeChecksum,
}


def botocore_checksum(algorithm: str, data: bytes) -> str:
    checksum = BOTOCORE[algorithm]()
    checksum.update(data)
    return checksum.b64digest()


@pytest.fixture(scope="module")
def parts() -> list[bytes]:
    return [os.urandom(5 * MiB), os.urandom(5 * MiB + 17), os.urandom(4321)]


def send_parts(
    s3: BaseClient, bucket: str, key: str, upload_id: str, algorithm: str, parts: list[bytes]
) -> list[dict]:
    """Upload `parts` with boto3 computing each part's checksum; the completion's list."""
    listed = []
    for number, data in enumerate(parts, start=1):
        answer = s3.upload_part(
            Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data,
            ChecksumAlgorithm=algorithm,
        )  # fmt: skip
        field = f"Checksum{algorithm}"
        assert answer[field] == botocore_checksum(algorithm, data)
        listed.append({"PartNumber": number, "ETag": answer["ETag"], field: answer[field]})
    return listed


@pytest.mark.parametrize("algorithm", ["CRC32", "CRC32C", "CRC64NVME"])
def test_full_object_checksum_is_the_whole_objects(
    s3: BaseClient, bucket: str, parts: list[bytes], algorithm: str
) -> None:
    field = f"Checksum{algorithm}"
    whole = botocore_checksum(algorithm, b"".join(parts))
    created = s3.create_multipart_upload(
        Bucket=bucket, Key="full", ChecksumAlgorithm=algorithm, ChecksumType="FULL_OBJECT"
    )
    assert (created["ChecksumAlgorithm"], created["ChecksumType"]) == (algorithm, "FULL_OBJECT")
    upload_id = created["UploadId"]
    listed = send_parts(s3, bucket, "full", upload_id, algorithm, parts)
    # A whole-object checksum the client sends with the completion is checked first.
    wrong = botocore_checksum(algorithm, b"something else")
    with pytest.raises(ClientError) as raised:
        s3.complete_multipart_upload(
            Bucket=bucket, Key="full", UploadId=upload_id, MultipartUpload={"Parts": listed},
            ChecksumType="FULL_OBJECT", **{field: wrong},
        )  # fmt: skip
    assert error_of(raised) == ("BadDigest", 400)
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="full", UploadId=upload_id, MultipartUpload={"Parts": listed},
        ChecksumType="FULL_OBJECT", **{field: whole},
    )  # fmt: skip
    assert (done[field], done["ChecksumType"]) == (whole, "FULL_OBJECT")
    head = s3.head_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    assert (head[field], head["ChecksumType"]) == (whole, "FULL_OBJECT")
    # boto3 validates the body against the checksum it is given (it would raise).
    got = s3.get_object(Bucket=bucket, Key="full", ChecksumMode="ENABLED")
    assert got[field] == whole
    assert got["Body"].read() == b"".join(parts)
    attributes = s3.get_object_attributes(Bucket=bucket, Key="full", ObjectAttributes=["Checksum"])
    assert attributes["Checksum"][field] == whole
    assert attributes["Checksum"]["ChecksumType"] == "FULL_OBJECT"


def test_crc64nvme_uploads_are_full_object_by_default(
    s3: BaseClient, bucket: str, parts: list[bytes]
) -> None:
    created = s3.create_multipart_upload(Bucket=bucket, Key="nvme", ChecksumAlgorithm="CRC64NVME")
    assert created["ChecksumType"] == "FULL_OBJECT"
    upload_id = created["UploadId"]
    listed = send_parts(s3, bucket, "nvme", upload_id, "CRC64NVME", parts[1:])
    # Parts listed without their checksums are still joined with the recorded ones.
    bare = [{"PartNumber": p["PartNumber"], "ETag": p["ETag"]} for p in listed]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="nvme", UploadId=upload_id, MultipartUpload={"Parts": bare}
    )
    assert done["ChecksumCRC64NVME"] == botocore_checksum("CRC64NVME", b"".join(parts[1:]))
    assert done["ChecksumType"] == "FULL_OBJECT"


def test_upload_file_with_a_full_object_checksum(
    s3: BaseClient, bucket: str, parts: list[bytes], tmp_path: Path
) -> None:
    """s3transfer, given the whole file's checksum, uploads FULL_OBJECT in parts."""
    source = tmp_path / "source.bin"
    source.write_bytes(b"".join(parts))
    whole = botocore_checksum("CRC64NVME", source.read_bytes())
    s3.upload_file(
        str(source), bucket, "file.bin", ExtraArgs={"ChecksumCRC64NVME": whole},
        Config=SMALL_TRANSFER,
    )  # fmt: skip
    head = s3.head_object(Bucket=bucket, Key="file.bin", ChecksumMode="ENABLED")
    assert head["ETag"].endswith('-3"')
    assert (head["ChecksumCRC64NVME"], head["ChecksumType"]) == (whole, "FULL_OBJECT")


def test_composite_checksum_also_over_copied_parts(
    s3: BaseClient, bucket: str, parts: list[bytes]
) -> None:
    s3.put_object(Bucket=bucket, Key="source", Body=parts[1])
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="comp", ChecksumAlgorithm="CRC32C")[
        "UploadId"
    ]
    listed = send_parts(s3, bucket, "comp", upload_id, "CRC32C", parts[:1])
    copied = s3.upload_part_copy(
        Bucket=bucket, Key="comp", UploadId=upload_id, PartNumber=2,
        CopySource={"Bucket": bucket, "Key": "source"}, CopySourceRange="bytes=0-99",
    )  # fmt: skip
    listed.append({"PartNumber": 2, "ETag": copied["CopyPartResult"]["ETag"]})
    recorded = s3.list_parts(Bucket=bucket, Key="comp", UploadId=upload_id)["Parts"]
    digests = [parts[0], parts[1][:100]]
    assert [part["ChecksumCRC32C"] for part in recorded] == [
        botocore_checksum("CRC32C", data) for data in digests
    ]
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="comp", UploadId=upload_id, MultipartUpload={"Parts": listed}
    )
    joined = b"".join(base64.b64decode(botocore_checksum("CRC32C", data)) for data in digests)
    assert done["ChecksumCRC32C"] == botocore_checksum("CRC32C", joined) + "-2"
    assert done["ChecksumType"] == "COMPOSITE"
    head = s3.head_object(Bucket=bucket, Key="comp", ChecksumMode="ENABLED")
    assert (head["ChecksumCRC32C"], head["ChecksumType"]) == (done["ChecksumCRC32C"], "COMPOSITE")


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"ChecksumAlgorithm": "CRC64NVME", "ChecksumType": "COMPOSITE"}, "COMPOSITE"),
        ({"ChecksumAlgorithm": "SHA256", "ChecksumType": "FULL_OBJECT"}, "FULL_OBJECT"),
        ({"ChecksumAlgorithm": "SHA1", "ChecksumType": "FULL_OBJECT"}, "FULL_OBJECT"),
    ],
)
def test_checksum_types_each_algorithm_refuses(
    s3: BaseClient, bucket: str, arguments: dict, message: str
) -> None:
    with pytest.raises(ClientError) as raised:
        s3.create_multipart_upload(Bucket=bucket, Key="k", **arguments)
    assert error_of(raised) == ("InvalidRequest", 400)
    assert message in raised.value.response["Error"]["Message"]
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []
