"""What OpenStack Swift's own S3 layer (the s3api middleware) does with each S3 operation.

docs/s3-api.md shows it next to cloudgate's coverage, because Swift's s3api is the reference
a Swift operator compares cloudgate with. Read from Swift 2.38's source — the request router
(`swift/common/middleware/s3api/s3request.py`, `S3Request.controller`: `cors`, `policy`,
`website`, … go to `UnsupportedController`, which answers 501) and the controllers under
`s3api/controllers/` — and from Swift's "S3/Swift REST API Comparison Matrix"
(`doc/source/s3_compat.rst`, https://docs.openstack.org/swift/latest/s3_compat.html).
"""

from __future__ import annotations

SOURCE = (
    "OpenStack Swift 2.38 s3api middleware: `swift/common/middleware/s3api/s3request.py`"
    " (`S3Request.controller`), `s3api/controllers/*.py`, and Swift's S3/Swift REST API"
    " Comparison Matrix (https://docs.openstack.org/swift/latest/s3_compat.html)"
)

YES = "yes"
VERSIONING = "yes, with Swift's `object_versioning` middleware"
NOT_IMPLEMENTED = "no (501 NotImplemented)"
# A sub-resource Swift does not recognise is ignored: the request runs as the plain one.
UNKNOWN = "no (sub-resource ignored: runs as the plain {})"

# Operation name (botocore's) → what Swift's s3api does with it.
SWIFT_S3API: dict[str, str] = {
    "ListBuckets": YES,
    "CreateBucket": YES + " (names are per Swift account: no global namespace)",
    "DeleteBucket": YES,
    "HeadBucket": YES,
    "ListObjects": YES + " (v1 and v2)",
    "GetBucketLocation": YES + " (the configured `location`)",
    "GetBucketAcl": YES,
    "PutBucketAcl": YES + " (canned ACLs as container ACLs; grants with `s3_acl = true`)",
    "GetObjectAcl": YES,
    "PutObjectAcl": "only with `s3_acl = true` (501 otherwise)",
    "DeleteObjects": YES,
    "GetBucketVersioning": VERSIONING,
    "PutBucketVersioning": VERSIONING,
    "ListObjectVersions": VERSIONING,
    "GetBucketCors": NOT_IMPLEMENTED,
    "PutBucketCors": NOT_IMPLEMENTED,
    "DeleteBucketCors": NOT_IMPLEMENTED,
    "GetBucketPolicy": NOT_IMPLEMENTED,
    "PutBucketPolicy": NOT_IMPLEMENTED,
    "DeleteBucketPolicy": NOT_IMPLEMENTED,
    "GetBucketPolicyStatus": UNKNOWN.format("ListObjects"),
    "GetBucketLifecycleConfiguration": UNKNOWN.format("ListObjects"),
    "PutBucketLifecycleConfiguration": UNKNOWN.format("CreateBucket"),
    "DeleteBucketLifecycle": UNKNOWN.format("DeleteBucket"),
    "GetBucketTagging": "always an empty TagSet",
    "PutBucketTagging": NOT_IMPLEMENTED,
    "DeleteBucketTagging": NOT_IMPLEMENTED,
    "GetObjectTagging": "always an empty TagSet",
    "PutObjectTagging": NOT_IMPLEMENTED,
    "DeleteObjectTagging": NOT_IMPLEMENTED,
    "CreateMultipartUpload": YES + " (segments container + SLO manifest)",
    "UploadPart": YES,
    "UploadPartCopy": YES,
    "CompleteMultipartUpload": YES + " (conditional completes: 501)",
    "AbortMultipartUpload": YES,
    "ListParts": YES,
    "ListMultipartUploads": YES,
    "PutObject": YES,
    "GetObject": YES,
    "HeadObject": YES,
    "CopyObject": YES,
    "DeleteObject": YES,
    "GetObjectAttributes": UNKNOWN.format("GetObject"),
}

# Operations Swift's s3api answers and cloudgate does not route (they answer 501 here).
SWIFT_ONLY: dict[str, str] = {
    "GetBucketLogging": "an empty BucketLoggingStatus (logging is never on)",
    "GetObjectLockConfiguration": "always ObjectLockConfigurationNotFoundError",
}


def swift_support(operation: str) -> str:
    """The cell of the Swift column for one of cloudgate's operations."""
    return SWIFT_S3API.get(operation, "no")
