"""Bucket policies: storage and validation, public read of a prefix, principals by account
number (the same numbers STS and EC2 show), explicit Deny over the owner, conditions."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any

import boto3
import httpx
import pytest
from botocore import UNSIGNED
from botocore.client import BaseClient
from botocore.exceptions import ClientError

from tests.s3_api.conftest import REGION, Credentials, S3Server, error_of, signed_request


@pytest.fixture
def other(s3_server: S3Server, other_tenant: Credentials) -> BaseClient:
    return s3_server.client(other_tenant)


@pytest.fixture
def policy_bucket(bucket: str, s3: BaseClient) -> Iterator[str]:
    """The admin's bucket; its policy is removed before the bucket is emptied and deleted."""
    yield bucket
    s3.delete_bucket_policy(Bucket=bucket)


def account_number(server: S3Server, credentials: Credentials) -> str:
    """The caller's 12-digit account id, from STS GetCallerIdentity on the EC2 endpoint."""
    sts = boto3.client(
        "sts",
        endpoint_url=server.process.ec2_url,
        region_name=REGION,
        aws_access_key_id=credentials.access_key,
        aws_secret_access_key=credentials.secret_key,
    )
    return sts.get_caller_identity()["Account"]


def policy(*statements: dict[str, Any]) -> str:
    return json.dumps({"Version": "2012-10-17", "Statement": list(statements)})


def statement(
    effect: str, principal: Any, action: str | list[str], resource: str | list[str], **extra: Any
) -> dict[str, Any]:
    return {
        "Effect": effect,
        "Principal": principal,
        "Action": action,
        "Resource": resource,
        **extra,
    }


def denied(call: Callable[[], object]) -> tuple[str, int]:
    with pytest.raises(ClientError) as raised:
        call()
    return error_of(raised)


def test_put_get_delete_policy(s3: BaseClient, policy_bucket: str) -> None:
    bucket = policy_bucket
    assert denied(lambda: s3.get_bucket_policy(Bucket=bucket)) == ("NoSuchBucketPolicy", 404)
    assert denied(lambda: s3.get_bucket_policy_status(Bucket=bucket)) == (
        "NoSuchBucketPolicy",
        404,
    )
    document = policy(
        statement("Allow", "*", "s3:GetObject", f"arn:aws:s3:::{bucket}/public/*", Sid="Pub")
    )
    response = s3.put_bucket_policy(Bucket=bucket, Policy=document)
    assert response["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert json.loads(s3.get_bucket_policy(Bucket=bucket)["Policy"]) == json.loads(document)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is True
    limited = policy(
        statement(
            "Allow", "*", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
            Condition={"IpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
        )
    )  # fmt: skip
    s3.put_bucket_policy(Bucket=bucket, Policy=limited)
    assert s3.get_bucket_policy_status(Bucket=bucket)["PolicyStatus"]["IsPublic"] is False
    assert s3.delete_bucket_policy(Bucket=bucket)["ResponseMetadata"]["HTTPStatusCode"] == 204
    assert denied(lambda: s3.get_bucket_policy(Bucket=bucket)) == ("NoSuchBucketPolicy", 404)
    s3.delete_bucket_policy(Bucket=bucket)  # deleting no policy succeeds


@pytest.mark.parametrize(
    "document",
    [
        "not json",
        "[]",
        json.dumps({"Version": "2012-10-17"}),
        json.dumps({"Version": "1999-01-01", "Statement": []}),
        policy(statement("Permit", "*", "s3:GetObject", "arn:aws:s3:::{bucket}/*")),
        policy(statement("Allow", "*", "ec2:RunInstances", "arn:aws:s3:::{bucket}/*")),
        policy(statement("Allow", "*", "s3:GetObject", "arn:aws:s3:::some-other-bucket/*")),
        policy(statement("Allow", "*", "s3:GetObject", "*")),
        policy(statement("Allow", {"Service": "x.amazonaws.com"}, "s3:*", "arn:aws:s3:::{bucket}")),
        policy(statement("Allow", {"AWS": "bob"}, "s3:*", "arn:aws:s3:::{bucket}")),
        policy(
            statement(
                "Allow", "*", "s3:GetObject", "arn:aws:s3:::{bucket}/*",
                Condition={"StringLike": {"aws:Referer": "http://example.com/*"}},
            )
        ),
        policy(
            statement(
                "Allow", "*", "s3:GetObject", "arn:aws:s3:::{bucket}/*",
                Condition={"IpAddress": {"aws:SourceIp": "not-an-address"}},
            )
        ),
        json.dumps(
            {
                "Statement": [
                    {"Effect": "Deny", "NotPrincipal": {"AWS": "123456789012"},
                     "Action": "s3:*", "Resource": "arn:aws:s3:::{bucket}"}
                ]
            }
        ),
    ],
)  # fmt: skip
def test_malformed_policies_are_refused(s3: BaseClient, bucket: str, document: str) -> None:
    document = document.replace("{bucket}", bucket)
    assert denied(lambda: s3.put_bucket_policy(Bucket=bucket, Policy=document)) == (
        "MalformedPolicy",
        400,
    )
    assert denied(lambda: s3.get_bucket_policy(Bucket=bucket)) == ("NoSuchBucketPolicy", 404)


def test_public_read_of_a_prefix(
    s3_server: S3Server, s3: BaseClient, policy_bucket: str, other: BaseClient
) -> None:
    bucket = policy_bucket
    s3.put_object(Bucket=bucket, Key="public/a.txt", Body=b"for everyone")
    s3.put_object(Bucket=bucket, Key="private/b.txt", Body=b"for me")
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=policy(statement("Allow", "*", "s3:GetObject", f"arn:aws:s3:::{bucket}/public/*")),
    )
    response = httpx.get(f"{s3_server.url}/{bucket}/public/a.txt")
    assert (response.status_code, response.content) == (200, b"for everyone")
    anonymous = s3_server.client(signature_version=UNSIGNED)
    assert anonymous.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read() == b"for everyone"
    assert anonymous.head_object(Bucket=bucket, Key="public/a.txt")["ContentLength"] == 12
    assert other.get_object(Bucket=bucket, Key="public/a.txt")["Body"].read() == b"for everyone"
    # nothing else: not the other prefix, not listing, not writing
    assert httpx.get(f"{s3_server.url}/{bucket}/private/b.txt").status_code == 403
    assert httpx.get(f"{s3_server.url}/{bucket}").status_code == 403
    assert httpx.put(f"{s3_server.url}/{bucket}/public/new", content=b"x").status_code == 403
    assert denied(lambda: other.get_object(Bucket=bucket, Key="private/b.txt")) == (
        "AccessDenied",
        403,
    )


def test_principal_by_account_number(
    s3_server: S3Server, s3: BaseClient, policy_bucket: str, other: BaseClient,
    other_tenant: Credentials, third_tenant: Credentials,
) -> None:  # fmt: skip
    bucket = policy_bucket
    number = account_number(s3_server, other_tenant)
    assert len(number) == 12 and number.isdigit()
    third = s3_server.client(third_tenant)
    s3.put_object(Bucket=bucket, Key="data/x", Body=b"x")
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=policy(
            statement("Allow", {"AWS": [number]}, "s3:ListBucket", f"arn:aws:s3:::{bucket}"),
            statement(
                "Allow", {"AWS": f"arn:aws:iam::{number}:root"}, ["s3:Put*", "s3:Get*"],
                f"arn:aws:s3:::{bucket}/data/*",
            ),
        ),
    )  # fmt: skip
    assert [item["Key"] for item in other.list_objects_v2(Bucket=bucket)["Contents"]] == ["data/x"]
    other.put_object(Bucket=bucket, Key="data/y", Body=b"from other")
    assert other.get_object(Bucket=bucket, Key="data/x")["Body"].read() == b"x"
    assert denied(lambda: other.put_object(Bucket=bucket, Key="elsewhere", Body=b"")) == (
        "AccessDenied",
        403,
    )
    assert denied(lambda: other.delete_object(Bucket=bucket, Key="data/x")) == (
        "AccessDenied",
        403,
    )
    for call in (
        lambda: third.list_objects_v2(Bucket=bucket),
        lambda: third.get_object(Bucket=bucket, Key="data/x"),
    ):
        assert denied(call) == ("AccessDenied", 403)
    # only the owner manages the policy, whatever the policy says
    assert denied(lambda: other.get_bucket_policy(Bucket=bucket)) == ("AccessDenied", 403)
    assert denied(lambda: other.delete_bucket_policy(Bucket=bucket)) == ("AccessDenied", 403)


def test_explicit_deny_beats_the_owner_but_not_policy_management(
    s3_server: S3Server, s3: BaseClient, policy_bucket: str
) -> None:
    bucket = policy_bucket
    s3.put_object(Bucket=bucket, Key="locked/a", Body=b"a", ACL="public-read")
    s3.put_object(Bucket=bucket, Key="open/b", Body=b"b")
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=policy(
            statement("Deny", "*", ["s3:GetObject", "s3:DeleteObject"],
                      f"arn:aws:s3:::{bucket}/locked/*"),
        ),
    )  # fmt: skip
    assert denied(lambda: s3.get_object(Bucket=bucket, Key="locked/a")) == ("AccessDenied", 403)
    assert denied(lambda: s3.delete_object(Bucket=bucket, Key="locked/a")) == (
        "AccessDenied",
        403,
    )
    # the Deny beats the object's public-read grant too
    assert httpx.get(f"{s3_server.url}/{bucket}/locked/a").status_code == 403
    assert s3.get_object(Bucket=bucket, Key="open/b")["Body"].read() == b"b"
    # the owner can still read and change the policy
    assert "Deny" in s3.get_bucket_policy(Bucket=bucket)["Policy"]
    s3.delete_bucket_policy(Bucket=bucket)
    assert s3.get_object(Bucket=bucket, Key="locked/a")["Body"].read() == b"a"


def test_conditions_source_ip_and_secure_transport(
    s3_server: S3Server, s3: BaseClient, policy_bucket: str
) -> None:
    bucket = policy_bucket
    s3.put_object(Bucket=bucket, Key="k", Body=b"v")
    url = f"{s3_server.url}/{bucket}/k"

    def allow_from(cidr: str) -> str:
        return policy(
            statement(
                "Allow", "*", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                Condition={"IpAddress": {"aws:SourceIp": [cidr]}},
            )
        )  # fmt: skip

    s3.put_bucket_policy(Bucket=bucket, Policy=allow_from("10.0.0.0/8"))
    assert httpx.get(url).status_code == 403
    s3.put_bucket_policy(Bucket=bucket, Policy=allow_from("127.0.0.0/8"))
    assert httpx.get(url).content == b"v"
    # NotIpAddress Deny for everyone outside 10/8: the owner itself is refused from 127.0.0.1
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=policy(
            statement(
                "Deny", "*", "s3:*", [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"],
                Condition={"NotIpAddress": {"aws:SourceIp": "10.0.0.0/8"}},
            )
        ),
    )  # fmt: skip
    assert denied(lambda: s3.get_object(Bucket=bucket, Key="k")) == ("AccessDenied", 403)
    assert denied(lambda: s3.list_objects_v2(Bucket=bucket)) == ("AccessDenied", 403)
    # Deny over plain HTTP (this server's listener has no TLS); a Deny of TLS does not apply
    for secure in ("false", "true"):
        s3.put_bucket_policy(
            Bucket=bucket,
            Policy=policy(
                statement(
                    "Deny", "*", "s3:GetObject", f"arn:aws:s3:::{bucket}/*",
                    Condition={"Bool": {"aws:SecureTransport": secure}},
                )
            ),
        )  # fmt: skip
        if secure == "false":
            assert denied(lambda: s3.get_object(Bucket=bucket, Key="k")) == ("AccessDenied", 403)
        else:
            assert s3.get_object(Bucket=bucket, Key="k")["Body"].read() == b"v"


def test_policy_of_a_missing_bucket_and_a_non_utf8_body(
    s3_server: S3Server, s3: BaseClient, bucket: str
) -> None:
    assert denied(lambda: s3.get_bucket_policy(Bucket="no-such-bucket-policy-test")) == (
        "NoSuchBucket",
        404,
    )
    response = signed_request(s3_server, "PUT", f"/{bucket}", query="policy", body=b"\xff\xfe")
    assert response.status_code == 400 and "<Code>MalformedPolicy</Code>" in response.text


def test_ownership_controls_and_public_access_block_are_not_implemented(
    s3: BaseClient, bucket: str
) -> None:
    assert denied(lambda: s3.get_bucket_ownership_controls(Bucket=bucket)) == (
        "NotImplemented",
        501,
    )
    config = {"BlockPublicAcls": True}
    assert denied(
        lambda: s3.put_public_access_block(Bucket=bucket, PublicAccessBlockConfiguration=config)
    ) == ("NotImplemented", 501)


def test_delete_objects_honours_a_deny_per_key(s3: BaseClient, policy_bucket: str) -> None:
    bucket = policy_bucket
    for key in ("keep/a", "tmp/b"):
        s3.put_object(Bucket=bucket, Key=key, Body=b"x")
    s3.put_bucket_policy(
        Bucket=bucket,
        Policy=policy(statement("Deny", "*", "s3:DeleteObject", f"arn:aws:s3:::{bucket}/keep/*")),
    )
    result = s3.delete_objects(
        Bucket=bucket, Delete={"Objects": [{"Key": "keep/a"}, {"Key": "tmp/b"}]}
    )
    assert [item["Key"] for item in result["Deleted"]] == ["tmp/b"]
    assert [(item["Key"], item["Code"]) for item in result["Errors"]] == [
        ("keep/a", "AccessDenied")
    ]
    assert [item["Key"] for item in s3.list_objects_v2(Bucket=bucket)["Contents"]] == ["keep/a"]
