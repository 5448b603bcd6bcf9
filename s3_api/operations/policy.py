"""Bucket policy: PutBucketPolicy, GetBucketPolicy, DeleteBucketPolicy, GetBucketPolicyStatus.

Only the bucket's owner (or a root admin) manages its policy, and a Deny in the policy does
not stop it, as on AWS (where the account root cannot lock itself out). What a policy may
say, and how it is evaluated, is `core.bucket_policy`'s. Ownership controls and the public
access block are not routed, so they answer NotImplemented.
"""

from __future__ import annotations

from starlette.responses import Response

from core import bucket_policy
from core import buckets as core_buckets
from core.buckets import POLICY
from s3_api.call import S3Call
from s3_api.errors import MalformedPolicy
from s3_api.operation import Level, Operation
from s3_api.wire import render


def put_bucket_policy(call: S3Call) -> Response:
    """The body is the policy document (JSON), stored as given once it validates."""
    try:
        document = call.body.decode("utf-8")
    except UnicodeDecodeError:
        raise MalformedPolicy("Policies must be UTF-8 encoded JSON") from None
    with call.runtime.db.write() as session:
        bucket = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=POLICY)
        bucket_policy.put_policy(session, bucket.id, bucket.name, document)
    return Response(status_code=204)


def get_bucket_policy(call: S3Call) -> Response:
    with call.runtime.db.read() as session:
        bucket = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=POLICY)
        document = bucket_policy.get_policy(session, bucket.id, bucket.name)
    response = render("GetBucketPolicy", {"Policy": document}, request_id=call.request_id)
    response.headers["content-type"] = "application/json"
    return response


def delete_bucket_policy(call: S3Call) -> Response:
    with call.runtime.db.write() as session:
        bucket = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=POLICY)
        bucket_policy.delete_policy(session, bucket.id)
    return Response(status_code=204)


def get_bucket_policy_status(call: S3Call) -> Response:
    """IsPublic: the policy allows everyone something, without a source-address condition."""
    with call.runtime.db.read() as session:
        bucket = core_buckets.get_bucket_for(session, call.ctx, call.bucket, action=POLICY)
        public = bucket_policy.is_public(session, bucket.id, bucket.name)
    return render(
        "GetBucketPolicyStatus", {"PolicyStatus": {"IsPublic": public}}, request_id=call.request_id
    )


OPERATIONS = (
    Operation("PutBucketPolicy", Level.BUCKET, "PUT", "policy", put_bucket_policy),
    Operation("GetBucketPolicy", Level.BUCKET, "GET", "policy", get_bucket_policy),
    Operation("DeleteBucketPolicy", Level.BUCKET, "DELETE", "policy", delete_bucket_policy),
    Operation(
        "GetBucketPolicyStatus", Level.BUCKET, "GET", "policyStatus", get_bucket_policy_status
    ),
)
