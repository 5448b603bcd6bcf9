"""The service resource (`GET /`): ListBuckets."""

from __future__ import annotations

from starlette.responses import Response

from core import buckets as core_buckets
from core.context import CallContext
from s3_api.call import S3Call
from s3_api.operation import Level, Operation
from s3_api.wire import render


def owner(ctx: CallContext) -> dict[str, str]:
    """S3's Owner: the account (not the user) owns buckets and objects."""
    return {"ID": ctx.account_uuid, "DisplayName": ctx.account_name}


def list_buckets(call: S3Call) -> Response:
    """ListBuckets: the caller's account's buckets only."""
    with call.runtime.db.read() as session:
        found = core_buckets.list_buckets(session, call.ctx)
    result = {
        "Buckets": [
            {"Name": bucket.name, "CreationDate": bucket.created, "BucketRegion": bucket.region}
            for bucket in found
        ],
        "Owner": owner(call.ctx),
    }
    return render("ListBuckets", result, request_id=call.request_id)


OPERATIONS = (Operation("ListBuckets", Level.SERVICE, "GET", None, list_buckets),)
