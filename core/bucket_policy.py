"""Bucket policies: a JSON document per bucket, validated when stored, evaluated per request.

The common cases of AWS's policy language are understood, and nothing else is accepted (a
statement the server would silently ignore could grant or deny less than its author meant):

- `Effect` Allow or Deny; `Principal` `"*"`, `{"AWS": …}` (12-digit account numbers,
  `arn:aws:iam::<number>:root` or `:user/<name>`, `"*"`) or `{"CanonicalUser": …}` (account
  uuids); `Action` `s3:…` names with `*`/`?` wildcards; `Resource` ARNs of this bucket
  (`arn:aws:s3:::bucket`, `arn:aws:s3:::bucket/prefix*`);
- `Condition` with `IpAddress`/`NotIpAddress` on `aws:SourceIp` and `Bool` on
  `aws:SecureTransport`. `NotPrincipal`, `NotAction`, `NotResource` and other condition
  operators or keys are refused with MalformedPolicy (InvalidParameter `policy`).

Evaluation follows AWS: an explicit Deny wins over any Allow; an Allow grants only what it
names; no matching statement means the policy says nothing (ACLs decide). The core does not
know AWS account numbers (they are a translator's encoding): the front end hands in the
names the caller goes by (`PolicyRequest.principals`).
"""

from __future__ import annotations

import enum
import ipaddress
import json
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, Session, mapped_column

from core.db import Base
from core.errors import InvalidParameter, NotFound

POLICY = "policy"  # InvalidParameter.parameter and NotFound.kind of this module
MAX_POLICY_BYTES = 20 * 1024  # AWS's limit on a bucket policy's size
_VERSIONS = ("2012-10-17", "2008-10-17")
_ARN_PREFIX = "arn:aws:s3:::"
_ACCOUNT_PRINCIPAL = re.compile(r"\d{12}|arn:aws:iam::\d{12}:(root|user/[\w+=,.@/-]+)")
# Condition operator -> the keys it may test here.
_CONDITIONS = {
    "IpAddress": "aws:SourceIp",
    "NotIpAddress": "aws:SourceIp",
    "Bool": "aws:SecureTransport",
}


class BucketPolicy(Base):
    __tablename__ = "bucket_policy"

    bucket_id: Mapped[int] = mapped_column(
        sa.ForeignKey("bucket.id", ondelete="CASCADE"), primary_key=True
    )
    document: Mapped[str] = mapped_column(sa.Text)


class Effect(enum.Enum):
    ALLOW = "Allow"
    DENY = "Deny"


@dataclass(frozen=True, slots=True)
class PolicyRequest:
    """What a statement is matched against."""

    principals: frozenset[str]  # the caller's account number and ARNs; empty: anonymous
    account_uuid: str  # for CanonicalUser principals; "" when anonymous
    action: str  # e.g. "s3:GetObject"
    resource: str  # e.g. "arn:aws:s3:::bucket/key"
    source_ip: str | None
    secure: bool


# --- storage ------------------------------------------------------------------------------


def put_policy(session: Session, bucket_id: int, bucket_name: str, document: str) -> None:
    """Store `document` (validated first) as the bucket's policy, replacing any other."""
    validate(document, bucket_name)
    row = session.get(BucketPolicy, bucket_id)
    if row is None:
        session.add(BucketPolicy(bucket_id=bucket_id, document=document))
    else:
        row.document = document
    session.flush()


def get_policy(session: Session, bucket_id: int, bucket_name: str) -> str:
    """The stored document as it was given; NotFound(POLICY) when the bucket has none."""
    row = session.get(BucketPolicy, bucket_id)
    if row is None:
        raise NotFound(POLICY, bucket_name, "The bucket policy does not exist")
    return row.document


def delete_policy(session: Session, bucket_id: int) -> None:
    """Remove the policy; deleting an absent policy succeeds, as in S3."""
    session.execute(sa.delete(BucketPolicy).where(BucketPolicy.bucket_id == bucket_id))


def evaluate(session: Session, bucket_id: int, request: PolicyRequest) -> Effect | None:
    """Deny if any matching statement denies, else Allow if one allows, else None."""
    row = session.get(BucketPolicy, bucket_id)
    if row is None:
        return None
    outcome = None
    for statement in _statements(json.loads(row.document)):
        if _matches(statement, request):
            if statement["Effect"] == Effect.DENY.value:
                return Effect.DENY
            outcome = Effect.ALLOW
    return outcome


def is_public(session: Session, bucket_id: int, bucket_name: str) -> bool:
    """GetBucketPolicyStatus: an Allow to everyone that no source-address condition limits."""
    statements = _statements(json.loads(get_policy(session, bucket_id, bucket_name)))
    return any(
        statement["Effect"] == Effect.ALLOW.value
        and _everyone(statement["Principal"])
        and not any(op in statement.get("Condition", {}) for op in ("IpAddress", "NotIpAddress"))
        for statement in statements
    )


# --- validation ---------------------------------------------------------------------------


def validate(document: str, bucket_name: str) -> None:
    """MalformedPolicy (InvalidParameter `policy`) unless the document is understood whole."""
    if len(document.encode()) > MAX_POLICY_BYTES:
        _malformed(f"Policies must be at most {MAX_POLICY_BYTES} bytes")
    try:
        parsed = json.loads(document)
    except ValueError:
        _malformed("Policies must be valid JSON")
    if not isinstance(parsed, dict) or "Statement" not in parsed:
        _malformed("Missing required field Statement")
    if parsed.get("Version", _VERSIONS[0]) not in _VERSIONS:
        _malformed(f"Unsupported policy version {parsed.get('Version')!r}")
    statements = list(_statements(parsed))
    if not statements:
        _malformed("Missing required field Statement")
    for statement in statements:
        _validate_statement(statement, bucket_name)


def _validate_statement(statement: Any, bucket_name: str) -> None:
    if not isinstance(statement, dict):
        _malformed("A statement must be a JSON object")
    for unsupported in ("NotPrincipal", "NotAction", "NotResource"):
        if unsupported in statement:
            _malformed(f"{unsupported} is not supported")
    if statement.get("Effect") not in (Effect.ALLOW.value, Effect.DENY.value):
        _malformed("Invalid effect: Effect must be Allow or Deny")
    _validate_principal(statement.get("Principal"))
    actions = _strings(statement, "Action")
    if not actions or not all(action.lower().startswith("s3:") for action in actions):
        _malformed("Policy has invalid action")
    resources = _strings(statement, "Resource")
    if not resources or not all(_in_bucket(resource, bucket_name) for resource in resources):
        _malformed("Policy has invalid resource")
    _validate_condition(statement.get("Condition", {}))


def _validate_principal(principal: Any) -> None:
    if principal == "*":
        return
    if not isinstance(principal, dict) or not principal:
        _malformed("Invalid principal in policy")
    for kind, values in principal.items():
        names = [values] if isinstance(values, str) else values
        if kind not in ("AWS", "CanonicalUser") or not isinstance(names, list) or not names:
            _malformed(f"Invalid principal in policy: {kind}")
        for name in names:
            valid = name == "*" or (kind == "CanonicalUser" and isinstance(name, str))
            if not valid and not (isinstance(name, str) and _ACCOUNT_PRINCIPAL.fullmatch(name)):
                _malformed(f"Invalid principal in policy: {name!r}")


def _validate_condition(condition: Any) -> None:
    if not isinstance(condition, dict):
        _malformed("Condition must be a JSON object")
    for operator, tests in condition.items():
        key = _CONDITIONS.get(operator)
        if key is None:
            _malformed(f"Condition operator {operator} is not supported")
        if not isinstance(tests, dict) or not tests:
            _malformed(f"Condition {operator} must map keys to values")
        for name, values in tests.items():
            if name.lower() != key.lower():
                _malformed(f"Condition key {name} is not supported with {operator}")
            for value in _values(values):
                _validate_condition_value(operator, value)


def _validate_condition_value(operator: str, value: Any) -> None:
    if operator == "Bool":
        if str(value).lower() not in ("true", "false"):
            _malformed(f"Invalid Bool condition value {value!r}")
        return
    try:
        ipaddress.ip_network(str(value), strict=False)
    except ValueError:
        _malformed(f"Invalid IP address or range {value!r}")


def _in_bucket(resource: str, bucket_name: str) -> bool:
    if not resource.startswith(_ARN_PREFIX):
        return False
    bucket, _, _ = resource[len(_ARN_PREFIX) :].partition("/")
    return _pattern(bucket, ignore_case=False).fullmatch(bucket_name) is not None


def _malformed(message: str) -> Any:
    raise InvalidParameter(message, parameter=POLICY)


# --- matching -----------------------------------------------------------------------------


def _statements(document: dict[str, Any]) -> Iterator[dict[str, Any]]:
    statements = document.get("Statement")
    yield from [statements] if isinstance(statements, dict) else statements or ()


def _matches(statement: dict[str, Any], request: PolicyRequest) -> bool:
    return (
        _principal_matches(statement["Principal"], request)
        and any(_pattern(a).fullmatch(request.action) for a in _strings(statement, "Action"))
        and any(
            _pattern(r, ignore_case=False).fullmatch(request.resource)
            for r in _strings(statement, "Resource")
        )
        and _condition_holds(statement.get("Condition", {}), request)
    )


def _everyone(principal: Any) -> bool:
    return principal == "*" or "*" in _values(principal.get("AWS", []))


def _principal_matches(principal: Any, request: PolicyRequest) -> bool:
    if _everyone(principal):
        return True
    if request.account_uuid and request.account_uuid in _values(principal.get("CanonicalUser", [])):
        return True
    return any(name in request.principals for name in _values(principal.get("AWS", [])))


def _condition_holds(condition: dict[str, Any], request: PolicyRequest) -> bool:
    """Every operator must hold; within one, any listed value may match (AWS's rules)."""
    for operator, tests in condition.items():
        for values in tests.values():
            listed = _values(values)
            if operator == "Bool":
                if str(request.secure).lower() not in {str(v).lower() for v in listed}:
                    return False
                continue
            inside = _address_in(request.source_ip, listed)
            if inside != (operator == "IpAddress"):
                return False
    return True


def _address_in(address: str | None, networks: Iterable[Any]) -> bool:
    if address is None:
        return False
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in ipaddress.ip_network(str(net), strict=False) for net in networks)


def _pattern(text: str, *, ignore_case: bool = True) -> re.Pattern[str]:
    """An IAM wildcard (`*` any run, `?` one character) as a regular expression."""
    body = "".join(
        ".*" if char == "*" else "." if char == "?" else re.escape(char) for char in text
    )
    return re.compile(body, re.IGNORECASE | re.DOTALL if ignore_case else re.DOTALL)


def _strings(statement: dict[str, Any], field: str) -> list[str]:
    """The field's strings; empty (so invalid) when any value is not a string."""
    values = _values(statement.get(field, []))
    return values if all(isinstance(value, str) for value in values) else []


def _values(values: Any) -> list[Any]:
    return list(values) if isinstance(values, list) else [values]
