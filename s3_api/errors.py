"""S3 errors, one tiny class per wire code, and the one mapping from core and auth errors.

S3Error                 code = the class name, status = the HTTP status
 ├── 400  InvalidArgument, InvalidBucketName, InvalidRequest, KeyTooLongError, InvalidTag,
 │        BadRequest, MalformedPolicy, MalformedACLError, UnresolvableGrantByEmailAddress,
 │        MalformedXML, BadDigest, IncompleteBody, EntityTooLarge, InvalidDigest,
 │        AuthorizationHeaderMalformed, AuthorizationQueryParametersError,
 │        XAmzContentSHA256Mismatch, InvalidLocationConstraint, TooManyBuckets,
 │        EntityTooSmall, InvalidPart, InvalidPartOrder (multipart uploads)
 ├── 403  AccessDenied, AccessForbidden (CORS preflight), InvalidAccessKeyId,
 │        SignatureDoesNotMatch, RequestTimeTooSkewed
 ├── 404  NoSuchBucket, NoSuchKey, NoSuchCORSConfiguration, NoSuchLifecycleConfiguration,
 │        NoSuchTagSet, NoSuchBucketPolicy, NoSuchVersion, NoSuchUpload
 ├── 405  MethodNotAllowed
 ├── 409  BucketAlreadyExists, BucketAlreadyOwnedByYou, BucketNotEmpty, OperationAborted
 ├── 411  MissingContentLength
 ├── 412  PreconditionFailed
 ├── 416  InvalidRange, InvalidPartNumber
 ├── 500  InternalError
 ├── 501  NotImplemented (class NotImplementedFeature)
 └── 503  ServiceUnavailable
"""

from __future__ import annotations

from email.utils import format_datetime
from typing import Any

from core import multipart
from core import object_versions as core_versions
from core.bucket_cors import CORS_CONFIGURATION, INVALID_REQUEST, MALFORMED
from core.bucket_lifecycle import LIFECYCLE_CONFIGURATION
from core.bucket_policy import POLICY
from core.bucket_tags import INVALID_TAG, TAG_SET
from core.buckets import (
    BUCKET,
    BucketNameTaken,
    IncompleteUpload,
    KeyTooLong,
    PreconditionNotMet,
    RangeNotSatisfiable,
)
from core.errors import (
    CloudgateError,
    InvalidParameter,
    LimitExceeded,
    NotFound,
    PermissionDenied,
    ResourceInUse,
    ResourceUnavailable,
)
from core.object_copy import COPY_SOURCE
from core.object_tags import TooManyTags
from core.object_versions import DeleteMarkerFound
from translators.aws_auth import AuthError, SignatureMismatch


class S3Error(Exception):
    """An error S3 clients understand: `<Error><Code/><Message/>…</Error>` with a status."""

    code = "InternalError"
    status = 500
    message = "We encountered an internal error. Please try again."

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.code = cls.__dict__.get("code", cls.__name__)

    def __init__(self, message: str | None = None, **fields: Any) -> None:
        super().__init__(message or self.message)
        self.message = message or self.message
        self.fields = {name: value for name, value in fields.items() if value is not None}
        self.headers: dict[str, str] = {}  # sent with the error (x-amz-delete-marker …)


class InvalidArgument(S3Error):
    status = 400
    message = "Invalid Argument"


class InvalidBucketName(S3Error):
    status = 400
    message = "The specified bucket is not valid."


class InvalidRequest(S3Error):
    status = 400
    message = "Invalid Request"


class KeyTooLongError(S3Error):
    status = 400
    message = "Your key is too long"


class MalformedXML(S3Error):
    status = 400
    message = "The XML you provided was not well-formed or did not validate against our schema."


class BadDigest(S3Error):
    status = 400
    message = "The Content-MD5 or checksum you specified did not match what we received."


class InvalidDigest(S3Error):
    status = 400
    message = "The Content-MD5 or checksum you specified is not valid."


class IncompleteBody(S3Error):
    status = 400
    message = "You did not provide the number of bytes specified by the Content-Length header."


class EntityTooLarge(S3Error):
    status = 400
    message = "Your proposed upload exceeds the maximum allowed size."


class EntityTooSmall(S3Error):
    status = 400
    message = "Your proposed upload is smaller than the minimum allowed object size."


class InvalidPart(S3Error):
    status = 400
    message = (
        "One or more of the specified parts could not be found. The part may not have been"
        " uploaded, or the specified entity tag may not match the part's entity tag."
    )


class InvalidPartOrder(S3Error):
    status = 400
    message = "The list of parts was not in ascending order. Parts must be ordered by part number."


class InvalidLocationConstraint(S3Error):
    status = 400
    message = "The specified location-constraint is not valid."


class TooManyBuckets(S3Error):
    status = 400
    message = "You have attempted to create more buckets than allowed."


class BadRequest(S3Error):
    status = 400
    message = "Bad Request"


class InvalidTag(S3Error):
    status = 400
    message = "The tag provided was not a valid tag."


class MalformedPolicy(S3Error):
    status = 400
    message = "Policies must be valid JSON and the first byte must be '{'"


class MalformedACLError(S3Error):
    status = 400
    message = "The XML you provided was not well-formed or did not validate against our"
    message += " published schema"


class UnresolvableGrantByEmailAddress(S3Error):
    status = 400
    message = "The e-mail address you provided does not match any account on record."


class AuthorizationHeaderMalformed(S3Error):
    status = 400
    message = "The authorization header you provided is invalid."


class AuthorizationQueryParametersError(S3Error):
    status = 400
    message = "Query-string authentication parameters are invalid."


class XAmzContentSHA256Mismatch(S3Error):
    status = 400
    message = "The provided 'x-amz-content-sha256' header does not match what was computed."


class AccessDenied(S3Error):
    status = 403
    message = "Access Denied"


class AccessForbidden(S3Error):
    status = 403
    message = "CORSResponse: This CORS request is not allowed. This is usually because the"
    message += " evalution of Origin, request method / Access-Control-Request-Method or"
    message += " Access-Control-Request-Headers are not whitelisted by the resource's CORS spec."


class InvalidAccessKeyId(S3Error):
    status = 403
    message = "The AWS Access Key Id you provided does not exist in our records."


class SignatureDoesNotMatch(S3Error):
    status = 403
    message = "The request signature we calculated does not match the signature you provided."


class RequestTimeTooSkewed(S3Error):
    status = 403
    message = "The difference between the request time and the current time is too large."


class NoSuchBucket(S3Error):
    status = 404
    message = "The specified bucket does not exist"


class NoSuchKey(S3Error):
    status = 404
    message = "The specified key does not exist."


class NoSuchUpload(S3Error):
    status = 404
    message = (
        "The specified multipart upload does not exist. The upload ID might be invalid, or the"
        " multipart upload might have been aborted or completed."
    )


class NoSuchBucketPolicy(S3Error):
    status = 404
    message = "The bucket policy does not exist"


class NoSuchCORSConfiguration(S3Error):
    status = 404
    message = "The CORS configuration does not exist"


class NoSuchLifecycleConfiguration(S3Error):
    status = 404
    message = "The lifecycle configuration does not exist"


class NoSuchTagSet(S3Error):
    status = 404
    message = "The TagSet does not exist"


class NoSuchVersion(S3Error):
    status = 404
    message = "The specified version does not exist."


class MethodNotAllowed(S3Error):
    status = 405
    message = "The specified method is not allowed against this resource."


class BucketAlreadyExists(S3Error):
    status = 409
    message = "The requested bucket name is not available."


class BucketAlreadyOwnedByYou(S3Error):
    status = 409
    message = "Your previous request to create the named bucket succeeded and you already own it."


class BucketNotEmpty(S3Error):
    status = 409
    message = "The bucket you tried to delete is not empty"


class OperationAborted(S3Error):
    status = 409
    message = "A conflicting conditional operation is currently in progress against this resource."


class MissingContentLength(S3Error):
    status = 411
    message = "You must provide the Content-Length HTTP header."


class PreconditionFailed(S3Error):
    status = 412
    message = "At least one of the preconditions you specified did not hold."


class InvalidRange(S3Error):
    status = 416
    message = "The requested range is not satisfiable"


class InvalidPartNumber(S3Error):
    status = 416
    message = "The requested partnumber is not satisfiable"


class InternalError(S3Error):
    status = 500


class NotImplementedFeature(S3Error):
    # Named apart from its wire code: `NotImplemented` is a Python builtin.
    code = "NotImplemented"
    status = 501
    message = "A header or query you provided implies functionality that is not implemented."


class ServiceUnavailable(S3Error):
    status = 503
    message = "Please reduce your request rate."


_BY_CODE: dict[str, type[S3Error]] = {cls.code: cls for cls in S3Error.__subclasses__()}
# NotFound kinds of bucket sub-resources: their S3 error names the bucket.
_NO_SUCH_CONFIGURATION: dict[str, type[S3Error]] = {
    CORS_CONFIGURATION: NoSuchCORSConfiguration,
    LIFECYCLE_CONFIGURATION: NoSuchLifecycleConfiguration,
    TAG_SET: NoSuchTagSet,
    POLICY: NoSuchBucketPolicy,
}
# InvalidParameter.parameter values that S3 refuses with an error of their own.
_INVALID_BY_PARAMETER: dict[str, type[S3Error]] = {
    MALFORMED: MalformedXML,
    INVALID_REQUEST: InvalidRequest,
    INVALID_TAG: InvalidTag,
    POLICY: MalformedPolicy,
    multipart.CHECKSUM: BadDigest,
}


def from_auth_error(error: AuthError) -> S3Error:
    """The S3 error for a failed signature check; AWS echoes what it signed to help debug."""
    cls = _BY_CODE.get(error.s3_code, AccessDenied)
    fields: dict[str, Any] = {}
    if isinstance(error, SignatureMismatch) and cls is SignatureDoesNotMatch:
        fields = {
            "AWSAccessKeyId": error.access_key or None,
            "StringToSign": error.string_to_sign or None,
            "SignatureProvided": error.signature_provided or None,
            "CanonicalRequest": error.canonical_request or None,
        }
    return cls(error.message, **fields)


def from_core_error(error: CloudgateError) -> S3Error:
    """The S3 error for a core error; the one place the core vocabulary meets S3's."""
    if isinstance(error, BucketNameTaken):
        cls = BucketAlreadyOwnedByYou if error.owned_by_caller else BucketAlreadyExists
        return cls(BucketName=error.name)
    if isinstance(error, DeleteMarkerFound | core_versions.NoSuchVersion | TooManyTags):
        return _versions_error(error)
    if isinstance(error, _MULTIPART_ERRORS):
        return _multipart_error(error)
    if isinstance(error, NotFound):
        if error.kind == BUCKET:
            return NoSuchBucket(BucketName=str(error.ident))
        if error.kind in _NO_SUCH_CONFIGURATION:
            return _NO_SUCH_CONFIGURATION[error.kind](BucketName=str(error.ident))
        return NoSuchKey(Key=str(error.ident))
    if isinstance(error, PermissionDenied):
        return AccessDenied()
    if isinstance(error, PreconditionNotMet):
        return PreconditionFailed(Condition=error.condition or None)
    if isinstance(error, RangeNotSatisfiable):
        start, end = error.byte_range
        requested = f"bytes={start}" if start < 0 else f"bytes={start}-{'' if end is None else end}"
        return InvalidRange(RangeRequested=requested, ActualObjectSize=error.size)
    if isinstance(error, IncompleteUpload):
        return IncompleteBody()
    if isinstance(error, KeyTooLong):
        return KeyTooLongError(error.message, Size=error.size, MaxSizeAllowed=error.limit)
    if isinstance(error, InvalidParameter):
        return _invalid_parameter(error)
    if isinstance(error, ResourceInUse):
        return BucketNotEmpty()
    if isinstance(error, LimitExceeded):
        return TooManyBuckets(error.message)
    if isinstance(error, ResourceUnavailable):
        return ServiceUnavailable(error.message)
    return InternalError()


def _versions_error(error: CloudgateError) -> S3Error:
    """Object versions and tags: a delete marker answers 404 (or 405 when asked for by its
    version id) naming itself in headers, as S3 does; more than ten tags is BadRequest."""
    if isinstance(error, core_versions.NoSuchVersion):
        return NoSuchVersion(Key=error.key, VersionId=error.version_id)
    if isinstance(error, TooManyTags):
        return BadRequest(error.message)
    assert isinstance(error, DeleteMarkerFound)
    if error.by_version_id:
        found: S3Error = MethodNotAllowed(Method="GET", ResourceType="DeleteMarker")
    else:
        found = NoSuchKey(Key=str(error.ident))
    found.headers = {
        "x-amz-delete-marker": "true",
        "x-amz-version-id": error.version_id,
        "last-modified": format_datetime(error.last_modified, usegmt=True),
    }
    return found


_MULTIPART_ERRORS = (
    multipart.NoSuchUpload,
    multipart.InvalidPart,
    multipart.InvalidPartOrder,
    multipart.PartTooSmall,
    multipart.PartTooLarge,
    multipart.UploadBusy,
)


def _multipart_error(error: CloudgateError) -> S3Error:
    if isinstance(error, multipart.NoSuchUpload):
        return NoSuchUpload(UploadId=str(error.ident))
    if isinstance(error, multipart.PartTooSmall):
        return EntityTooSmall(ProposedSize=error.size, MinSizeAllowed=multipart.MIN_PART_SIZE)
    if isinstance(error, multipart.PartTooLarge):
        return EntityTooLarge(error.message, MaxSizeAllowed=multipart.MAX_PART_SIZE)
    if isinstance(error, multipart.UploadBusy):
        return OperationAborted(error.message)
    return InvalidPartOrder() if isinstance(error, multipart.InvalidPartOrder) else InvalidPart()


def _invalid_parameter(error: InvalidParameter) -> S3Error:
    if error.parameter == BUCKET:
        return InvalidBucketName(error.message)
    if error.parameter == COPY_SOURCE:
        return InvalidRequest(error.message)
    if error.parameter in _INVALID_BY_PARAMETER:
        return _INVALID_BY_PARAMETER[error.parameter](error.message)
    return InvalidArgument(error.message, ArgumentName=error.parameter)
