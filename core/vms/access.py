"""How one gets into a VM, and what it is called: password, SSH keys, user data, attributes.

A password-enabled template gets a generated password at deploy and at each reset; it is
shown once, in the job's result, and afterwards only encrypted with the VM's SSH public key
(getVMPassword: RSA PKCS#1 v1.5, base64), as CloudStack does.
"""

from __future__ import annotations

import base64
import re
from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from core.context import CallContext
from core.errors import InvalidParameter
from core.events import record_for_caller
from core.jobs import AsyncJob, job_handler, submit_job
from core.offerings import ServiceOffering
from core.runtime import Runtime
from core.templates import Template
from core.vms.models import VirtualMachine
from core.vms.service import (
    INSTANCE_TYPE,
    MAX_USER_DATA_BYTES,
    generate_password,
    lookup_keypair,
)
from core.vms.states import VmEvent, VmState, next_state
from core.vms.work import _event, _fail_nothing, _load

HOST_NAME = re.compile(r"^(?![0-9])(?!-)[A-Za-z0-9-]{1,63}(?<!-)$")


def _template(session: Session, vm: VirtualMachine) -> Template:
    return session.get_one(Template, vm.template_id)


# password ----------------------------------------------------------------------------------


def reset_password(session: Session, ctx: CallContext, vm: VirtualMachine) -> AsyncJob:
    """A new generated password for a VM of a password-enabled template."""
    if not _template(session, vm).password_enabled:
        raise InvalidParameter(
            "Fail to reset password for the virtual machine, the template is not password enabled",
            parameter="id",
        )
    next_state(vm.state, VmEvent.RESET_PASSWORD_REQUESTED, vm=vm.uuid)
    vm.password = generate_password()
    session.flush()
    return submit_job(
        session,
        ctx,
        "vm.resetpassword",
        instance_type=INSTANCE_TYPE,
        instance_id=vm.id,
        params={"reveal_password": True},
    )


def _credentials_result(job: AsyncJob, vm: VirtualMachine) -> dict[str, Any]:
    result: dict[str, Any] = {"vm_id": vm.id}
    if job.arguments.get("reveal_password") and vm.password:
        result["password"] = vm.password
    return result


@job_handler("vm.resetpassword", fail=_fail_nothing)
def run_reset_password(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    # The guest picks the new password up from the metadata service at its next boot.
    with runtime.db.write() as session:
        vm = _load(session, job)
        _event(session, job, vm, "VM.RESETPASSWORD", f"Successfully reset password of {vm.name}")
        return _credentials_result(job, vm)


def encrypted_password(session: Session, ctx: CallContext, vm: VirtualMachine) -> str:
    """The VM's password encrypted with its SSH key pair's public key (base64)."""
    from cryptography.hazmat.primitives.asymmetric import padding, rsa
    from cryptography.hazmat.primitives.serialization import load_ssh_public_key

    names = [name for name in vm.keypair.split(",") if name]
    if not vm.password or not names:
        raise InvalidParameter("No password for VM with specified id found.", parameter="id")
    owner = CallContext(
        user_id=vm.user_id, account_id=vm.account_id, domain_id=vm.domain_id, role=ctx.role
    )
    keypair = lookup_keypair(session, owner, names[0])
    public_key_text = getattr(keypair, "public_key", "") if keypair is not None else ""
    if not public_key_text:
        raise InvalidParameter("No password for VM with specified id found.", parameter="id")
    public_key = load_ssh_public_key(public_key_text.strip().encode())
    if not isinstance(public_key, rsa.RSAPublicKey):
        raise InvalidParameter("The VM's SSH key pair is not an RSA key", parameter="id")
    encrypted = public_key.encrypt(vm.password.encode(), padding.PKCS1v15())
    return base64.b64encode(encrypted).decode()


# SSH key -----------------------------------------------------------------------------------


def reset_ssh_key(
    session: Session, ctx: CallContext, vm: VirtualMachine, keypairs: list[str]
) -> AsyncJob:
    """New SSH key pairs for a stopped VM (and a new password, for a password template)."""
    names = list(dict.fromkeys(name for name in keypairs if name))
    if not names:
        raise InvalidParameter("Please specify a key pair", parameter="keypair")
    next_state(vm.state, VmEvent.RESET_SSH_KEY_REQUESTED, vm=vm.uuid)
    owner = CallContext(
        user_id=vm.user_id, account_id=vm.account_id, domain_id=vm.domain_id, role=ctx.role
    )
    for name in names:
        lookup_keypair(session, owner, name)
    vm.keypair = ",".join(names)
    reveal = _template(session, vm).password_enabled
    if reveal:
        vm.password = generate_password()
    session.flush()
    return submit_job(
        session,
        ctx,
        "vm.resetsshkey",
        instance_type=INSTANCE_TYPE,
        instance_id=vm.id,
        params={"reveal_password": reveal},
    )


@job_handler("vm.resetsshkey", fail=_fail_nothing)
def run_reset_ssh_key(runtime: Runtime, job: AsyncJob) -> dict[str, Any]:
    with runtime.db.write() as session:
        vm = _load(session, job)
        _event(session, job, vm, "VM.RESETSSHKEY", f"Successfully reset SSH key of {vm.name}")
        return _credentials_result(job, vm)


# update ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class VmUpdate:
    """What updateVirtualMachine may change; None leaves a field as it is."""

    display_name: str | None = None
    name: str | None = None
    group: str | None = None
    ha_enabled: bool | None = None
    guest_os: str | None = None
    user_data: str | None = None
    details: dict[str, str] | None = None
    cleanup_details: bool = False
    dynamically_scalable: bool | None = None
    delete_protection: bool | None = None  # CloudStack's name for EC2's disableApiTermination


def update_vm(
    session: Session, ctx: CallContext, vm: VirtualMachine, change: VmUpdate
) -> VirtualMachine:
    """Change a VM's names, group, HA flag, guest OS, user data or details."""
    next_state(vm.state, VmEvent.UPDATE_REQUESTED, vm=vm.uuid)
    if change.name is not None and change.name != vm.name:
        if not HOST_NAME.match(change.name):
            raise InvalidParameter(
                "Invalid name. Vm name can contain ASCII letters 'a' through 'z', the digits "
                "'0' through '9', and the hyphen ('-'), must be between 1 and 63 characters "
                "long, and can't start or end with \"-\" and can't start with digit",
                parameter="name",
            )
        if vm.state != VmState.STOPPED:
            raise InvalidParameter(
                "The VM must be stopped to change its host name", parameter="name"
            )
        vm.name = change.name
    if change.ha_enabled:
        offering = session.get_one(ServiceOffering, vm.service_offering_id)
        if not offering.offer_ha:
            raise InvalidParameter(
                "Can't enable ha for the vm as it's created from the Service offering having "
                "HA disabled",
                parameter="haenable",
            )
    if change.user_data is not None:
        if len(change.user_data.encode()) > MAX_USER_DATA_BYTES:
            raise InvalidParameter("User data is too long", parameter="userdata")
        vm.user_data = change.user_data
    if change.display_name is not None:
        vm.display_name = change.display_name
    if change.group is not None:
        vm.vm_group = change.group
    if change.ha_enabled is not None:
        vm.ha_enabled = change.ha_enabled
    if change.guest_os is not None:
        vm.guest_os = change.guest_os
    if change.dynamically_scalable is not None:
        vm.dynamically_scalable = change.dynamically_scalable
    if change.delete_protection is not None:
        vm.disable_api_termination = change.delete_protection
    if change.cleanup_details:
        vm.details = {}
    elif change.details is not None:
        vm.details = {**vm.details, **change.details}
    record_for_caller(
        session,
        ctx,
        "VM.UPDATE",
        f"Successfully updated VM {vm.name}",
        resource_type=INSTANCE_TYPE,
        resource_uuid=vm.uuid,
    )
    session.flush()
    return vm


def user_data_base64(vm: VirtualMachine) -> str:
    """The VM's user data as the APIs hand it out: base64."""
    return base64.b64encode(vm.user_data.encode()).decode() if vm.user_data else ""
