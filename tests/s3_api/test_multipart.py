"""Multipart uploads through real clients, on both backends (see conftest.py): boto3's
transfer manager and its low-level calls, awscli; leftovers are looked for in the backend
itself (the local store's parts directory, Swift's segments container)."""

from __future__ import annotations

import base64
import hashlib
import os
import subprocess
import uuid
from collections.abc import Callable
from pathlib import Path

import pytest
from boto3.s3.transfer import TransferConfig
from botocore.client import BaseClient
from botocore.exceptions import ClientError
from swiftclient import client as swift

from tests.s3_api.conftest import Credentials, S3Server, aws_env, error_of

MiB = 1024 * 1024
SMALL_TRANSFER = TransferConfig(
    multipart_threshold=5 * MiB, multipart_chunksize=5 * MiB, max_concurrency=2
)


def md5(data: bytes) -> hashlib._Hash:
    return hashlib.md5(data, usedforsecurity=False)


def multipart_etag(parts: list[bytes]) -> str:
    """AWS's multipart ETag: md5 of the concatenated binary part md5s, then -N."""
    joined = b"".join(md5(part).digest() for part in parts)
    return f'"{md5(joined).hexdigest()}-{len(parts)}"'


def stored_parts(server: S3Server, client: BaseClient, bucket: str) -> list[str]:
    """Every part or segment the backend holds for `bucket`, read from the backend itself."""
    owner = client.list_buckets()["Owner"]["ID"]
    if server.backend == "local":
        digest = hashlib.sha256(bucket.encode()).hexdigest()[:32]
        root = server.process.data_dir / "objects" / owner / "parts" / digest
        return sorted(str(path.relative_to(root)) for path in root.rglob("*") if path.is_file())
    env = server.swift_env
    storage_url, token = swift.get_auth(
        env["CLOUDGATE_SWIFT_AUTH_URL"],
        env["CLOUDGATE_SWIFT_USER"],
        env["CLOUDGATE_SWIFT_KEY"],
        auth_version="1.0",
    )
    account_url = f"{storage_url.rsplit('/', 1)[0]}/AUTH_{owner}"
    try:
        _, objects = swift.get_container(account_url, token, f"{bucket}+segments")
    except swift.ClientException as error:
        if error.http_status == 404:
            return []
        raise
    return sorted(item["name"] for item in objects)


def upload_parts(s3: BaseClient, bucket: str, key: str, parts: list[bytes], **create) -> str:
    """Create an upload and send `parts`; returns the upload id."""
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key=key, **create)["UploadId"]
    for number, data in enumerate(parts, start=1):
        s3.upload_part(Bucket=bucket, Key=key, UploadId=upload_id, PartNumber=number, Body=data)
    return upload_id


def complete(s3: BaseClient, bucket: str, key: str, upload_id: str, parts: list[bytes]):
    listed = [
        {"PartNumber": number, "ETag": f'"{md5(data).hexdigest()}"'}
        for number, data in enumerate(parts, start=1)
    ]
    return s3.complete_multipart_upload(
        Bucket=bucket, Key=key, UploadId=upload_id, MultipartUpload={"Parts": listed}
    )


@pytest.fixture(scope="module")
def big_parts() -> list[bytes]:
    """Two full-size parts and a short last one, each different."""
    return [os.urandom(5 * MiB), os.urandom(5 * MiB), os.urandom(123_457)]


# ---------------------------------------------------------------- whole flows


def test_upload_file_and_download_file_go_multipart(
    s3_server: S3Server, s3: BaseClient, bucket: str, tmp_path: Path, big_parts: list[bytes]
) -> None:
    source = tmp_path / "source.bin"
    source.write_bytes(b"".join(big_parts))
    s3.upload_file(str(source), bucket, "big/file.bin", Config=SMALL_TRANSFER)
    head = s3.head_object(Bucket=bucket, Key="big/file.bin")
    assert head["ETag"] == multipart_etag(big_parts)
    assert head["ContentLength"] == source.stat().st_size
    listed = s3.list_objects_v2(Bucket=bucket)["Contents"]
    assert [(item["Key"], item["ETag"], item["Size"]) for item in listed] == [
        ("big/file.bin", multipart_etag(big_parts), source.stat().st_size)
    ]
    target = tmp_path / "target.bin"
    s3.download_file(bucket, "big/file.bin", str(target), Config=SMALL_TRANSFER)
    assert target.read_bytes() == source.read_bytes()
    # A range across the boundary of parts 1 and 2.
    start = 5 * MiB - 10
    ranged = s3.get_object(Bucket=bucket, Key="big/file.bin", Range=f"bytes={start}-{start + 19}")
    assert ranged["Body"].read() == source.read_bytes()[start : start + 20]
    assert ranged["ContentRange"] == f"bytes {start}-{start + 19}/{source.stat().st_size}"
    # The local store joined the parts into one file; on Swift they are the SLO's segments.
    assert len(stored_parts(s3_server, s3, bucket)) == (3 if s3_server.backend == "swift" else 0)


def test_low_level_upload_keeps_metadata_and_answers_retries_alike(
    s3: BaseClient, bucket: str, big_parts: list[bytes]
) -> None:
    parts = [big_parts[0], big_parts[2]]
    upload_id = upload_parts(
        s3, bucket, "doc.bin", parts, ContentType="text/x-test", Metadata={"colour": "blue"}
    )
    first = complete(s3, bucket, "doc.bin", upload_id, parts)
    assert first["ETag"] == multipart_etag(parts)
    assert first["Key"] == "doc.bin" and first["Bucket"] == bucket
    head = s3.head_object(Bucket=bucket, Key="doc.bin")
    assert head["ContentType"] == "text/x-test"
    assert head["Metadata"] == {"colour": "blue"}
    assert head["ETag"] == multipart_etag(parts)
    # Retried after success (its answer was lost): the same answer, not NoSuchUpload.
    assert complete(s3, bucket, "doc.bin", upload_id, parts)["ETag"] == first["ETag"]
    # But the upload is over for everything else.
    with pytest.raises(ClientError) as raised:
        s3.abort_multipart_upload(Bucket=bucket, Key="doc.bin", UploadId=upload_id)
    assert error_of(raised) == ("NoSuchUpload", 404)
    with pytest.raises(ClientError) as raised:
        s3.list_parts(Bucket=bucket, Key="doc.bin", UploadId=upload_id)
    assert error_of(raised) == ("NoSuchUpload", 404)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


def test_awscli_cp_of_a_64_mib_file_in_8_mib_parts(
    s3_server: S3Server, bucket: str, s3: BaseClient, tmp_path: Path
) -> None:
    config = tmp_path / "aws-config"
    config.write_text("[default]\ns3 =\n  multipart_threshold = 8MB\n  multipart_chunksize = 8MB\n")
    source = tmp_path / "large.bin"
    with source.open("wb") as file:
        for _ in range(64):
            file.write(os.urandom(MiB))
    env = {**aws_env(s3_server), "AWS_CONFIG_FILE": str(config)}

    def aws(*args: str) -> None:
        subprocess.run(
            ["aws", "--endpoint-url", s3_server.url, "s3", "cp", "--no-progress", *args],
            env=env, check=True, capture_output=True, text=True, timeout=300,
        )  # fmt: skip

    aws(str(source), f"s3://{bucket}/large.bin")
    data = source.read_bytes()
    parts = [data[offset : offset + 8 * MiB] for offset in range(0, len(data), 8 * MiB)]
    assert s3.head_object(Bucket=bucket, Key="large.bin")["ETag"] == multipart_etag(parts)
    target = tmp_path / "back.bin"
    aws(f"s3://{bucket}/large.bin", str(target))
    assert md5(target.read_bytes()).hexdigest() == md5(data).hexdigest()


# ---------------------------------------------------------------- the part list


def test_completion_checks_the_part_list(
    s3: BaseClient, bucket: str, big_parts: list[bytes]
) -> None:
    small = [b"a" * 1000, b"b" * 1000]
    upload_id = upload_parts(s3, bucket, "k", small)

    def attempt(parts: list[dict]) -> tuple[str, int]:
        with pytest.raises(ClientError) as raised:
            s3.complete_multipart_upload(
                Bucket=bucket, Key="k", UploadId=upload_id, MultipartUpload={"Parts": parts}
            )
        return error_of(raised)

    etag1, etag2 = (f'"{md5(data).hexdigest()}"' for data in small)
    assert attempt([]) == ("MalformedXML", 400)
    assert attempt([{"PartNumber": 1, "ETag": etag2}]) == ("InvalidPart", 400)
    assert attempt([{"PartNumber": 3, "ETag": etag1}]) == ("InvalidPart", 400)
    assert attempt([{"PartNumber": 2, "ETag": etag2}, {"PartNumber": 1, "ETag": etag1}]) == (
        "InvalidPartOrder",
        400,
    )
    assert attempt([{"PartNumber": 1, "ETag": etag1}, {"PartNumber": 2, "ETag": etag2}]) == (
        "EntityTooSmall",
        400,
    )
    # Every failure left the upload as it was: one small part alone completes.
    done = s3.complete_multipart_upload(
        Bucket=bucket,
        Key="k",
        UploadId=upload_id,
        MultipartUpload={"Parts": [{"PartNumber": 2, "ETag": etag2}]},
    )
    assert done["ETag"] == multipart_etag([small[1]])
    assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == small[1]


def test_unknown_uploads_and_bad_part_numbers(s3: BaseClient, bucket: str) -> None:
    missing = str(uuid.uuid4())
    calls: list[Callable[[], object]] = [
        lambda: s3.upload_part(Bucket=bucket, Key="k", UploadId=missing, PartNumber=1, Body=b"x"),
        lambda: s3.list_parts(Bucket=bucket, Key="k", UploadId=missing),
        lambda: s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=missing),
        lambda: s3.complete_multipart_upload(
            Bucket=bucket,
            Key="k",
            UploadId=missing,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": '"00"'}]},
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("NoSuchUpload", 404)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="k")["UploadId"]
    with pytest.raises(ClientError) as raised:  # another key's upload id
        s3.list_parts(Bucket=bucket, Key="other", UploadId=upload_id)
    assert error_of(raised) == ("NoSuchUpload", 404)
    for number in (0, 10001):
        with pytest.raises(ClientError) as raised:
            s3.upload_part(Bucket=bucket, Key="k", UploadId=upload_id, PartNumber=number, Body=b"")
        assert error_of(raised) == ("InvalidArgument", 400)
    s3.abort_multipart_upload(Bucket=bucket, Key="k", UploadId=upload_id)


def test_list_parts_pages_by_part_number(s3: BaseClient, bucket: str) -> None:
    data = [bytes([n]) * (100 + n) for n in range(1, 6)]
    upload_id = upload_parts(s3, bucket, "paged", data)
    s3.upload_part(Bucket=bucket, Key="paged", UploadId=upload_id, PartNumber=2, Body=b"again")
    page = s3.list_parts(Bucket=bucket, Key="paged", UploadId=upload_id, MaxParts=2)
    assert [part["PartNumber"] for part in page["Parts"]] == [1, 2]
    assert page["IsTruncated"] is True and page["NextPartNumberMarker"] == 2
    assert page["Parts"][1]["Size"] == 5
    assert page["Parts"][1]["ETag"] == f'"{md5(b"again").hexdigest()}"'
    rest = s3.list_parts(Bucket=bucket, Key="paged", UploadId=upload_id, PartNumberMarker=2)
    assert [part["PartNumber"] for part in rest["Parts"]] == [3, 4, 5]
    assert rest["IsTruncated"] is False
    assert [part["Size"] for part in rest["Parts"]] == [103, 104, 105]
    s3.abort_multipart_upload(Bucket=bucket, Key="paged", UploadId=upload_id)


def test_list_multipart_uploads_with_prefix_delimiter_and_markers(
    s3: BaseClient, bucket: str
) -> None:
    keys = ["a/1", "a/2", "b", "b", "c/x/1", "d"]
    ids = [s3.create_multipart_upload(Bucket=bucket, Key=key)["UploadId"] for key in keys]
    listed = s3.list_multipart_uploads(Bucket=bucket)
    pairs = list(zip(keys, ids, strict=True))
    assert [(u["Key"], u["UploadId"]) for u in listed["Uploads"]] == pairs
    assert listed["Uploads"][0]["Initiator"]["ID"] and listed["Uploads"][0]["Owner"]["ID"]
    rolled = s3.list_multipart_uploads(Bucket=bucket, Delimiter="/")
    assert [u["Key"] for u in rolled["Uploads"]] == ["b", "b", "d"]
    assert [p["Prefix"] for p in rolled["CommonPrefixes"]] == ["a/", "c/"]
    assert [u["Key"] for u in s3.list_multipart_uploads(Bucket=bucket, Prefix="a/")["Uploads"]] == [
        "a/1",
        "a/2",
    ]
    # Paging: key-marker + upload-id-marker resume inside the uploads of one key.
    page = s3.list_multipart_uploads(Bucket=bucket, MaxUploads=3)
    assert page["IsTruncated"] is True
    assert (page["NextKeyMarker"], page["NextUploadIdMarker"]) == ("b", ids[2])
    rest = s3.list_multipart_uploads(
        Bucket=bucket, KeyMarker="b", UploadIdMarker=ids[2], MaxUploads=10
    )
    assert [u["UploadId"] for u in rest["Uploads"]] == ids[3:]
    after_b = s3.list_multipart_uploads(Bucket=bucket, KeyMarker="b")
    assert [u["Key"] for u in after_b["Uploads"]] == ["c/x/1", "d"]
    everything = s3.get_paginator("list_multipart_uploads").paginate(
        Bucket=bucket, PaginationConfig={"PageSize": 2}
    )
    assert [u["UploadId"] for page in everything for u in page.get("Uploads", [])] == ids
    for key, upload_id in zip(keys, ids, strict=True):
        s3.abort_multipart_upload(Bucket=bucket, Key=key, UploadId=upload_id)
    assert s3.list_multipart_uploads(Bucket=bucket).get("Uploads", []) == []


# ---------------------------------------------------------------- integrity


def test_part_checksums_and_composite_checksum(s3: BaseClient, bucket: str) -> None:
    parts = [os.urandom(5 * MiB), b"tail"]
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="sum", ChecksumAlgorithm="SHA256")[
        "UploadId"
    ]
    digests = [hashlib.sha256(data).digest() for data in parts]
    listed = []
    for number, (data, digest) in enumerate(zip(parts, digests, strict=True), start=1):
        checksum = base64.b64encode(digest).decode()
        answer = s3.upload_part(
            Bucket=bucket,
            Key="sum",
            UploadId=upload_id,
            PartNumber=number,
            Body=data,
            ChecksumSHA256=checksum,
        )
        assert answer["ChecksumSHA256"] == checksum
        listed.append({"PartNumber": number, "ETag": answer["ETag"], "ChecksumSHA256": checksum})
    with pytest.raises(ClientError) as raised:
        s3.upload_part(
            Bucket=bucket,
            Key="sum",
            UploadId=upload_id,
            PartNumber=3,
            Body=b"tampered",
            ChecksumSHA256=base64.b64encode(hashlib.sha256(b"other").digest()).decode(),
        )
    assert error_of(raised) == ("BadDigest", 400)
    parts_listed = s3.list_parts(Bucket=bucket, Key="sum", UploadId=upload_id)
    assert [p["PartNumber"] for p in parts_listed["Parts"]] == [1, 2]  # the bad part is not kept
    assert parts_listed["ChecksumAlgorithm"] == "SHA256"
    done = s3.complete_multipart_upload(
        Bucket=bucket, Key="sum", UploadId=upload_id, MultipartUpload={"Parts": listed}
    )
    composite = base64.b64encode(hashlib.sha256(b"".join(digests)).digest()).decode() + "-2"
    assert done["ChecksumSHA256"] == composite
    head = s3.head_object(Bucket=bucket, Key="sum", ChecksumMode="ENABLED")
    assert head["ChecksumSHA256"] == composite


def test_a_part_with_a_wrong_content_md5_is_refused(s3: BaseClient, bucket: str) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="md5")["UploadId"]
    with pytest.raises(ClientError) as raised:
        s3.upload_part(
            Bucket=bucket,
            Key="md5",
            UploadId=upload_id,
            PartNumber=1,
            Body=b"payload",
            ContentMD5=base64.b64encode(md5(b"something else").digest()).decode(),
        )
    assert error_of(raised) == ("BadDigest", 400)
    assert s3.list_parts(Bucket=bucket, Key="md5", UploadId=upload_id).get("Parts", []) == []
    s3.abort_multipart_upload(Bucket=bucket, Key="md5", UploadId=upload_id)


# ---------------------------------------------------------------- copies


def test_upload_part_copy_with_ranges(
    s3: BaseClient, bucket: str, make_bucket: Callable[[], str]
) -> None:
    source_bucket = make_bucket()
    source = os.urandom(6 * MiB)
    s3.put_object(Bucket=source_bucket, Key="src/data bin", Body=source)
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="copied")["UploadId"]
    whole = {"Bucket": source_bucket, "Key": "src/data bin"}

    def copy_part(number: int, copy_source: object = whole, **options: str) -> str:
        answer = s3.upload_part_copy(
            Bucket=bucket, Key="copied", UploadId=upload_id, PartNumber=number,
            CopySource=copy_source, **options,
        )  # fmt: skip
        return answer["CopyPartResult"]["ETag"]

    first = copy_part(1, CopySourceRange=f"bytes=0-{5 * MiB - 1}")
    assert first == f'"{md5(source[: 5 * MiB]).hexdigest()}"'
    etag = s3.head_object(Bucket=source_bucket, Key="src/data bin")["ETag"]
    # A string copy source, which botocore quotes, and a condition that holds.
    second = copy_part(2, f"{source_bucket}/src/data bin", CopySourceIfMatch=etag)
    assert second == f'"{md5(source).hexdigest()}"'
    with pytest.raises(ClientError) as raised:
        copy_part(3, CopySourceIfMatch='"0123456789abcdef0123456789abcdef"')
    assert error_of(raised) == ("PreconditionFailed", 412)
    with pytest.raises(ClientError) as raised:
        copy_part(3, CopySourceRange="bytes=5-")
    assert error_of(raised) == ("InvalidArgument", 400)
    parts = [source[: 5 * MiB], source]
    done = complete(s3, bucket, "copied", upload_id, parts)
    assert done["ETag"] == multipart_etag(parts)
    assert s3.get_object(Bucket=bucket, Key="copied")["Body"].read() == b"".join(parts)


# ---------------------------------------------------------------- nothing left behind


def test_abort_overwrite_and_delete_leave_no_parts(
    s3_server: S3Server, s3: BaseClient, bucket: str, big_parts: list[bytes]
) -> None:
    aborted = upload_parts(s3, bucket, "gone", big_parts[:2])
    assert len(stored_parts(s3_server, s3, bucket)) == 2
    s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=aborted)
    assert stored_parts(s3_server, s3, bucket) == []
    with pytest.raises(ClientError) as raised:
        s3.abort_multipart_upload(Bucket=bucket, Key="gone", UploadId=aborted)
    assert error_of(raised) == ("NoSuchUpload", 404)

    # Completing with part 3 left out: the unlisted part goes.
    upload_id = upload_parts(s3, bucket, "obj", big_parts)
    listed = big_parts[:2]
    complete(s3, bucket, "obj", upload_id, listed)
    kept = stored_parts(s3_server, s3, bucket)
    assert len(kept) == (2 if s3_server.backend == "swift" else 0)  # Swift: the SLO's segments
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"".join(listed)

    # A multipart object replaced by another upload, then by a plain PUT, then deleted.
    again = upload_parts(s3, bucket, "obj", big_parts[1:])
    complete(s3, bucket, "obj", again, big_parts[1:])
    assert s3.get_object(Bucket=bucket, Key="obj")["Body"].read() == b"".join(big_parts[1:])
    expected = 2 if s3_server.backend == "swift" else 0
    assert len(stored_parts(s3_server, s3, bucket)) == expected
    assert not set(kept) & set(stored_parts(s3_server, s3, bucket))
    s3.put_object(Bucket=bucket, Key="obj", Body=b"plain now")
    assert stored_parts(s3_server, s3, bucket) == []
    complete(s3, bucket, "obj2", upload_parts(s3, bucket, "obj2", big_parts[2:]), big_parts[2:])
    s3.delete_object(Bucket=bucket, Key="obj2")
    assert stored_parts(s3_server, s3, bucket) == []


def test_deleting_a_bucket_with_uploads_in_progress_aborts_them(
    s3_server: S3Server, s3: BaseClient, big_parts: list[bytes]
) -> None:
    name = f"test-{uuid.uuid4().hex[:16]}"
    s3.create_bucket(Bucket=name)
    upload_parts(s3, name, "pending", [big_parts[2]])
    s3.put_object(Bucket=name, Key="object", Body=b"x")
    with pytest.raises(ClientError) as raised:  # objects still make it "not empty"
        s3.delete_bucket(Bucket=name)
    assert error_of(raised) == ("BucketNotEmpty", 409)
    assert len(stored_parts(s3_server, s3, name)) == 1
    s3.delete_object(Bucket=name, Key="object")
    s3.delete_bucket(Bucket=name)  # pending uploads do not
    assert stored_parts(s3_server, s3, name) == []
    s3.create_bucket(Bucket=name)  # the name is free, and the new bucket has no uploads
    try:
        assert s3.list_multipart_uploads(Bucket=name).get("Uploads", []) == []
    finally:
        s3.delete_bucket(Bucket=name)


# ---------------------------------------------------------------- tenants


def test_another_tenant_cannot_see_or_touch_an_upload(
    s3_server: S3Server, s3: BaseClient, bucket: str, other_tenant: Credentials
) -> None:
    upload_id = s3.create_multipart_upload(Bucket=bucket, Key="mine")["UploadId"]
    s3.upload_part(Bucket=bucket, Key="mine", UploadId=upload_id, PartNumber=1, Body=b"data")
    other = s3_server.client(other_tenant)
    calls: list[Callable[[], object]] = [
        lambda: other.list_multipart_uploads(Bucket=bucket),
        lambda: other.list_parts(Bucket=bucket, Key="mine", UploadId=upload_id),
        lambda: other.upload_part(
            Bucket=bucket, Key="mine", UploadId=upload_id, PartNumber=2, Body=b"theirs"
        ),
        lambda: other.abort_multipart_upload(Bucket=bucket, Key="mine", UploadId=upload_id),
        lambda: other.create_multipart_upload(Bucket=bucket, Key="theirs"),
        lambda: other.complete_multipart_upload(
            Bucket=bucket,
            Key="mine",
            UploadId=upload_id,
            MultipartUpload={"Parts": [{"PartNumber": 1, "ETag": f'"{md5(b"data").hexdigest()}"'}]},
        ),
    ]
    for call in calls:
        with pytest.raises(ClientError) as raised:
            call()
        assert error_of(raised) == ("AccessDenied", 403)
    # Nor copy from the bucket into an upload of their own.
    theirs = f"{bucket}-o"
    other.create_bucket(Bucket=theirs)
    try:
        their_upload = other.create_multipart_upload(Bucket=theirs, Key="k")["UploadId"]
        s3.put_object(Bucket=bucket, Key="secret", Body=b"secret")
        with pytest.raises(ClientError) as raised:
            other.upload_part_copy(
                Bucket=theirs,
                Key="k",
                UploadId=their_upload,
                PartNumber=1,
                CopySource={"Bucket": bucket, "Key": "secret"},
            )
        assert error_of(raised) == ("AccessDenied", 403)
        other.abort_multipart_upload(Bucket=theirs, Key="k", UploadId=their_upload)
    finally:
        other.delete_bucket(Bucket=theirs)
    parts = s3.list_parts(Bucket=bucket, Key="mine", UploadId=upload_id)["Parts"]
    assert [(p["PartNumber"], p["Size"]) for p in parts] == [(1, 4)]
    s3.abort_multipart_upload(Bucket=bucket, Key="mine", UploadId=upload_id)


def test_in_a_versioned_bucket_a_completed_upload_is_a_new_version(
    s3_server: S3Server, s3: BaseClient, bucket: str, big_parts: list[bytes]
) -> None:
    s3.put_bucket_versioning(Bucket=bucket, VersioningConfiguration={"Status": "Enabled"})
    first = s3.put_object(Bucket=bucket, Key="v", Body=b"version one")["VersionId"]
    parts = big_parts[1:]
    done = complete(s3, bucket, "v", upload_parts(s3, bucket, "v", parts), parts)
    assert done["VersionId"] not in (None, first)
    assert s3.get_object(Bucket=bucket, Key="v")["Body"].read() == b"".join(parts)
    assert s3.head_object(Bucket=bucket, Key="v")["ETag"] == multipart_etag(parts)
    old = s3.get_object(Bucket=bucket, Key="v", VersionId=first)["Body"].read()
    assert old == b"version one"
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    assert sorted(v["VersionId"] for v in versions) == sorted([first, done["VersionId"]])
    for version in versions:
        s3.delete_object(Bucket=bucket, Key="v", VersionId=version["VersionId"])
    assert stored_parts(s3_server, s3, bucket) == []
