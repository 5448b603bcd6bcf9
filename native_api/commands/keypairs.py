"""SSH key pairs: createSSHKeyPair, registerSSHKeyPair, deleteSSHKeyPair, listSSHKeyPairs."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import keypairs
from core.identity import Account, Domain
from core.keypairs import SSHKeyPair
from native_api.call import Call
from native_api.commands.common import owner_params
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command

KEYPAIR_FIELDS = (
    Field("id", description="ID of the ssh keypair"),
    Field("name", description="Name of the keypair"),
    Field("fingerprint", description="Fingerprint of the public key"),
    Field("account", description="the owner of the keypair"),
    Field("domainid", description="the domain id of the keypair owner"),
    Field("domain", description="the domain name of the keypair owner"),
)
CREATE_FIELDS = (*KEYPAIR_FIELDS, Field("privatekey", description="Private key"))
OWNER_PARAMS = owner_params(
    "an optional account for the ssh key. Must be used with domainId.",
    "an optional domainId for the ssh key. If the account parameter is used, "
    "domainId must also be used.",
    "an optional project for the ssh key",
)


def keypair_view(session: Session, keypair: SSHKeyPair) -> dict[str, Any]:
    account = session.get_one(Account, keypair.account_id)
    domain = session.get_one(Domain, keypair.domain_id)
    return {
        "id": keypair.uuid,
        "name": keypair.name,
        "fingerprint": keypair.fingerprint,
        "account": account.name,
        "accountid": account.uuid,
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": "ROOT" + domain.path.rstrip("/") if domain.path != "/" else "ROOT",
        "hasannotations": False,
    }


@command(
    "createSSHKeyPair",
    kind=Kind.SYNC,
    description="Create a new keypair and returns the private key",
    response_name="keypair",
    params=(
        Param("name", required=True, description="Name of the keypair"),
        *OWNER_PARAMS,
    ),
    response_fields=CREATE_FIELDS,
    entity="SSHKeyPair",
)
def create_ssh_key_pair(call: Call) -> Reply:
    keypair, private_key = keypairs.create_keypair(
        call.session, call.owner(), name=call.get("name")
    )
    return Reply(obj={**keypair_view(call.session, keypair), "privatekey": private_key})


@command(
    "registerSSHKeyPair",
    kind=Kind.SYNC,
    description="Register a public key in a keypair under a certain name",
    response_name="keypair",
    params=(
        Param("name", required=True, description="Name of the keypair"),
        Param(
            "publickey",
            required=True,
            description="Public key material of the keypair",
            length=5120,
        ),
        *OWNER_PARAMS,
    ),
    response_fields=KEYPAIR_FIELDS,
    entity="SSHKeyPair",
)
def register_ssh_key_pair(call: Call) -> Reply:
    keypair = keypairs.register_keypair(
        call.session, call.owner(), name=call.get("name"), public_key=call.get("publickey")
    )
    return Reply(obj=keypair_view(call.session, keypair))


@command(
    "deleteSSHKeyPair",
    kind=Kind.SYNC,
    description="Deletes a keypair by name",
    response_name="success",
    params=(
        Param("name", required=True, description="Name of the keypair"),
        *OWNER_PARAMS,
    ),
    entity="SSHKeyPair",
)
def delete_ssh_key_pair(call: Call) -> Reply:
    keypairs.delete_keypair(call.session, call.owner(), name=call.get("name"))
    return Reply(success=True)


@command(
    "listSSHKeyPairs",
    kind=Kind.LIST,
    description="List registered keypairs",
    response_name="sshkeypair",
    params=(
        Param("id", "uuid", description="the ID of the ssh keypair"),
        Param("name", description="A key pair name to look for"),
        Param("fingerprint", description="A public key fingerprint to look for"),
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=KEYPAIR_FIELDS,
)
def list_ssh_key_pairs(call: Call) -> Reply:
    rows, total = keypairs.list_keypairs(
        call.session,
        call.ctx,
        call.scope(),
        uuid=call.get("id"),
        name=call.get("name"),
        fingerprint=call.get("fingerprint"),
        keyword=call.get("keyword"),
        page=call.page(),
    )
    return Reply(items=[keypair_view(call.session, row) for row in rows], total=total)
