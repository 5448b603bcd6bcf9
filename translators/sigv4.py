"""AWS Signature Version 4: Authorization header, presigned query, and aws-chunked chunks.

Canonicalization follows what botocore sends (botocore/auth.py is the reference):
- S3 signs the path exactly as sent; other services sign the path normalized (dot segments
  and empty segments removed) and percent-encoded again, i.e. `%20` becomes `%2520`.
- The query is decoded and re-encoded per RFC 3986 (`-_.~` unreserved, space as `%20`),
  sorted by encoded key then value; `a` and `a=` both canonicalize to `a=`.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import NamedTuple
from urllib.parse import quote

from translators.aws_auth import (
    AMZ_DATE_FORMAT,
    EMPTY_SHA256,
    MAX_CLOCK_SKEW,
    AuthRequest,
    AuthResult,
    ChunkSigningContext,
    HeadersNotSigned,
    InvalidPresign,
    MalformedAuthorization,
    PayloadHashMismatch,
    PayloadMode,
    PresignExpired,
    SecretLookup,
    SignatureMismatch,
    check_skew,
    find_secret,
    form_decode,
    parse_amz_date,
    parse_any_date,
    s3_path_forms,
    wire_bytes,
)

ALGORITHM = "AWS4-HMAC-SHA256"
CHUNK_ALGORITHM = "AWS4-HMAC-SHA256-PAYLOAD"
TRAILER_ALGORITHM = "AWS4-HMAC-SHA256-TRAILER"
MAX_PRESIGN_SECONDS = 604800
_PRESIGN_PARAMS = (
    "X-Amz-Algorithm",
    "X-Amz-Credential",
    "X-Amz-Date",
    "X-Amz-Expires",
    "X-Amz-SignedHeaders",
    "X-Amz-Signature",
)
_HEX_SHA256 = re.compile(r"[0-9a-f]{64}")
_PAYLOAD_TOKENS = frozenset(mode.value for mode in PayloadMode if mode is not PayloadMode.SIGNED)
_UNRESERVED = "-_.~"


@dataclass(frozen=True)
class CredentialScope:
    """`AKID/20130524/us-east-1/s3/aws4_request`, split."""

    access_key: str
    date: str
    region: str
    service: str

    @property
    def text(self) -> str:
        """The scope as it appears in the string to sign (without the access key)."""
        return f"{self.date}/{self.region}/{self.service}/aws4_request"


class _Payload(NamedTuple):
    canonical_hash: str  # the last line of the canonical request
    mode: PayloadMode
    declared: str | None  # a signed body hash that still has to be compared with the body


@dataclass(frozen=True)
class _Claim:
    """What the request says it signed, before any of it is trusted."""

    scope: CredentialScope
    signed_headers: tuple[str, ...]
    signature: str
    amz_date: str
    signed_at: datetime


# --- entry points -------------------------------------------------------------------------


def verify_header(
    request: AuthRequest, *, service: str, lookup_secret: SecretLookup, now: datetime
) -> AuthResult:
    """Verify `Authorization: AWS4-HMAC-SHA256 Credential=…, SignedHeaders=…, Signature=…`."""
    scope, signed_headers, signature = parse_authorization(
        request.header("authorization") or "", service
    )
    amz_date, signed_at = _header_date(request)
    claim = _Claim(scope, signed_headers, signature, amz_date, signed_at)
    _check_scope_date(claim, MalformedAuthorization)
    check_skew(signed_at, now)
    payload = _payload(request, service, presigned=False)
    return _verify(request, claim, service, lookup_secret, payload)


def verify_presigned(
    request: AuthRequest, *, service: str, lookup_secret: SecretLookup, now: datetime
) -> AuthResult:
    """Verify a presigned URL (`X-Amz-Algorithm`, `X-Amz-Credential`, … in the query)."""
    params = {key: value for key, value in reversed(request.query_params)}
    missing = [name for name in _PRESIGN_PARAMS if not params.get(name)]
    if missing:
        raise InvalidPresign(
            "Query-string authentication version 4 requires the X-Amz-Algorithm, "
            "X-Amz-Credential, X-Amz-Signature, X-Amz-Date, X-Amz-SignedHeaders, and "
            f"X-Amz-Expires parameters; missing {', '.join(missing)}."
        )
    if params["X-Amz-Algorithm"] != ALGORITHM:
        raise InvalidPresign(f'X-Amz-Algorithm only supports "{ALGORITHM}"')
    claim = _presign_claim(params, service)
    expires_at = _presign_window(claim, params["X-Amz-Expires"], now)
    payload = _payload(request, service, presigned=True)
    result = _verify(request, claim, service, lookup_secret, payload, exclude="X-Amz-Signature")
    return replace(result, presigned=True, expires_at=expires_at)


# --- chunk signatures (STREAMING-AWS4-HMAC-SHA256-PAYLOAD[-TRAILER]) -----------------------


def chunk_string_to_sign(amz_date: str, scope: str, prev_signature: str, chunk_sha256: str) -> str:
    """String to sign for one aws-chunked chunk (the final, empty chunk included)."""
    return "\n".join([CHUNK_ALGORITHM, amz_date, scope, prev_signature, EMPTY_SHA256, chunk_sha256])


def trailer_string_to_sign(
    amz_date: str, scope: str, prev_signature: str, trailer_sha256: str
) -> str:
    """String to sign for the trailing-headers chunk."""
    return "\n".join([TRAILER_ALGORITHM, amz_date, scope, prev_signature, trailer_sha256])


def canonical_trailers(trailers: Iterable[tuple[str, str]]) -> bytes:
    """Trailing headers as signed: `name:value\\n` each, lowercase names, sorted."""
    lines = sorted(f"{name.strip().lower()}:{value.strip()}\n" for name, value in trailers)
    return wire_bytes("".join(lines))


def verify_chunk(
    context: ChunkSigningContext, prev_signature: str, chunk_sha256: str, signature: str
) -> str:
    """Check one chunk's signature; returns it, as the next chunk chains from it."""
    text = chunk_string_to_sign(context.amz_date, context.scope, prev_signature, chunk_sha256)
    _check_chained(context, text, signature)
    return signature


def verify_trailer(
    context: ChunkSigningContext,
    prev_signature: str,
    trailers: Iterable[tuple[str, str]],
    signature: str,
) -> str:
    """Check `x-amz-trailer-signature` over the trailing headers (excluding itself)."""
    trailer_hash = hashlib.sha256(canonical_trailers(trailers)).hexdigest()
    text = trailer_string_to_sign(context.amz_date, context.scope, prev_signature, trailer_hash)
    _check_chained(context, text, signature)
    return signature


class ChunkVerifier:
    """Follows the signature chain of one aws-chunked body, starting at the seed signature."""

    def __init__(self, context: ChunkSigningContext) -> None:
        self._context = context
        self.previous_signature = context.seed_signature

    def chunk(self, chunk_sha256: str, signature: str) -> None:
        """Verify the next chunk given the sha256 hex of its data."""
        self.previous_signature = verify_chunk(
            self._context, self.previous_signature, chunk_sha256, signature
        )

    def trailer(self, trailers: Iterable[tuple[str, str]], signature: str) -> None:
        """Verify the trailer chunk, after the final empty chunk."""
        self.previous_signature = verify_trailer(
            self._context, self.previous_signature, trailers, signature
        )


def _check_chained(context: ChunkSigningContext, string_to_sign: str, signature: str) -> None:
    expected = hmac.new(context.signing_key, string_to_sign.encode(), hashlib.sha256).hexdigest()
    if not hmac.compare_digest(expected.encode(), wire_bytes(signature.strip())):
        raise SignatureMismatch(string_to_sign=string_to_sign, signature_provided=signature)


# --- parsing ------------------------------------------------------------------------------


def parse_authorization(value: str, service: str) -> tuple[CredentialScope, tuple[str, ...], str]:
    """Split an AWS4-HMAC-SHA256 Authorization header into scope, signed headers, signature."""
    algorithm, _, rest = value.strip().partition(" ")
    if algorithm != ALGORITHM:
        raise MalformedAuthorization("Unsupported Authorization Type")
    fields: dict[str, str] = {}
    for item in rest.split(","):
        name, sep, item_value = item.strip().partition("=")
        if not sep:
            raise MalformedAuthorization(f"Authorization header component is malformed: {item!r}")
        fields[name.strip()] = item_value.strip()
    missing = [k for k in ("Credential", "SignedHeaders", "Signature") if not fields.get(k)]
    if missing:
        raise MalformedAuthorization(f"Authorization header requires {', '.join(missing)}.")
    scope = parse_credential(fields["Credential"], service, MalformedAuthorization)
    signed_headers = parse_signed_headers(fields["SignedHeaders"], MalformedAuthorization)
    return scope, signed_headers, fields["Signature"]


def parse_credential(
    value: str, service: str, error: type[MalformedAuthorization]
) -> CredentialScope:
    """Parse `AKID/date/region/service/aws4_request` and check it is for `service`.

    The region may be empty: the region is not checked (any name signs), and clients made
    for MinIO (libcloud's MinIO driver) sign with an empty one, which MinIO accepts."""
    parts = value.split("/")
    if len(parts) != 5 or not all(parts[:2] + parts[3:]) or parts[4] != "aws4_request":
        raise error(
            f'Credential is malformed; expecting "<YOUR-AKID>/YYYYMMDD/REGION/SERVICE/'
            f'aws4_request", got {value!r}.'
        )
    access_key, date, region, scoped_service, _ = parts
    if not re.fullmatch(r"\d{8}", date):
        raise error(f"Invalid credential date {date!r}.")
    if scoped_service != service:
        raise error(f"Credential should be scoped to correct service: '{service}'.")
    return CredentialScope(access_key, date, region, scoped_service)


def parse_signed_headers(value: str, error: type[MalformedAuthorization]) -> tuple[str, ...]:
    """`host;x-amz-date` → ("host", "x-amz-date"), in the order the client signed them."""
    names = tuple(name.strip().lower() for name in value.split(";"))
    if not all(names):
        raise error(f"SignedHeaders is malformed: {value!r}.")
    return names


def _header_date(request: AuthRequest) -> tuple[str, datetime]:
    # x-amz-date wins over Date; botocore sends Date only when the caller set one.
    amz_date = request.header("x-amz-date")
    try:
        if amz_date is not None:
            return amz_date.strip(), parse_amz_date(amz_date)
        date = request.header("date")
        if date is None:
            raise MalformedAuthorization(
                "AWS authentication requires a valid Date or x-amz-date header"
            )
        signed_at = parse_any_date(date)
    except ValueError:
        raise MalformedAuthorization("Invalid date in x-amz-date or Date header") from None
    return signed_at.strftime(AMZ_DATE_FORMAT), signed_at


def _presign_claim(params: dict[str, str], service: str) -> _Claim:
    scope = parse_credential(params["X-Amz-Credential"], service, InvalidPresign)
    signed_headers = parse_signed_headers(params["X-Amz-SignedHeaders"], InvalidPresign)
    try:
        signed_at = parse_amz_date(params["X-Amz-Date"])
    except ValueError:
        raise InvalidPresign("X-Amz-Date must be in the ISO8601 Long Format") from None
    claim = _Claim(
        scope, signed_headers, params["X-Amz-Signature"], params["X-Amz-Date"].strip(), signed_at
    )
    _check_scope_date(claim, InvalidPresign)
    return claim


def _presign_window(claim: _Claim, expires_param: str, now: datetime) -> datetime:
    try:
        expires = int(expires_param)
    except ValueError:
        raise InvalidPresign("X-Amz-Expires should be a number") from None
    if expires < 0:
        raise InvalidPresign("X-Amz-Expires must be non-negative")
    if expires > MAX_PRESIGN_SECONDS:
        raise InvalidPresign(
            f"X-Amz-Expires must be less than a week (in seconds) that is {MAX_PRESIGN_SECONDS}"
        )
    expires_at = claim.signed_at + timedelta(seconds=expires)
    if claim.signed_at - now > MAX_CLOCK_SKEW:
        raise PresignExpired("Request is not valid yet", expires_at=expires_at, server_time=now)
    if now > expires_at:
        raise PresignExpired("Request has expired", expires_at=expires_at, server_time=now)
    return expires_at


def _check_scope_date(claim: _Claim, error: type[MalformedAuthorization]) -> None:
    if claim.scope.date != claim.amz_date[:8]:
        raise error(
            f'Invalid credential date "{claim.scope.date}". This date is not the same as '
            f'X-Amz-Date: "{claim.amz_date[:8]}".'
        )


# --- payload ------------------------------------------------------------------------------


def _payload(request: AuthRequest, service: str, *, presigned: bool) -> _Payload:
    declared = request.header("x-amz-content-sha256")
    declared = declared.strip() if declared is not None else None
    if service == "s3":
        return _s3_payload(request, declared, presigned)
    return _query_api_payload(request, declared)


def _s3_payload(request: AuthRequest, declared: str | None, presigned: bool) -> _Payload:
    if declared is None:
        if presigned:
            return _Payload(PayloadMode.UNSIGNED.value, PayloadMode.UNSIGNED, None)
        computed = request.body_sha256()
        if computed is None:
            raise MalformedAuthorization(
                "Missing required header for this request: x-amz-content-sha256"
            )
        return _Payload(computed, PayloadMode.SIGNED, None)  # from the body: nothing left
    if _HEX_SHA256.fullmatch(declared):
        return _Payload(declared, PayloadMode.SIGNED, declared)
    if declared in _PAYLOAD_TOKENS:
        return _Payload(declared, PayloadMode(declared), None)
    raise MalformedAuthorization(
        "x-amz-content-sha256 must be UNSIGNED-PAYLOAD, STREAMING-UNSIGNED-PAYLOAD-TRAILER, "
        "STREAMING-AWS4-HMAC-SHA256-PAYLOAD, STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER, or a "
        "valid sha256 value."
    )


def _query_api_payload(request: AuthRequest, declared: str | None) -> _Payload:
    # EC2 parameters travel in the body, so the body must be covered: an unsigned payload is
    # only accepted when there is no body at all.
    if declared is None:
        computed = request.body_sha256()
        if computed is None:
            raise ValueError("EC2-style requests need AuthRequest.body or payload_hash")
        return _Payload(computed, PayloadMode.SIGNED, None)
    if declared == PayloadMode.UNSIGNED:
        return _Payload(declared, PayloadMode.UNSIGNED, EMPTY_SHA256)
    if _HEX_SHA256.fullmatch(declared):
        return _Payload(declared, PayloadMode.SIGNED, declared)
    raise MalformedAuthorization(f"x-amz-content-sha256 {declared!r} is not supported here.")


# --- canonical request and signature ------------------------------------------------------


def signing_key(secret: str, scope: CredentialScope) -> bytes:
    """kSigning = HMAC chain over date, region, service and "aws4_request"."""
    key = ("AWS4" + secret).encode()
    for part in (scope.date, scope.region, scope.service, "aws4_request"):
        key = hmac.new(key, part.encode(), hashlib.sha256).digest()
    return key


def canonical_uris(raw_path: str, service: str) -> list[str]:
    """Canonical URI candidates, most likely first."""
    if service == "s3":
        return s3_path_forms(raw_path)
    # botocore quotes the already-encoded path again: "%20" is signed as "%2520".
    return [quote(wire_bytes(normalize_path(raw_path)), safe="/~")]


def normalize_path(path: str) -> str:
    """RFC 3986 dot-segment removal plus collapsing of empty segments, as botocore does."""
    if not path:
        return "/"
    segments: list[str] = []
    for segment in path.split("/"):
        if segment == "..":
            if segments:
                segments.pop()
        elif segment and segment != ".":
            segments.append(segment)
    first = "/" if path.startswith("/") else ""
    last = "/" if path.endswith("/") and segments else ""
    return first + "/".join(segments) + last


def canonical_query(request: AuthRequest, exclude: str | None = None) -> str:
    """Decode and re-encode every pair, then sort by encoded key and value."""
    pairs = []
    for key, value in request.raw_query_pairs:
        raw_key = form_decode(key)
        if exclude is not None and raw_key == exclude.encode():
            continue
        pairs.append(
            (quote(raw_key, safe=_UNRESERVED), quote(form_decode(value or ""), safe=_UNRESERVED))
        )
    return "&".join(f"{key}={value}" for key, value in sorted(pairs))


def canonical_headers(request: AuthRequest, names: Iterable[str]) -> str:
    """`name:value\\n` per signed header; repeated values joined by ',', spaces squeezed."""
    lines = []
    for name in names:
        values = request.headers.get(name, ())
        lines.append(f"{name}:{','.join(' '.join(value.split()) for value in values)}\n")
    return "".join(lines)


def _canonical_requests(
    request: AuthRequest, claim: _Claim, service: str, payload: _Payload, exclude: str | None
) -> Iterator[str]:
    query = canonical_query(request, exclude)
    headers = canonical_headers(request, claim.signed_headers)
    signed = ";".join(claim.signed_headers)
    for uri in canonical_uris(request.path, service):
        yield "\n".join([request.method, uri, query, headers, signed, payload.canonical_hash])


def string_to_sign(amz_date: str, scope: CredentialScope, canonical_request: str) -> str:
    """AWS4-HMAC-SHA256, the timestamp, the scope, and the hash of the canonical request."""
    digest = hashlib.sha256(wire_bytes(canonical_request)).hexdigest()
    return "\n".join([ALGORITHM, amz_date, scope.text, digest])


def _verify(
    request: AuthRequest,
    claim: _Claim,
    service: str,
    lookup_secret: SecretLookup,
    payload: _Payload,
    exclude: str | None = None,
) -> AuthResult:
    if service == "s3":
        _require_signed_amz_headers(request, claim.signed_headers)
    key = signing_key(find_secret(lookup_secret, claim.scope.access_key), claim.scope)
    provided = wire_bytes(claim.signature.strip())
    candidates = list(_canonical_requests(request, claim, service, payload, exclude))
    for canonical in candidates:
        text = string_to_sign(claim.amz_date, claim.scope, canonical)
        expected = hmac.new(key, text.encode(), hashlib.sha256).hexdigest()
        if hmac.compare_digest(expected.encode(), provided):
            return _result(request, claim, service, payload, key)
    raise SignatureMismatch(
        access_key=claim.scope.access_key,
        string_to_sign=string_to_sign(claim.amz_date, claim.scope, candidates[0]),
        canonical_request=candidates[0],
        signature_provided=claim.signature,
    )


def _require_signed_amz_headers(request: AuthRequest, signed_headers: tuple[str, ...]) -> None:
    # An unsigned x-amz-acl or x-amz-copy-source would change what a signed request does.
    unsigned = [
        name for name in request.headers if name.startswith("x-amz-") and name not in signed_headers
    ]
    if unsigned:
        raise HeadersNotSigned(unsigned)


def _result(
    request: AuthRequest, claim: _Claim, service: str, payload: _Payload, key: bytes
) -> AuthResult:
    expected = _check_body(request, payload.declared)
    chunk_signing = None
    if payload.mode.chunk_signed:
        chunk_signing = ChunkSigningContext(
            seed_signature=claim.signature.strip(),
            amz_date=claim.amz_date,
            scope=claim.scope.text,
            signing_key=key,
        )
    return AuthResult(
        access_key=claim.scope.access_key,
        service=service,
        signature_version=4,
        signed_at=claim.signed_at,
        region=claim.scope.region,
        payload=payload.mode,
        expected_content_sha256=expected,
        chunk_signing=chunk_signing,
    )


def _check_body(request: AuthRequest, declared: str | None) -> str | None:
    """Compare the signed body hash when the body is at hand; else hand it to the caller."""
    if declared is None:
        return None
    computed = request.body_sha256()
    if computed is None:
        return declared
    if not hmac.compare_digest(computed, declared):
        raise PayloadHashMismatch(declared=declared, computed=computed)
    return None
