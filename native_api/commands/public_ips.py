"""Public IP ranges, public IP addresses and static NAT."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import infra, networks
from core import public_ips as ips
from core.context import CallContext, Role
from core.errors import InvalidParameter
from core.identity import Account, Domain
from core.infra import Zone
from core.public_ips import PublicIpAddress, VlanIpRange
from core.tags import tags_of
from core.vms import service as vms
from core.vms.models import VirtualMachine
from native_api.call import Call
from native_api.commands.common import LIST_TAGS, delete_command, owner_params, started, zone_id_of
from native_api.commands.security_groups import tag_pairs, tag_view
from native_api.registry import ADMIN_ONLY, OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, VM_VIEW_EXTENSIONS, JobResult

_ADDRESS_COMMANDS = "org.apache.cloudstack.api.command.user.address."
_NAT_COMMANDS = "org.apache.cloudstack.api.command.user.nat."
IP_FIELDS = (
    Field("id", description="public IP address id"),
    Field("ipaddress", description="public IP address"),
    Field("allocated", "date", "date the public IP address was acquired"),
    Field("zoneid", description="the ID of the zone the public IP address belongs to"),
    Field("zonename", description="the name of the zone the public IP address belongs to"),
    Field("issourcenat", "boolean", "true if the IP address is a source nat address"),
    Field("account", description="the account the public IP address is associated with"),
    Field("domainid", description="the domain ID the public IP address is associated with"),
    Field("forvirtualnetwork", "boolean", "the virtual network for the IP address"),
    Field("isstaticnat", "boolean", "true if this ip is for static nat, false otherwise"),
    Field("virtualmachineid", description="virtual machine id the ip address is assigned to"),
    Field("state", description="State of the ip address. Can be: Allocating, Allocated, Releasing"),
    Field("tags", "list", "the list of resource tags associated with ip address"),
)
VLAN_FIELDS = (
    Field("id", description="the ID of the VLAN IP range"),
    Field("zoneid", description="the Zone ID of the VLAN IP range"),
    Field("vlan", description="the ID or VID of the VLAN."),
    Field("gateway", description="the gateway of the VLAN IP range"),
    Field("netmask", description="the netmask of the VLAN IP range"),
    Field("startip", description="the start ip of the VLAN IP range"),
    Field("endip", description="the end ip of the VLAN IP range"),
    Field("forvirtualnetwork", "boolean", "the virtual network for the VLAN IP range"),
    Field("account", description="the account of the VLAN IP range"),
    Field("domainid", description="the domain ID of the VLAN IP range"),
)


def _owner_fields(
    session: Session, account_id: int | None, domain_id: int | None
) -> dict[str, Any]:
    if account_id is None or domain_id is None:
        return {}
    account = session.get_one(Account, account_id)
    domain = session.get_one(Domain, domain_id)
    return {
        "account": account.name,
        "domainid": domain.uuid,
        "domain": domain.name,
        "domainpath": "ROOT" + domain.path.rstrip("/") if domain.path != "/" else "ROOT",
    }


def public_ip_view(
    session: Session, address: PublicIpAddress, ctx: CallContext | None = None
) -> dict[str, Any]:
    zone = session.get_one(Zone, address.zone_id)
    vlan_range = session.get_one(VlanIpRange, address.vlan_id)
    view: dict[str, Any] = {
        "id": address.uuid,
        "ipaddress": address.address,
        "allocated": address.allocated,
        "zoneid": zone.uuid,
        "zonename": zone.name,
        "issourcenat": address.is_source_nat,
        **_owner_fields(session, address.account_id, address.domain_id),
        "forvirtualnetwork": vlan_range.for_virtual_network,
        "isstaticnat": address.vm_id is not None,
        "issystem": False,
        "isportable": False,
        "state": address.state,
        "fordisplay": True,
        "hasannotations": False,
        "tags": [
            tag_view(session, tag)
            for tag in tags_of(session, ips.RESOURCE_TYPE, [address.id])[address.id]
        ],
    }
    if address.vm_id is not None:
        vm = session.get_one(VirtualMachine, address.vm_id)
        view.update(
            virtualmachineid=vm.uuid,
            virtualmachinename=vm.name,
            virtualmachinedisplayname=vm.display_name or vm.name,
            virtualmachinetype="User",
            vmipaddress=address.vm_ip or vm.private_ip or None,
        )
    if ctx is not None and ctx.role is Role.ADMIN:
        view["vlanid"] = vlan_range.uuid
        view["vlanname"] = vlan_range.vlan_tag
    return view


def vlan_view(session: Session, vlan_range: VlanIpRange) -> dict[str, Any]:
    zone = session.get_one(Zone, vlan_range.zone_id)
    return {
        "id": vlan_range.uuid,
        "forvirtualnetwork": vlan_range.for_virtual_network,
        "zoneid": zone.uuid,
        "vlan": vlan_range.vlan_tag,
        **_owner_fields(session, vlan_range.account_id, vlan_range.domain_id),
        "gateway": vlan_range.gateway,
        "netmask": vlan_range.netmask,
        "description": f"{vlan_range.start_ip}-{vlan_range.end_ip}",
        "startip": vlan_range.start_ip,
        "endip": vlan_range.end_ip,
        "forsystemvms": False,
    }


def _vm_public_ip(
    session: Session, vms: list[VirtualMachine], _ctx: CallContext
) -> dict[int, dict[str, Any]]:
    return {
        vm_id: {"publicip": address.address, "publicipid": address.uuid}
        for vm_id, address in ips.static_nats_of_vms(session, [vm.id for vm in vms]).items()
    }


VM_VIEW_EXTENSIONS.append(_vm_public_ip)


# ---- ranges


@command(
    "createVlanIpRange",
    kind=Kind.SYNC,
    description="Creates a VLAN IP range.",
    response_name="vlan",
    roles=ADMIN_ONLY,
    params=(
        Param("zoneid", "uuid", True, "the Zone ID of the VLAN IP range"),
        Param(
            "startip", required=True, description="the beginning IP address in the VLAN IP range"
        ),
        Param("endip", description="the ending IP address in the VLAN IP range"),
        Param("gateway", required=True, description="the gateway of the VLAN IP range"),
        Param("netmask", required=True, description="the netmask of the VLAN IP range"),
        Param(
            "vlan",
            description="the ID or VID of the VLAN. If not specified, will be "
            "defaulted to the vlan of the network or if vlan of the network is null - to "
            "Untagged",
        ),
        Param(
            "forvirtualnetwork",
            "boolean",
            description="true if VLAN is of Virtual type, false if Direct",
        ),
        *owner_params(
            "account who will own the VLAN. If VLAN is Zone wide, this parameter should be omitted",
            "domain ID of the account owning a VLAN",
            "project who will own the VLAN",
        ),
        Param(
            "podid",
            "uuid",
            description="optional parameter. Have to be specified for Direct Untagged vlan only.",
        ),
        Param("networkid", "uuid", description="the network id"),
        Param("physicalnetworkid", "uuid", description="the physical network id"),
    ),
    response_fields=VLAN_FIELDS,
    entity="VlanIpRange",
    differences="IPv4 only; zoneid, startip, gateway and netmask are required (no networks).",
)
def create_vlan_ip_range(call: Call) -> Reply:
    zone = infra.zone_by_uuid(call.session, call.get("zoneid"))
    owner = call.owner() if call.get("account") else None
    vlan_range = ips.create_vlan_ip_range(
        call.session,
        call.ctx,
        zone=zone,
        start_ip=call.get("startip"),
        end_ip=call.get("endip"),
        gateway=call.get("gateway"),
        netmask=call.get("netmask"),
        vlan=call.get("vlan"),
        for_virtual_network=call.get("forvirtualnetwork", True),
        owner=owner,
    )
    return Reply(obj=vlan_view(call.session, vlan_range))


@delete_command(
    "deleteVlanIpRange",
    "Deletes a VLAN IP range.",
    "the id of the VLAN IP range",
    response_fields=(),
    entity="VlanIpRange",
)
def delete_vlan_ip_range(call: Call) -> Reply:
    vlan_range = ips.get_vlan_ip_range(call.session, call.ctx, call.get("id"))
    ips.delete_vlan_ip_range(call.session, call.ctx, vlan_range)
    return Reply(success=True)


@command(
    "listVlanIpRanges",
    kind=Kind.LIST,
    description="Lists all VLAN IP ranges.",
    response_name="vlaniprange",
    roles=ADMIN_ONLY,
    params=(
        Param("id", "uuid", description="the ID of the VLAN IP range"),
        Param("zoneid", "uuid", description="the Zone ID of the VLAN IP range"),
        Param("vlan", description='the ID or VID of the VLAN. Default is an "untagged" VLAN.'),
        Param(
            "forvirtualnetwork",
            "boolean",
            description="true if VLAN is of Virtual type, false if Direct",
        ),
        Param(
            "account",
            description="the account with which the VLAN IP range is associated. "
            "Must be used with the domainId parameter.",
        ),
        Param(
            "domainid",
            "uuid",
            description="the domain ID with which the VLAN IP range is associated.",
        ),
        Param("podid", "uuid", description="the Pod ID of the VLAN IP range"),
        Param("networkid", "uuid", description="network id of the VLAN IP range"),
        Param("physicalnetworkid", "uuid", description="physical network id of the VLAN IP range"),
        Param("projectid", "uuid", description="project who will own the VLAN"),
        *PAGING,
    ),
    response_fields=VLAN_FIELDS,
)
def list_vlan_ip_ranges(call: Call) -> Reply:
    zone_id = zone_id_of(call)
    account_id = call.owner().account_id if call.get("account") else None
    rows, total = ips.list_vlan_ip_ranges(
        call.session,
        call.ctx,
        uuid=call.get("id"),
        zone_id=zone_id,
        vlan=call.get("vlan"),
        for_virtual_network=call.get("forvirtualnetwork"),
        account_id=account_id,
        keyword=call.get("keyword"),
        page=call.page(),
    )
    return Reply(items=[vlan_view(call.session, row) for row in rows], total=total)


# ---- addresses


@command(
    "associateIpAddress",
    kind=Kind.ASYNC_CREATE,
    description="Acquires and associates a public IP to an account.",
    response_name="ipaddress",
    params=(
        Param(
            "zoneid",
            "uuid",
            description="the ID of the availability zone you want to acquire "
            "an public IP address from",
        ),
        Param("account", description="the account to associate with this IP address"),
        Param(
            "domainid", "uuid", description="the ID of the domain to associate with this IP address"
        ),
        Param(
            "networkid", "uuid", description="The network this IP address should be associated to."
        ),
        Param("projectid", "uuid", description="Deploy VM for the project"),
        Param("vpcid", "uuid", description="the VPC you want the IP address to be associated with"),
        Param(
            "isportable",
            "boolean",
            description="should be set to true if public IP is required "
            "to be transferable across zones, if not specified defaults to false",
        ),
        Param(
            "fordisplay",
            "boolean",
            description="an optional field, whether to the display the IP to the end user or not",
        ),
        Param("ipaddress", description="IP Address to be associated"),
    ),
    response_fields=IP_FIELDS,
    entity="IpAddress",
    job_command_class=_ADDRESS_COMMANDS + "AssociateIPAddrCmd",
    differences="networkid and vpcid choose the zone and must be the owner's, but the address "
    "is the account's, not tied to the network (no associatednetworkid, no source NAT); "
    "isportable and ipaddress are ignored.",
)
def associate_ip_address(call: Call) -> Reply:
    owner = call.owner()
    zone = _zone_for_address(call, owner)
    address, job = ips.associate_ip(call.session, owner, zone=zone)
    return started(job, address)


def _zone_for_address(call: Call, owner: CallContext) -> Zone:
    """zoneid, else the zone of the owner's network or VPC (as CloudStack's getZoneId)."""
    network_uuid, vpc_uuid = call.get("networkid"), call.get("vpcid")
    placed = None
    if network_uuid:
        placed = networks.get_network(call.session, owner, uuid=network_uuid)
    elif vpc_uuid:
        placed = networks.get_vpc(call.session, owner, uuid=vpc_uuid)
    if call.get("zoneid"):
        zone = infra.zone_by_uuid(call.session, call.get("zoneid"))
        if placed is not None and placed.zone_id != zone.id:
            raise InvalidParameter(
                "The network or VPC is not in the given zone", parameter="zoneid"
            )
        return zone
    if placed is None:
        raise InvalidParameter(
            "Unable to figure out zone to assign ip to. Please specify either zoneId, or "
            "networkId, or vpcId in the call",
            parameter="zoneid",
        )
    return call.session.get_one(Zone, placed.zone_id)


@command(
    "disassociateIpAddress",
    kind=Kind.ASYNC,
    description="Disassociates an IP address from the account.",
    response_name="success",
    params=(Param("id", "uuid", True, "the ID of the public IP address to disassociate"),),
    entity="IpAddress",
    job_command_class=_ADDRESS_COMMANDS + "DisassociateIPAddrCmd",
)
def disassociate_ip_address(call: Call) -> Reply:
    address = ips.get_public_ip(call.session, call.ctx, call.get("id"))
    job = ips.disassociate_ip(call.session, call.ctx, address)
    return Reply(job_uuid=job.uuid)


@command(
    "listPublicIpAddresses",
    kind=Kind.LIST,
    description="Lists all public IP addresses",
    response_name="publicipaddress",
    params=(
        Param("id", "uuid", description="lists IP address by ID"),
        Param("ipaddress", description="lists the specified IP address"),
        Param("zoneid", "uuid", description="lists all public IP addresses by zone ID"),
        Param(
            "allocatedonly",
            "boolean",
            description="limits search results to allocated public IP addresses",
        ),
        Param("isstaticnat", "boolean", description="list only static NAT IP addresses"),
        Param("issourcenat", "boolean", description="list only source NAT IP addresses"),
        Param("forvirtualnetwork", "boolean", description="the virtual network for the IP address"),
        Param(
            "associatednetworkid",
            "uuid",
            description="lists all public IP addresses associated to the network specified",
        ),
        Param("vlanid", "uuid", description="lists all public IP addresses by VLAN ID"),
        Param("state", description="lists all public IP addresses by state"),
        LIST_TAGS,
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=IP_FIELDS,
    differences="associatednetworkid and vlanid are ignored; issourcenat=true lists nothing.",
)
def list_public_ip_addresses(call: Call) -> Reply:
    if call.get("issourcenat"):
        return Reply(items=[], total=0)
    zone_id = zone_id_of(call)
    rows, total = ips.list_public_ips(
        call.session,
        call.ctx,
        call.scope(),
        uuid=call.get("id"),
        address=call.get("ipaddress"),
        zone_id=zone_id,
        allocated_only=call.get("allocatedonly", True),
        is_static_nat=call.get("isstaticnat"),
        for_virtual_network=call.get("forvirtualnetwork"),
        state=call.get("state"),
        keyword=call.get("keyword"),
        tags=tag_pairs(call),
        page=call.page(),
    )
    return Reply(items=[public_ip_view(call.session, row, call.ctx) for row in rows], total=total)


# ---- static NAT


@command(
    "enableStaticNat",
    kind=Kind.SYNC,
    description="Enables static NAT for given IP address",
    response_name="success",
    params=(
        Param(
            "ipaddressid",
            "uuid",
            True,
            "the public IP address ID for which static NAT feature is being enabled",
        ),
        Param(
            "virtualmachineid",
            "uuid",
            True,
            "the ID of the virtual machine for enabling static NAT feature",
        ),
        Param(
            "networkid",
            "uuid",
            description="The network of the VM the static NAT will be enabled for.",
        ),
        Param(
            "vmguestip",
            description="VM guest NIC secondary IP address for the port forwarding rule",
        ),
    ),
    entity="IpAddress",
)
def enable_static_nat(call: Call) -> Reply:
    address = ips.get_public_ip(call.session, call.ctx, call.get("ipaddressid"))
    vm = vms.get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
    ips.enable_static_nat(call.session, call.ctx, address, vm)
    return Reply(success=True)


@command(
    "disableStaticNat",
    kind=Kind.ASYNC,
    description="Disables static rule for given IP address",
    response_name="success",
    params=(
        Param(
            "ipaddressid",
            "uuid",
            True,
            "the public IP address ID for which static NAT feature is being disabled",
        ),
    ),
    entity="IpAddress",
    job_command_class=_NAT_COMMANDS + "DisableStaticNatCmd",
)
def disable_static_nat(call: Call) -> Reply:
    address = ips.get_public_ip(call.session, call.ctx, call.get("ipaddressid"))
    job = ips.disable_static_nat(call.session, call.ctx, address)
    return Reply(job_uuid=job.uuid)


JOB_RESULTS.update(
    {
        "ip.associate": JobResult(
            "ipaddress", _ADDRESS_COMMANDS + "AssociateIPAddrCmd", PublicIpAddress, public_ip_view
        ),
        "ip.release": JobResult("ipaddress", _ADDRESS_COMMANDS + "DisassociateIPAddrCmd"),
        "ip.static_nat.disable": JobResult("ipaddress", _NAT_COMMANDS + "DisableStaticNatCmd"),
    }
)
