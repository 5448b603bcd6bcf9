"""Key pairs: Create/Import/Delete/DescribeKeyPairs over core SSH key pairs.

An EC2 key pair is a core SSH key pair of the caller's account: one created here is listed by
`listSSHKeyPairs` and the reverse. Fingerprints are AWS's (translators.keypairs); the
KeyPairId is the core row's id, encoded.
"""

from __future__ import annotations

from typing import Any

from core import keypairs
from core.keypairs import SSHKeyPair
from core.visibility import ListScope
from ec2_api.action import Action
from ec2_api.call import Call
from ec2_api.errors import Ec2Error, invalid_value
from ec2_api.tagging import filter_set, specified_tags, tag_new, tags_by_id
from translators import keypairs as aws_keys
from translators.filters import parse_filters
from translators.ids import KEY_PAIR

TAG_TYPE = "key-pair"
KEY_FORMATS = ("pem",)


def duplicate(name: str) -> Ec2Error:
    return Ec2Error("InvalidKeyPair.Duplicate", f"The keypair '{name}' already exists.")


def not_found(name: str) -> Ec2Error:
    return Ec2Error("InvalidKeyPair.NotFound", f"The key pair '{name}' does not exist")


def _own(call: Call, *, ids: list[int] | None = None) -> list[SSHKeyPair]:
    """The caller's own key pairs (admins too: an EC2 caller acts for its account)."""
    rows, _ = keypairs.list_keypairs(call.session, call.ctx, ListScope(), ids=ids)
    return rows


def _created(call: Call, keypair: SSHKeyPair) -> dict[str, Any]:
    tags = specified_tags(call, TAG_TYPE)
    tag_new(call, TAG_TYPE, [keypair.uuid], tags)
    return {
        "KeyName": keypair.name,
        "KeyPairId": call.ids.encode(KEY_PAIR, keypair.id),
        "KeyFingerprint": aws_keys.fingerprint(keypair),
        "Tags": [{"Key": key, "Value": value} for key, value in tags.items()],
    }


def create_key_pair(call: Call) -> dict[str, Any]:
    name = call.get("KeyName")
    key_type = call.get("KeyType") or aws_keys.RSA
    if key_type not in (aws_keys.RSA, aws_keys.ED25519):
        raise invalid_value(f"Invalid value '{key_type}' for KeyType")
    key_format = call.get("KeyFormat") or "pem"
    if key_format not in KEY_FORMATS:
        raise invalid_value(f"Invalid value '{key_format}' for KeyFormat: only pem is supported")
    try:
        keypair, private_key = keypairs.create_keypair(
            call.session, call.ctx, name=name, key_type=key_type
        )
    except keypairs.KeyPairNameTaken:
        raise duplicate(name) from None
    return {**_created(call, keypair), "KeyMaterial": private_key}


def import_key_pair(call: Call) -> dict[str, Any]:
    name = call.get("KeyName")
    try:
        public_key = aws_keys.imported_public_key(call.get("PublicKeyMaterial"))
    except aws_keys.KeyFormatError as error:
        raise Ec2Error("InvalidKeyPair.Format", error.message) from None
    try:
        keypair = keypairs.register_keypair(
            call.session, call.ctx, name=name, public_key=public_key, unique_key=False
        )
    except keypairs.KeyPairNameTaken:
        raise duplicate(name) from None
    return _created(call, keypair)


def delete_key_pair(call: Call) -> dict[str, Any]:
    """Idempotent, as on AWS: deleting a key pair that does not exist succeeds."""
    name, pair_id = call.get("KeyName"), call.get("KeyPairId")
    if pair_id:
        core_id = call.ids.decode(KEY_PAIR, pair_id)
        found = _own(call, ids=[core_id]) if core_id is not None else []
    elif name:
        found = [keypair for keypair in _own(call) if keypair.name == name]
    else:
        raise Ec2Error("MissingParameter", "The request must contain the parameter KeyName")
    for keypair in found:
        keypairs.delete_keypair(call.session, call.ctx, name=keypair.name)
    result: dict[str, Any] = {"Return": True}
    if found:
        result["KeyPairId"] = call.ids.encode(KEY_PAIR, found[0].id)
    return result


def _requested(call: Call, rows: list[SSHKeyPair]) -> list[SSHKeyPair]:
    """Only the KeyNames/KeyPairIds asked for; each must be one of the caller's."""
    names, pair_ids = call.get("KeyNames"), call.get("KeyPairIds")
    if names:
        by_name = {keypair.name: keypair for keypair in rows}
        for name in names:
            if name not in by_name:
                raise not_found(name)
        rows = [keypair for keypair in rows if keypair.name in set(names)]
    if pair_ids:
        by_id = {call.ids.encode(KEY_PAIR, keypair.id): keypair for keypair in rows}
        for pair_id in pair_ids:
            call.ids.decode(KEY_PAIR, pair_id)  # malformed ids are refused as such
            if pair_id not in by_id:
                raise not_found(pair_id)
        rows = [by_id[pair_id] for pair_id in dict.fromkeys(pair_ids)]
    return rows


KEY_PAIR_FILTERS = filter_set(
    {
        "key-name": lambda k: k["KeyName"],
        "key-pair-id": lambda k: k["KeyPairId"],
        "fingerprint": lambda k: k["KeyFingerprint"],
        "key-type": lambda k: k["KeyType"],
    },
    lambda k: k["Tags"],
)


def describe_key_pairs(call: Call) -> dict[str, Any]:
    filters = parse_filters(call.get("Filters"))
    matches = KEY_PAIR_FILTERS.predicate(filters)
    rows = _requested(call, _own(call))
    tags = tags_by_id(call, TAG_TYPE, [keypair.id for keypair in rows])
    include_public_key = bool(call.get("IncludePublicKey"))
    views = []
    for keypair in rows:
        view = {
            "KeyPairId": call.ids.encode(KEY_PAIR, keypair.id),
            "KeyName": keypair.name,
            "KeyFingerprint": aws_keys.fingerprint(keypair),
            "KeyType": aws_keys.key_type(keypair.public_key),
            "CreateTime": keypair.created,
            "Tags": tags.get(keypair.id, []),
        }
        if include_public_key:
            view["PublicKey"] = keypair.public_key
        if matches(view):
            views.append(view)
    return {"KeyPairs": views}


ACTIONS = (
    Action(
        "CreateKeyPair",
        create_key_pair,
        writes=True,
        notes="rsa (2048 bits) or ed25519; KeyFormat pem only (ppk is refused)",
    ),
    Action(
        "ImportKeyPair",
        import_key_pair,
        writes=True,
        notes="OpenSSH public keys (rsa, ed25519); RFC 4716 and DER material are refused",
    ),
    Action("DeleteKeyPair", delete_key_pair, writes=True),
    Action(
        "DescribeKeyPairs",
        describe_key_pairs,
        notes="fingerprints as AWS computes them; listSSHKeyPairs shows CloudStack's (MD5 of "
        "the OpenSSH key blob) for the same key pairs",
    ),
)
