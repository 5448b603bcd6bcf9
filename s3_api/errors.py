"""S3 errors, one tiny class per wire code, and the one mapping from core and auth errors.

S3Error                 code = the class name, status = the HTTP status
 ├── 400  InvalidArgument, InvalidBucketName, InvalidRequest, KeyTooLongError,
 │        MalformedXML, BadDigest, IncompleteBody, EntityTooLarge, InvalidDigest,
 │        AuthorizationHeaderMalformed, AuthorizationQueryParametersError,
 │        XAmzContentSHA256Mismatch, InvalidLocationConstraint, TooManyBuckets
 ├── 403  AccessDenied, InvalidAccessKeyId, SignatureDoesNotMatch, RequestTimeTooSkewed
 ├── 404  NoSuchBucket, NoSuchKey
 ├── 405  MethodNotAllowed
 ├── 409  BucketAlreadyExists, BucketAlreadyOwnedByYou, BucketNotEmpty, OperationAborted
 ├── 411  MissingContentLength
 ├── 412  PreconditionFailed
 ├── 416  InvalidRange
 ├── 500  InternalError
 ├── 501  NotImplemented (class NotImplementedFeature)
 └── 503  ServiceUnavailable
"""

from __future__ import annotations

from typing import Any

from core.buckets import (
    BUCKET,
    BucketNameTaken,
    IncompleteUpload,
    KeyTooLong,
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


class InvalidLocationConstraint(S3Error):
    status = 400
    message = "The specified location-constraint is not valid."


class TooManyBuckets(S3Error):
    status = 400
    message = "You have attempted to create more buckets than allowed."


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
    if isinstance(error, NotFound):
        if error.kind == BUCKET:
            return NoSuchBucket(BucketName=str(error.ident))
        return NoSuchKey(Key=str(error.ident))
    if isinstance(error, PermissionDenied):
        return AccessDenied()
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


def _invalid_parameter(error: InvalidParameter) -> S3Error:
    if error.parameter == BUCKET:
        return InvalidBucketName(error.message)
    return InvalidArgument(error.message, ArgumentName=error.parameter)
