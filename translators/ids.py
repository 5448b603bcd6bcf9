"""EC2 ids ⇄ core integer ids, and core accounts ⇄ 12-digit AWS account numbers.

An EC2 id is a prefix and 17 lowercase hex digits (`i-0a1b2c3d4e5f60718`), the shape AWS has
used since 2016. Ours is a keyed permutation of the core row's integer id: a balanced Feistel
network over 68 bits (two 34-bit halves, round function HMAC-SHA256), so ids look random, never
collide, and decode back without a lookup table. The resource prefix is part of every round's
input, so `i-…` and `ami-…` of the same integer share nothing.

The key is per installation: a random secret the first start creates and keeps in the database
(`core.installation`), never shown by any API, so no user can compute the permutation. Keeping
it in the database, rather than in a setting, means every server of a cluster and every restore
of a backup agree on the ids; changing it would change every EC2 id. (Installations older than
that secret derived the key from the ROOT domain's uuid, which ROOT-domain users can read; the
migration kept that key for them so that their ids did not change.)

Account numbers use the same construction over 40 bits, cycle-walked into 0 … 10¹²−1.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from core.errors import InvalidParameter
from core.installation import EC2_ID_KEY, installation_secret

ID_HEX_DIGITS = 17
_ID_BITS = 68  # 17 hex digits
_MAX_CORE_ID = 2**63 - 1  # the largest BIGINT primary key
_ROUNDS = 6
_ACCOUNT_BITS = 40
_ACCOUNT_SPACE = 10**12

INSTANCE = "i"
IMAGE = "ami"
RESERVATION = "r"
VOLUME = "vol"
SNAPSHOT = "snap"
SECURITY_GROUP = "sg"
SECURITY_GROUP_RULE = "sgr"
KEY_PAIR = "key"
ALLOCATION = "eipalloc"  # an Elastic IP (a core public IP)
ASSOCIATION = "eipassoc"  # its static NAT to an instance
VPC = "vpc"
SUBNET = "subnet"
NETWORK_INTERFACE = "eni"  # a VM's NIC in a subnet
NETWORK_INTERFACE_ATTACHMENT = "eni-attach"  # that NIC's attachment (the same NIC row)
# A VPC's implied network resources, each encoding the core VPC's id (one of each per VPC).
ROUTE_TABLE = "rtb"  # its main route table
ROUTE_TABLE_ASSOCIATION = "rtbassoc"  # the main table's association with the VPC
INTERNET_GATEWAY = "igw"  # its attached internet gateway
NETWORK_ACL = "acl"  # its default network ACL
NETWORK_ACL_ASSOCIATION = "aclassoc"  # that ACL's association with a subnet (its network's id)
DHCP_OPTIONS = "dopt"  # an account's one DHCP options set (encodes the core account's id)


class MalformedId(InvalidParameter):
    """Not an id of the expected kind at all (wrong prefix, length or characters)."""

    def __init__(self, prefix: str, value: str) -> None:
        super().__init__(f'Invalid id: "{value}" (expecting "{prefix}-...")', parameter=prefix)
        self.prefix = prefix
        self.value = value


def installation_key(session: Session) -> bytes:
    """The id key of this installation (its secret, made at first start)."""
    return installation_secret(session, EC2_ID_KEY)


@dataclass(frozen=True)
class _Feistel:
    """A keyed permutation of the integers in [0, 2**bits) (bits even)."""

    key: bytes = field(repr=False)
    bits: int
    tweak: str

    @property
    def _half(self) -> int:
        return self.bits // 2

    def _round(self, number: int, value: int) -> int:
        message = f"{self.tweak}:{number}:{value}".encode()
        digest = hmac.new(self.key, message, hashlib.sha256).digest()
        return int.from_bytes(digest[:8], "big") & ((1 << self._half) - 1)

    def forward(self, value: int) -> int:
        mask = (1 << self._half) - 1
        left, right = value >> self._half, value & mask
        for number in range(_ROUNDS):
            left, right = right, left ^ self._round(number, right)
        return (left << self._half) | right

    def backward(self, value: int) -> int:
        mask = (1 << self._half) - 1
        left, right = value >> self._half, value & mask
        for number in reversed(range(_ROUNDS)):
            left, right = right ^ self._round(number, left), left
        return (left << self._half) | right


class IdCodec:
    """Encodes core ids as EC2 ids for one installation key."""

    def __init__(self, key: bytes) -> None:
        self._key = key
        self._permutations: dict[str, _Feistel] = {}
        self._accounts = _Feistel(key, _ACCOUNT_BITS, "account")

    def _permutation(self, prefix: str) -> _Feistel:
        permutation = self._permutations.get(prefix)
        if permutation is None:
            permutation = _Feistel(self._key, _ID_BITS, prefix)
            self._permutations[prefix] = permutation
        return permutation

    def encode(self, prefix: str, core_id: int) -> str:
        """`prefix-` + 17 hex digits for the core row id `core_id`."""
        if not 0 < core_id <= _MAX_CORE_ID:
            raise ValueError(f"core id out of range: {core_id}")
        return f"{prefix}-{self._permutation(prefix).forward(core_id):0{ID_HEX_DIGITS}x}"

    def decode(self, prefix: str, ec2_id: str) -> int | None:
        """The core id behind `ec2_id`; None if well-formed but not one of ours (not found).

        MalformedId if it is not `prefix-` followed by 8 or 17 lowercase hex digits (AWS
        accepts both lengths; an 8-digit id can only be someone else's).
        """
        if not _pattern(prefix).fullmatch(ec2_id):
            raise MalformedId(prefix, ec2_id)
        digits = ec2_id[len(prefix) + 1 :]
        if len(digits) != ID_HEX_DIGITS:
            return None
        core_id = self._permutation(prefix).backward(int(digits, 16))
        return core_id if 0 < core_id <= _MAX_CORE_ID else None

    def account_number(self, account_id: int) -> str:
        """The 12-digit AWS account number (OwnerId) of a core account."""
        if not 0 < account_id < _ACCOUNT_SPACE:
            raise ValueError(f"account id out of range: {account_id}")
        value = self._accounts.forward(account_id)
        while value >= _ACCOUNT_SPACE:  # cycle-walk back into the 12-digit range
            value = self._accounts.forward(value)
        return f"{value:012d}"

    def account_id(self, number: str) -> int | None:
        """The core account id behind a 12-digit account number, None if it is not one."""
        if not re.fullmatch(r"\d{12}", number):
            return None
        value = self._accounts.backward(int(number))
        while value >= _ACCOUNT_SPACE:
            value = self._accounts.backward(value)
        return value or None


_PATTERNS: dict[str, re.Pattern[str]] = {}


def _pattern(prefix: str) -> re.Pattern[str]:
    if prefix not in _PATTERNS:
        _PATTERNS[prefix] = re.compile(rf"{re.escape(prefix)}-(?:[0-9a-f]{{8}}|[0-9a-f]{{17}})")
    return _PATTERNS[prefix]
