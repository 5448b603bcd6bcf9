"""Bucket CORS: a bucket's cross-origin rules, and which rule lets a browser request through.

A configuration is up to 100 rules, each allowing some origins (one `*` wildcard each), some
of GET/PUT/POST/DELETE/HEAD, some request headers (wildcards too) and naming the response
headers a script may read. S3 evaluates the rules in order and the first one that allows the
origin, the method and every requested header wins — for the preflight `OPTIONS` and for the
actual request alike. Preflights are unsigned, so `matching_rule` takes no caller context:
what it reveals is only what the bucket owner chose to publish to browsers.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from core import bucket_config
from core.bucket_config import BucketConfigMixin
from core.context import CallContext
from core.db import Base
from core.errors import InvalidParameter

CORS_CONFIGURATION = "cors configuration"
INVALID_REQUEST = "request"  # InvalidParameter.parameter of what S3 refuses as InvalidRequest
MALFORMED = "document"  # … for a document that does not validate (S3's MalformedXML)
MAX_RULES = 100
MAX_ID = 255
METHODS = ("GET", "PUT", "POST", "DELETE", "HEAD")
PUT_ACTION = "s3:PutBucketCORS"  # the bucket policy's name for changing the configuration


class BucketCors(BucketConfigMixin, Base):
    __tablename__ = "bucket_cors"


@dataclass(frozen=True)
class CorsRule:
    allowed_origins: tuple[str, ...]
    allowed_methods: tuple[str, ...]
    allowed_headers: tuple[str, ...] = ()
    expose_headers: tuple[str, ...] = ()
    max_age_seconds: int | None = None
    id: str | None = None

    def allows(self, origin: str, method: str, request_headers: Iterable[str] = ()) -> bool:
        """Whether this rule lets `origin` send `method` with these request headers."""
        return (
            method in self.allowed_methods
            and any(_wildcard_match(pattern, origin) for pattern in self.allowed_origins)
            and all(
                any(
                    _wildcard_match(pattern.lower(), header.lower())
                    for pattern in self.allowed_headers
                )
                for header in request_headers
            )
        )

    def any_origin(self) -> bool:
        """A rule for `*` is answered `Access-Control-Allow-Origin: *` (no credentials)."""
        return "*" in self.allowed_origins


@dataclass(frozen=True)
class CorsMatch:
    """The matching rule and the origin it matched, for the response headers."""

    rule: CorsRule
    origin: str
    request_headers: tuple[str, ...] = field(default=())


def _wildcard_match(pattern: str, value: str) -> bool:
    """`*` matches any run of characters; nothing else is special (not fnmatch: its `[` and
    `?` would make an origin like `http://[::1]:8080` a pattern)."""
    if "*" not in pattern:
        return pattern == value
    regex = ".*".join(re.escape(part) for part in pattern.split("*"))
    return re.fullmatch(regex, value, re.DOTALL) is not None


# --- validation -----------------------------------------------------------------------------


def validate(rules: Sequence[CorsRule]) -> None:
    """S3's checks of a configuration: InvalidParameter naming what S3 would refuse."""
    if not rules:
        raise InvalidParameter("A CORS configuration needs at least one rule", parameter=MALFORMED)
    if len(rules) > MAX_RULES:
        raise InvalidParameter(
            f"The CORS configuration must not have more than {MAX_RULES} rules",
            parameter=INVALID_REQUEST,
        )
    for rule in rules:
        _validate_rule(rule)


def _validate_rule(rule: CorsRule) -> None:
    if not rule.allowed_origins or not rule.allowed_methods:
        raise InvalidParameter(
            "Each CORSRule needs an AllowedOrigin and an AllowedMethod", parameter=MALFORMED
        )
    for method in rule.allowed_methods:
        if method not in METHODS:
            raise InvalidParameter(
                "Found unsupported HTTP method in CORS config. Unsupported method is " + method,
                parameter=INVALID_REQUEST,
            )
    for kind, values in (
        ("AllowedOrigin", rule.allowed_origins),
        ("AllowedHeader", rule.allowed_headers),
    ):
        for value in values:
            if value.count("*") > 1:
                raise InvalidParameter(
                    f'{kind} "{value}" can not have more than one wildcard.',
                    parameter=INVALID_REQUEST,
                )
    if rule.id is not None and len(rule.id) > MAX_ID:
        raise InvalidParameter(
            f"The ID of a CORSRule must be at most {MAX_ID} characters", parameter=INVALID_REQUEST
        )
    if rule.max_age_seconds is not None and rule.max_age_seconds < 0:
        raise InvalidParameter("MaxAgeSeconds must not be negative", parameter=INVALID_REQUEST)


# --- use cases ------------------------------------------------------------------------------


def put_cors(session: Session, ctx: CallContext, name: str, rules: Sequence[CorsRule]) -> None:
    """Replace the bucket's CORS configuration."""
    validate(rules)
    document = [asdict(rule) for rule in rules]
    bucket_config.replace(session, ctx, name, BucketCors, document, s3_action=PUT_ACTION)


def get_cors(session: Session, ctx: CallContext, name: str) -> list[CorsRule]:
    """The bucket's rules; NotFound(CORS_CONFIGURATION) when it has none."""
    document = bucket_config.read(
        session, ctx, name, BucketCors,
        s3_action="s3:GetBucketCORS", kind=CORS_CONFIGURATION, what="CORS configuration",
    )  # fmt: skip
    return [_rule(fields) for fields in document]


def delete_cors(session: Session, ctx: CallContext, name: str) -> None:
    """Remove the bucket's CORS configuration (no error when there was none, as in S3)."""
    bucket_config.remove(session, ctx, name, BucketCors, s3_action=PUT_ACTION)


def matching_rule(
    session: Session,
    bucket_name: str,
    *,
    origin: str,
    method: str,
    request_headers: Iterable[str] = (),
) -> CorsMatch | None:
    """The first rule of the bucket's configuration that allows this cross-origin request;
    None for no bucket, no configuration, or no allowing rule."""
    headers = tuple(request_headers)
    for fields in bucket_config.stored_by_name(session, BucketCors, bucket_name) or ():
        rule = _rule(fields)
        if rule.allows(origin, method, headers):
            return CorsMatch(rule, origin, headers)
    return None


def _rule(fields: Mapping[str, Any]) -> CorsRule:
    return CorsRule(
        allowed_origins=tuple(fields["allowed_origins"]),
        allowed_methods=tuple(fields["allowed_methods"]),
        allowed_headers=tuple(fields.get("allowed_headers") or ()),
        expose_headers=tuple(fields.get("expose_headers") or ()),
        max_age_seconds=fields.get("max_age_seconds"),
        id=fields.get("id"),
    )


__all__ = [
    "CORS_CONFIGURATION",
    "INVALID_REQUEST",
    "MALFORMED",
    "BucketCors",
    "CorsMatch",
    "CorsRule",
    "delete_cors",
    "get_cors",
    "matching_rule",
    "put_cors",
    "validate",
]
