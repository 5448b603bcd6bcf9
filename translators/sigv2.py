"""AWS Signature Version 2, for the clients that still send it.

- S3 (`Authorization: AWS AKID:signature`, or `AWSAccessKeyId`/`Expires`/`Signature` in the
  query): HMAC-SHA1 over method, Content-MD5, Content-Type, Date, the x-amz-* headers and the
  resource `/bucket/key?subresources`. Used by s3cmd (`signature_v2 = True`), boto2 and
  botocore's `signature_version="s3"`.
- EC2 Query (`SignatureVersion=2`, HmacSHA256 or HmacSHA1): apache-libcloud's EC2 driver
  signs this way by default (`DEFAULT_SIGNATURE_VERSION = "2"`, which its region table keeps
  for us-east-1, the default region, when pointed at a custom host).
"""

from __future__ import annotations

import base64
import hmac
from collections.abc import Iterable
from datetime import UTC, datetime
from urllib.parse import quote, unquote_to_bytes

from translators.aws_auth import (
    AuthRequest,
    AuthResult,
    InvalidPresign,
    MalformedAuthorization,
    PayloadMode,
    PresignExpired,
    RequestTimeSkewed,
    SecretLookup,
    SignatureMismatch,
    check_skew,
    find_secret,
    parse_any_date,
    s3_path_forms,
    wire_bytes,
)

# Union of the sub-resources AWS documents, botocore's HmacV1Auth signs and s3cmd signs:
# a client signs every one of these it sends, so the server must include them all.
S3_SUBRESOURCES = frozenset(
    {
        "accelerate", "acl", "analytics", "cors", "defaultObjectAcl", "delete", "inventory",
        "lifecycle", "location", "logging", "metrics", "notification", "object-lock",
        "partNumber", "policy", "replication", "requestPayment", "restore", "select",
        "select-type", "storageClass", "tagging", "torrent", "uploadId", "uploads",
        "versionId", "versioning", "versions", "website",
        "response-cache-control", "response-content-disposition", "response-content-encoding",
        "response-content-language", "response-content-type", "response-expires",
    }
)  # fmt: skip
_EC2_DIGESTS = {"HmacSHA256": "sha256", "HmacSHA1": "sha1"}


# --- S3 -----------------------------------------------------------------------------------


def verify_s3_header(
    request: AuthRequest, *, lookup_secret: SecretLookup, now: datetime
) -> AuthResult:
    """Verify `Authorization: AWS AKID:base64(HMAC-SHA1(secret, StringToSign))`."""
    access_key, signature = _parse_s3_authorization(request.header("authorization") or "")
    signed_at = _s3_header_time(request)
    check_skew(signed_at, now)
    secret = find_secret(lookup_secret, access_key)
    candidates = [
        s3_string_to_sign(request, date_slot=slot, resource=resource)
        for slot in _date_slots(request)
        for resource in canonical_resources(request)
    ]
    _match(secret, "sha1", candidates, signature, access_key)
    return AuthResult(access_key=access_key, service="s3", signature_version=2, signed_at=signed_at)


def verify_s3_query(
    request: AuthRequest, *, lookup_secret: SecretLookup, now: datetime
) -> AuthResult:
    """Verify a SigV2 presigned URL (`AWSAccessKeyId`, `Expires`, `Signature`)."""
    access_key = request.query_value("AWSAccessKeyId")
    signature = request.query_value("Signature")
    expires = request.query_value("Expires")
    if not (access_key and signature and expires):
        raise InvalidPresign(
            "Query-string authentication requires the Signature, Expires and "
            "AWSAccessKeyId parameters"
        )
    expires_at = _epoch(expires)
    if now > expires_at:
        raise PresignExpired("Request has expired", expires_at=expires_at, server_time=now)
    secret = find_secret(lookup_secret, access_key)
    candidates = [
        s3_string_to_sign(request, date_slot=expires, resource=resource, from_query=True)
        for resource in canonical_resources(request)
    ]
    _match(secret, "sha1", candidates, _base64_param(signature), access_key)
    return AuthResult(
        access_key=access_key,
        service="s3",
        signature_version=2,
        signed_at=now,
        presigned=True,
        expires_at=expires_at,
    )


def s3_string_to_sign(
    request: AuthRequest, *, date_slot: str, resource: str, from_query: bool = False
) -> str:
    """METHOD, Content-MD5, Content-Type, date slot, x-amz-* lines, then the resource."""
    lines = [
        request.method,
        _standard_header(request, "content-md5", from_query),
        _standard_header(request, "content-type", from_query),
        date_slot,
    ]
    return "\n".join(lines) + "\n" + canonical_amz_headers(request, from_query) + resource


def canonical_amz_headers(request: AuthRequest, from_query: bool = False) -> str:
    """`x-amz-name:v1,v2\\n` per x-amz-* header, sorted; presigned URLs may carry them in the
    query (botocore moves x-amz-security-token and friends there)."""
    found = {
        name: ",".join(value.strip() for value in values)
        for name, values in request.headers.items()
        if name.startswith("x-amz-")
    }
    if from_query:
        for key, value in request.query_params:
            name = key.lower()
            if name.startswith("x-amz-"):
                found.setdefault(name, value.strip())
    return "".join(f"{name}:{found[name]}\n" for name in sorted(found))


def canonical_resources(request: AuthRequest) -> list[str]:
    """`/bucket/key?sub-resources` candidates (see `s3_path_forms`)."""
    bucket = f"/{request.bucket}" if request.bucket else ""
    subresources = _subresources(request)
    return [bucket + path + subresources for path in s3_path_forms(request.path)]


def _subresources(request: AuthRequest) -> str:
    found = []
    for key, value in request.raw_query_pairs:
        name = _percent_decode(key)
        if name in S3_SUBRESOURCES:
            # Signed decoded, and `?acl` differs from `?acl=` (botocore keeps what was sent).
            found.append((name, name if value is None else f"{name}={_percent_decode(value)}"))
    found.sort(key=lambda item: item[0])
    return "?" + "&".join(text for _, text in found) if found else ""


def _standard_header(request: AuthRequest, name: str, from_query: bool) -> str:
    value = request.header(name)
    if value is None and from_query:
        value = request.query_value(name)
    return (value or "").strip()


def _date_slots(request: AuthRequest) -> list[str]:
    # AWS: with x-amz-date the Date line is empty (s3cmd); botocore still signs its Date.
    date = (request.header("date") or "").strip()
    if request.header("x-amz-date") is not None and date:
        return [date, ""]
    return [date]


def _s3_header_time(request: AuthRequest) -> datetime:
    value = request.header("x-amz-date") or request.header("date")
    if not value:
        raise MalformedAuthorization(
            "AWS authentication requires a valid Date or x-amz-date header"
        )
    try:
        return parse_any_date(value)
    except ValueError:
        raise MalformedAuthorization("Invalid date in x-amz-date or Date header") from None


def _parse_s3_authorization(value: str) -> tuple[str, str]:
    access_key, sep, signature = value.strip()[len("AWS ") :].strip().rpartition(":")
    if not (sep and access_key and signature):
        raise MalformedAuthorization(
            "Authorization header is invalid -- one and only one ' ' (space) required"
        )
    return access_key, signature


# --- EC2 Query ----------------------------------------------------------------------------


def has_query_signature(request: AuthRequest) -> bool:
    """Whether the query or form body carries EC2 Query SigV2 parameters."""
    keys = {key for key, _ in (*request.query_params, *request.form_params)}
    return {"AWSAccessKeyId", "Signature"} <= keys


def verify_query_v2(
    request: AuthRequest, *, service: str, lookup_secret: SecretLookup, now: datetime
) -> AuthResult:
    """Verify `SignatureVersion=2` parameters in the query (GET) or form body (POST)."""
    params = (*request.query_params, *request.form_params)
    values = dict(reversed(params))  # the first occurrence wins
    if values.get("SignatureVersion") != "2":
        raise MalformedAuthorization(
            f"SignatureVersion {values.get('SignatureVersion')!r} is not supported"
        )
    digest = _EC2_DIGESTS.get(values.get("SignatureMethod", ""))
    if digest is None:
        raise MalformedAuthorization("SignatureMethod must be HmacSHA256 or HmacSHA1")
    signed_at, expires_at = _query_v2_time(values, now)
    host = request.header("host")
    if not host:
        raise MalformedAuthorization("SignatureVersion 2 needs a Host header")
    access_key = values["AWSAccessKeyId"]
    secret = find_secret(lookup_secret, access_key)
    query = ec2_canonical_query(params)
    candidates = [
        f"{request.method}\n{name}\n{request.path or '/'}\n{query}"
        for name in dict.fromkeys([host.lower(), host])
    ]
    _match(secret, digest, candidates, _base64_param(values["Signature"]), access_key)
    return AuthResult(
        access_key=access_key,
        service=service,
        signature_version=2,
        signed_at=signed_at,
        expires_at=expires_at,
        payload=PayloadMode.SIGNED,
    )


def ec2_canonical_query(params: Iterable[tuple[str, str]]) -> str:
    """Every parameter except Signature, sorted by name, RFC 3986-encoded."""
    pairs = sorted(
        (wire_bytes(key), wire_bytes(value)) for key, value in params if key != "Signature"
    )
    return "&".join(
        f"{quote(key, safe='-_.~')}={quote(value, safe='-_.~')}" for key, value in pairs
    )


def _query_v2_time(values: dict[str, str], now: datetime) -> tuple[datetime, datetime | None]:
    try:
        if "Timestamp" in values:
            signed_at = parse_any_date(values["Timestamp"])
            check_skew(signed_at, now)
            return signed_at, None
        if "Expires" in values:
            expires_at = parse_any_date(values["Expires"])
            if now > expires_at:
                raise RequestTimeSkewed(
                    "Request has expired", request_time=expires_at, server_time=now
                )
            return now, expires_at
    except ValueError:
        raise MalformedAuthorization("Timestamp or Expires is not a valid date") from None
    raise MalformedAuthorization("SignatureVersion 2 requires a Timestamp or Expires parameter")


# --- shared -------------------------------------------------------------------------------


def _match(secret: str, digest: str, candidates: list[str], provided: str, access_key: str) -> None:
    provided_bytes = wire_bytes(provided.strip())
    for text in candidates:
        mac = hmac.new(secret.encode(), wire_bytes(text), digest)
        if hmac.compare_digest(base64.b64encode(mac.digest()), provided_bytes):
            return
    raise SignatureMismatch(
        access_key=access_key, string_to_sign=candidates[0], signature_provided=provided
    )


def _base64_param(value: str) -> str:
    # Query values were form-decoded; a '+' a client left unencoded came back as a space,
    # and spaces never occur in base64.
    return value.replace(" ", "+")


def _percent_decode(text: str) -> str:
    return unquote_to_bytes(wire_bytes(text)).decode("utf-8", "surrogateescape")


def _epoch(value: str) -> datetime:
    try:
        return datetime.fromtimestamp(int(value), UTC)
    except (ValueError, OverflowError, OSError):
        raise InvalidPresign("Invalid Expires parameter") from None
