"""Bucket tagging: Put/Get/DeleteBucketTagging (the tag set is replaced whole)."""

from __future__ import annotations

from starlette.responses import Response

from core import bucket_tags
from s3_api.call import S3Call
from s3_api.operation import Level, Operation
from s3_api.wire import parse_payload, render


def put_bucket_tagging(call: S3Call) -> Response:
    """PutBucketTagging: InvalidTag for S3's tag rules (50 tags, key and value lengths)."""
    document = parse_payload("PutBucketTagging", call.body)
    tags = [(tag.get("Key", ""), tag.get("Value", "")) for tag in document.get("TagSet") or ()]
    with call.runtime.db.write() as session:
        bucket_tags.put_tags(session, call.ctx, call.bucket, tags)
    return Response(status_code=204)


def get_bucket_tagging(call: S3Call) -> Response:
    """GetBucketTagging; NoSuchTagSet when the bucket has no tags."""
    with call.runtime.db.read() as session:
        tags = bucket_tags.get_tags(session, call.ctx, call.bucket)
    result = {"TagSet": [{"Key": key, "Value": value} for key, value in tags]}
    return render("GetBucketTagging", result, request_id=call.request_id)


def delete_bucket_tagging(call: S3Call) -> Response:
    """DeleteBucketTagging: 204."""
    with call.runtime.db.write() as session:
        bucket_tags.delete_tags(session, call.ctx, call.bucket)
    return Response(status_code=204)


OPERATIONS = (
    Operation("PutBucketTagging", Level.BUCKET, "PUT", "tagging", put_bucket_tagging),
    Operation("GetBucketTagging", Level.BUCKET, "GET", "tagging", get_bucket_tagging),
    Operation("DeleteBucketTagging", Level.BUCKET, "DELETE", "tagging", delete_bucket_tagging),
)
