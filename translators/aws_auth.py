"""Server-side verification of AWS request signatures, shared by the EC2 and S3 front ends.

Pure functions over plain values: a front end builds an `AuthRequest` from what arrived on
the wire (ideally the ASGI scope's `raw_path`, `query_string` and `headers` bytes), calls
`authenticate()` and either gets an `AuthResult` or catches an `AuthError` and renders it.

    request = AuthRequest.from_wire(scope["method"], scope["raw_path"], scope["query_string"],
                                    scope["headers"], body=form_body)
    result = authenticate(request, service="ec2", lookup_secret=secret_for_access_key)

Schemes: SigV4 in the Authorization header or in a presigned query (`translators.sigv4`),
S3 SigV2 in the header or query, and EC2 Query SigV2 (`translators.sigv2`).

Errors, with the wire codes the front ends map them to:

    AuthError
     ├── MissingCredentials        no signature at all: S3 anonymous (AccessDenied if the
     │                             resource is not public), EC2 MissingAuthenticationToken
     ├── MalformedAuthorization    unparseable header, scope or parameters:
     │    │                        S3 AuthorizationHeaderMalformed, EC2 IncompleteSignature
     │    └── InvalidPresign       bad query-string auth (X-Amz-Expires > 7 days, missing
     │                             X-Amz-*): S3 AuthorizationQueryParametersError
     ├── UnknownAccessKey          S3 InvalidAccessKeyId, EC2 AuthFailure
     ├── SignatureMismatch         S3/EC2 SignatureDoesNotMatch
     │    └── PayloadHashMismatch  body differs from the signed x-amz-content-sha256:
     │                             S3 XAmzContentSHA256Mismatch, EC2 SignatureDoesNotMatch
     ├── HeadersNotSigned          S3 only: an x-amz-* header outside SignedHeaders:
     │                             S3 AccessDenied
     ├── RequestTimeSkewed         S3 RequestTimeTooSkewed, EC2 RequestExpired
     └── PresignExpired            presigned URL outside its validity window: S3 AccessDenied
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import parsedate_to_datetime
from enum import StrEnum
from functools import cached_property
from urllib.parse import quote, unquote_to_bytes

SecretLookup = Callable[[str], str | None]
HeaderInput = Mapping[str, str] | Iterable[tuple[str | bytes, str | bytes]]

MAX_CLOCK_SKEW = timedelta(minutes=15)
AMZ_DATE_FORMAT = "%Y%m%dT%H%M%SZ"
EMPTY_SHA256 = hashlib.sha256(b"").hexdigest()


# --- errors -------------------------------------------------------------------------------


class AuthError(Exception):
    """Base of every authentication failure; `message` is safe to show the client."""

    s3_code = "AccessDenied"
    s3_status = 403
    ec2_code = "AuthFailure"

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class MissingCredentials(AuthError):
    """The request carries no signature; the front end decides whether anonymous is allowed."""

    ec2_code = "MissingAuthenticationToken"


class MalformedAuthorization(AuthError):
    """The Authorization header, credential scope or auth parameters cannot be parsed."""

    s3_code = "AuthorizationHeaderMalformed"
    s3_status = 400
    ec2_code = "IncompleteSignature"


class InvalidPresign(MalformedAuthorization):
    """Query-string authentication parameters are missing or out of range."""

    s3_code = "AuthorizationQueryParametersError"


class UnknownAccessKey(AuthError):
    """No secret is known for the access key."""

    s3_code = "InvalidAccessKeyId"

    def __init__(self, access_key: str) -> None:
        super().__init__("The AWS Access Key Id you provided does not exist in our records.")
        self.access_key = access_key


class SignatureMismatch(AuthError):
    """The signature does not match; carries what AWS echoes back to help debug clients."""

    s3_code = "SignatureDoesNotMatch"
    ec2_code = "SignatureDoesNotMatch"

    def __init__(
        self,
        message: str = "The request signature we calculated does not match the signature you "
        "provided. Check your key and signing method.",
        *,
        access_key: str = "",
        string_to_sign: str = "",
        canonical_request: str = "",
        signature_provided: str = "",
    ) -> None:
        super().__init__(message)
        self.access_key = access_key
        self.string_to_sign = string_to_sign
        self.canonical_request = canonical_request
        self.signature_provided = signature_provided


class PayloadHashMismatch(SignatureMismatch):
    """The body is not the one whose hash was signed."""

    s3_code = "XAmzContentSHA256Mismatch"
    s3_status = 400

    def __init__(self, *, declared: str, computed: str) -> None:
        super().__init__(
            "The provided 'x-amz-content-sha256' header does not match what was computed."
        )
        self.declared = declared
        self.computed = computed


class HeadersNotSigned(AuthError):
    """S3 refuses x-amz-* headers that the signature does not cover (they change semantics)."""

    def __init__(self, names: Iterable[str]) -> None:
        super().__init__("There were headers present in the request which were not signed")
        self.names = tuple(sorted(names))


class RequestTimeSkewed(AuthError):
    """The signed time is too far from the server's clock (or an EC2 `Expires` has passed)."""

    s3_code = "RequestTimeTooSkewed"
    ec2_code = "RequestExpired"

    def __init__(self, message: str, *, request_time: datetime, server_time: datetime) -> None:
        super().__init__(message)
        self.request_time = request_time
        self.server_time = server_time


class PresignExpired(AuthError):
    """A presigned URL used after its expiry (or, message aside, before its date)."""

    def __init__(self, message: str, *, expires_at: datetime, server_time: datetime) -> None:
        super().__init__(message)
        self.expires_at = expires_at
        self.server_time = server_time


# --- values -------------------------------------------------------------------------------


class PayloadMode(StrEnum):
    """How the body is covered by the signature; values are the x-amz-content-sha256 tokens."""

    SIGNED = "SIGNED"  # a literal sha256 (not a wire token itself)
    UNSIGNED = "UNSIGNED-PAYLOAD"
    STREAMING_SIGNED = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD"
    STREAMING_SIGNED_TRAILER = "STREAMING-AWS4-HMAC-SHA256-PAYLOAD-TRAILER"
    STREAMING_UNSIGNED_TRAILER = "STREAMING-UNSIGNED-PAYLOAD-TRAILER"

    @property
    def aws_chunked(self) -> bool:
        """The body is aws-chunked framing that the front end must decode."""
        return self.value.startswith("STREAMING-")

    @property
    def chunk_signed(self) -> bool:
        """Every chunk carries a chunk-signature to check with `sigv4.ChunkVerifier`."""
        return self in (PayloadMode.STREAMING_SIGNED, PayloadMode.STREAMING_SIGNED_TRAILER)

    @property
    def has_trailer(self) -> bool:
        """Trailing headers (checksums) follow the final chunk."""
        return self.value.endswith("-TRAILER")


@dataclass(frozen=True)
class ChunkSigningContext:
    """What a chunk decoder needs to verify the chain of chunk signatures."""

    seed_signature: str
    amz_date: str
    scope: str
    signing_key: bytes = field(repr=False)


@dataclass(frozen=True)
class AuthResult:
    """A verified caller. `expected_content_sha256` is set when the signature covers a body
    hash that this module could not check (S3 streams the body): compare it while reading."""

    access_key: str
    service: str
    signature_version: int
    signed_at: datetime
    region: str | None = None
    presigned: bool = False
    expires_at: datetime | None = None
    payload: PayloadMode = PayloadMode.UNSIGNED
    expected_content_sha256: str | None = None
    chunk_signing: ChunkSigningContext | None = None


@dataclass(frozen=True)
class AuthRequest:
    """The parts of an HTTP request a signature covers, as text whose UTF-8 encoding
    (with surrogateescape) is exactly the bytes received."""

    method: str
    path: str
    query: str
    headers: Mapping[str, tuple[str, ...]]
    body: bytes | None = None
    payload_hash: Callable[[], str] | None = None
    bucket: str | None = None

    @classmethod
    def from_wire(
        cls,
        method: str,
        raw_path: str | bytes,
        raw_query: str | bytes = b"",
        headers: HeaderInput = (),
        *,
        body: bytes | None = None,
        payload_hash: Callable[[], str] | None = None,
        bucket: str | None = None,
    ) -> AuthRequest:
        """Build from wire values. `body`: the whole body when already read (EC2 forms);
        `payload_hash`: computes its sha256 hex lazily otherwise; `bucket`: the bucket of
        a virtual-hosted S3 request (SigV2 signs `/bucket/key`)."""
        return cls(
            method=method.upper(),
            path=wire_text(raw_path),
            query=wire_text(raw_query),
            headers=_collect_headers(headers),
            body=body,
            payload_hash=payload_hash,
            bucket=bucket,
        )

    def header(self, name: str) -> str | None:
        """First value of a header, or None."""
        values = self.headers.get(name.lower())
        return values[0] if values else None

    @cached_property
    def raw_query_pairs(self) -> tuple[tuple[str, str | None], ...]:
        """Query pairs still percent-encoded; value None when the pair had no '='."""
        return split_query(self.query)

    @cached_property
    def query_params(self) -> tuple[tuple[str, str], ...]:
        """Decoded query pairs ('+' is a space, as every form decoder reads it)."""
        return tuple(
            (form_decode_text(k), form_decode_text(v or "")) for k, v in self.raw_query_pairs
        )

    @cached_property
    def form_params(self) -> tuple[tuple[str, str], ...]:
        """Decoded pairs of a form-encoded body (EC2 Query POST); empty otherwise."""
        content_type = (self.header("content-type") or "").lower()
        if self.body is None or not content_type.startswith("application/x-www-form-urlencoded"):
            return ()
        pairs = split_query(wire_text(self.body))
        return tuple((form_decode_text(k), form_decode_text(v or "")) for k, v in pairs)

    def query_value(self, name: str) -> str | None:
        """First decoded value of a query parameter, or None."""
        return next((v for k, v in self.query_params if k == name), None)

    def body_sha256(self) -> str | None:
        """Hex sha256 of the body when the front end made it available."""
        if self.body is not None:
            return hashlib.sha256(self.body).hexdigest()
        return self.payload_hash() if self.payload_hash is not None else None


# --- wire helpers shared by sigv2 and sigv4 -----------------------------------------------


def wire_text(value: str | bytes) -> str:
    """Text that encodes back to the exact wire bytes (UTF-8 + surrogateescape).

    str input is taken as ASGI/Starlette deliver it: bytes decoded as latin-1."""
    if isinstance(value, bytes):
        return value.decode("utf-8", "surrogateescape")
    try:
        raw = value.encode("latin-1")
    except UnicodeEncodeError:
        return value  # not latin-1-decoded wire text; already real text
    return raw.decode("utf-8", "surrogateescape")


def wire_bytes(text: str) -> bytes:
    """Inverse of `wire_text`."""
    return text.encode("utf-8", "surrogateescape")


def split_query(raw_query: str) -> tuple[tuple[str, str | None], ...]:
    """Split a raw query on '&' without decoding; keeps the difference between `a` and `a=`."""
    pairs = []
    for part in raw_query.split("&"):
        if part:
            key, sep, value = part.partition("=")
            pairs.append((key, value if sep else None))
    return tuple(pairs)


def form_decode(text: str) -> bytes:
    """Percent-decode with form semantics ('+' is a space) to raw bytes."""
    return unquote_to_bytes(wire_bytes(text.replace("+", " ")))


def form_decode_text(text: str) -> str:
    """`form_decode` as text (surrogateescape keeps invalid UTF-8 reversible)."""
    return form_decode(text).decode("utf-8", "surrogateescape")


def s3_path_forms(raw_path: str) -> list[str]:
    """S3 signs the path as sent; a client that sent another valid encoding of the same key
    signed the RFC 3986 form, so that is the second candidate."""
    path = raw_path or "/"
    reencoded = quote(unquote_to_bytes(wire_bytes(path)), safe="/-_.~")
    return list(dict.fromkeys([path, reencoded]))


def parse_amz_date(value: str) -> datetime:
    """Parse `20130524T000000Z`; ValueError if it is not that."""
    return datetime.strptime(value.strip(), AMZ_DATE_FORMAT).replace(tzinfo=UTC)


def parse_any_date(value: str) -> datetime:
    """Parse an RFC 1123 date, an ISO 8601 basic `x-amz-date` or ISO 8601 extended."""
    text = value.strip()
    try:
        parsed = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        try:
            parsed = parse_amz_date(text)
        except ValueError:
            parsed = datetime.fromisoformat(text)  # raises ValueError for anything else
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def check_skew(signed_at: datetime, now: datetime) -> None:
    """Header-signed requests must be within 15 minutes of the server clock."""
    if abs(now - signed_at) > MAX_CLOCK_SKEW:
        raise RequestTimeSkewed(
            "The difference between the request time and the current time is too large.",
            request_time=signed_at,
            server_time=now,
        )


def find_secret(lookup_secret: SecretLookup, access_key: str) -> str:
    """The secret for an access key, or UnknownAccessKey."""
    secret = lookup_secret(access_key) if access_key else None
    if secret is None:
        raise UnknownAccessKey(access_key)
    return secret


def _collect_headers(headers: HeaderInput) -> dict[str, tuple[str, ...]]:
    pairs = headers.items() if isinstance(headers, Mapping) else headers
    collected: dict[str, list[str]] = {}
    for name, value in pairs:
        collected.setdefault(wire_text(name).lower(), []).append(wire_text(value))
    return {name: tuple(values) for name, values in collected.items()}


# --- dispatch -----------------------------------------------------------------------------


def authenticate(
    request: AuthRequest,
    *,
    service: str,
    lookup_secret: SecretLookup,
    now: datetime | None = None,
) -> AuthResult:
    """Verify whichever AWS signature the request carries; `service` is "s3" or "ec2"."""
    # Imported here: both verifier modules import this module's types and helpers.
    from translators import sigv2, sigv4

    now = now or datetime.now(UTC)
    authorization = (request.header("authorization") or "").strip()
    query_keys = {key for key, _ in request.query_params}
    presigned_v4 = bool(query_keys & {"X-Amz-Algorithm", "X-Amz-Credential", "X-Amz-Signature"})
    query_v2 = service == "s3" and {"AWSAccessKeyId", "Signature"} <= query_keys
    if authorization and (presigned_v4 or query_v2):
        raise MalformedAuthorization("Only one auth mechanism allowed")
    if authorization.startswith(sigv4.ALGORITHM):
        return sigv4.verify_header(request, service=service, lookup_secret=lookup_secret, now=now)
    if authorization.startswith("AWS ") and service == "s3":
        return sigv2.verify_s3_header(request, lookup_secret=lookup_secret, now=now)
    if authorization:
        raise MalformedAuthorization("Unsupported Authorization Type")
    if presigned_v4:
        return sigv4.verify_presigned(
            request, service=service, lookup_secret=lookup_secret, now=now
        )
    if query_v2:
        return sigv2.verify_s3_query(request, lookup_secret=lookup_secret, now=now)
    if service != "s3" and sigv2.has_query_signature(request):
        return sigv2.verify_query_v2(request, service=service, lookup_secret=lookup_secret, now=now)
    raise MissingCredentials("Request is missing Authentication Token")
