"""Firewall, port forwarding and IP forwarding (static NAT) rules on public IP addresses."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core import network_rules as rules
from core import public_ips as ips
from core.context import CallContext
from core.network_rules import FIREWALL, PORT_FORWARDING, STATIC_NAT, NetworkRule
from core.public_ips import PublicIpAddress
from core.vms import service as vms
from core.vms.models import VirtualMachine
from native_api.call import Call
from native_api.commands.common import LIST_TAGS, started
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import JOB_RESULTS, JobResult

_FIREWALL_COMMANDS = "org.apache.cloudstack.api.command.user.firewall."
_NAT_COMMANDS = "org.apache.cloudstack.api.command.user.nat."
# CloudStack's rule states: Add (being applied), Active, Revoke (being removed).
_COMMON_FIELDS = (
    Field("id", description="the ID of the rule"),
    Field("protocol", description="the protocol of the rule"),
    Field("ipaddressid", description="the public ip address id for the rule"),
    Field("ipaddress", description="the public ip address for the rule"),
    Field("state", description="the state of the rule"),
    Field("cidrlist", description="the cidr list to forward traffic from"),
    Field("tags", "list", "the list of resource tags associated with the rule"),
    Field("fordisplay", "boolean", "is firewall for display to the regular user"),
)
FIREWALL_FIELDS = (
    *_COMMON_FIELDS,
    Field("startport", "integer", "the starting port of firewall rule's port range"),
    Field("endport", "integer", "the ending port of firewall rule's port range"),
    Field("icmptype", "integer", "type of the icmp message being sent"),
    Field("icmpcode", "integer", "error code for this icmp message"),
)
_VM_FIELDS = (
    Field("virtualmachineid", description="the VM ID for the rule"),
    Field("virtualmachinename", description="the VM name for the rule"),
    Field("virtualmachinedisplayname", description="the VM display name for the rule"),
    Field("vmguestip", description="the vm ip address for the rule"),
)
PORT_FORWARDING_FIELDS = (
    *_COMMON_FIELDS,
    *_VM_FIELDS,
    Field("privateport", description="the starting port of port forwarding rule's private range"),
    Field("privateendport", description="the ending port of port forwarding rule's private range"),
    Field("publicport", description="the starting port of port forwarding rule's public range"),
    Field("publicendport", description="the ending port of port forwarding rule's public range"),
)
IP_FORWARDING_FIELDS = (
    *_COMMON_FIELDS,
    *_VM_FIELDS,
    Field("startport", "integer", "the start port of the rule"),
    Field("endport", "integer", "the end port of the rule"),
)
_DIFFERENCES = (
    "No guest networks: networkid, vpcid and fordisplay are accepted and ignored; rules are "
    "recorded, not programmed into a network element; tags are not supported (always empty). "
)


# ---- views


def _base_view(session: Session, rule: NetworkRule) -> dict[str, Any]:
    address = session.get_one(PublicIpAddress, rule.ip_address_id)
    return {
        "id": rule.uuid,
        "protocol": rule.protocol,
        "ipaddressid": address.uuid,
        "ipaddress": address.address,
        "state": rule.state,
        "cidrlist": ",".join(rule.cidrs),
        "fordisplay": True,
        "tags": [],
    }


def _vm_view(session: Session, rule: NetworkRule) -> dict[str, Any]:
    if rule.vm_id is None:
        return {}
    vm = session.get_one(VirtualMachine, rule.vm_id)
    view = {
        "virtualmachineid": vm.uuid,
        "virtualmachinename": vm.name,
        "virtualmachinedisplayname": vm.display_name or vm.name,
    }
    if vm.private_ip:
        view["vmguestip"] = vm.private_ip
    return view


def firewall_rule_view(
    session: Session, rule: NetworkRule, _ctx: CallContext | None = None
) -> dict[str, Any]:
    view = _base_view(session, rule)
    if rule.start_port is not None:
        view.update(startport=rule.start_port, endport=rule.end_port)
    if rule.icmp_type is not None:
        view.update(icmptype=rule.icmp_type, icmpcode=rule.icmp_code)
    return view


def port_forwarding_rule_view(
    session: Session, rule: NetworkRule, _ctx: CallContext | None = None
) -> dict[str, Any]:
    # CloudStack's FirewallRuleResponse renders these ports as strings.
    return {
        **_base_view(session, rule),
        "privateport": str(rule.private_start_port),
        "privateendport": str(rule.private_end_port),
        "publicport": str(rule.start_port),
        "publicendport": str(rule.end_port),
        **_vm_view(session, rule),
    }


def ip_forwarding_rule_view(
    session: Session, rule: NetworkRule, _ctx: CallContext | None = None
) -> dict[str, Any]:
    return {
        **_base_view(session, rule),
        "startport": rule.start_port,
        "endport": rule.end_port,
        **_vm_view(session, rule),
    }


def _cidrs(call: Call) -> list[str] | None:
    value = call.get("cidrlist")
    if value is None:
        return None
    if isinstance(value, str):
        return value.split(",")
    return [part for item in value for part in str(item).split(",")]


def _list(call: Call, purpose: str, view: Any) -> Reply:
    address_id = (
        ips.get_public_ip(call.session, call.ctx, call.get("ipaddressid")).id
        if call.get("ipaddressid")
        else None
    )
    vm_id = (
        vms.get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid")).id
        if call.get("virtualmachineid")
        else None
    )
    rows, total = rules.list_rules(
        call.session,
        call.ctx,
        call.scope(),
        purpose,
        uuid=call.get("id"),
        ip_address_id=address_id,
        vm_id=vm_id,
        keyword=call.get("keyword"),
        page=call.page(),
    )
    return Reply(items=[view(call.session, row, call.ctx) for row in rows], total=total)


def _rule_args(call: Call) -> dict[str, Any]:
    """What the create commands of firewall and IP forwarding rules share."""
    return {
        "protocol": call.get("protocol"),
        "start_port": call.get("startport"),
        "end_port": call.get("endport"),
        "cidr_list": _cidrs(call),
    }


def _address(call: Call) -> PublicIpAddress:
    return ips.get_public_ip(call.session, call.ctx, call.get("ipaddressid"))


def _delete(call: Call, purpose: str) -> Reply:
    rule = rules.get_rule(call.session, call.ctx, purpose, call.get("id"))
    job = rules.delete_rule(call.session, call.ctx, rule)
    return Reply(job_uuid=job.uuid)


_ID = Param("id", "uuid", True, "the ID of the rule")
_LIST_PARAMS = (
    Param("id", "uuid", description="Lists rule with the specified ID."),
    Param("ipaddressid", "uuid", description="the ID of IP address of the rules"),
    Param("networkid", "uuid", description="list rules for certain network"),
    Param("fordisplay", "boolean", description="list resources by display flag"),
    LIST_TAGS,
    *PAGING,
    *OWNER_SCOPE,
)


def _delete_command(
    rule: str, description: str, package: str = _FIREWALL_COMMANDS, id_param: Param = _ID
) -> Any:
    """deleteFirewallRule, deletePortForwardingRule, deleteIpForwardingRule."""
    return command(
        f"delete{rule}",
        kind=Kind.ASYNC,
        description=description,
        response_name="success",
        params=(id_param,),
        entity="FirewallRule",
        job_command_class=f"{package}Delete{rule}Cmd",
    )


# ---- firewall rules


@command(
    "createFirewallRule",
    kind=Kind.ASYNC_CREATE,
    description="Creates a firewall rule for a given IP address",
    response_name="firewallrule",
    params=(
        Param("ipaddressid", "uuid", True, "the IP address id of the firewall rule"),
        Param(
            "protocol",
            required=True,
            description="the protocol for the firewall rule. Valid values are TCP/UDP/ICMP.",
        ),
        Param("startport", "integer", description="the starting port of firewall rule"),
        Param("endport", "integer", description="the ending port of firewall rule"),
        Param("cidrlist", "list", description="the CIDR list to forward traffic from"),
        Param("icmptype", "integer", description="type of the ICMP message being sent"),
        Param("icmpcode", "integer", description="error code for this icmp message"),
        Param("type", description="type of firewall rule: system/user"),
        Param("fordisplay", "boolean", description="an optional field, whether to the display"),
    ),
    response_fields=FIREWALL_FIELDS,
    entity="FirewallRule",
    job_command_class=_FIREWALL_COMMANDS + "CreateFirewallRuleCmd",
    differences=_DIFFERENCES,
)
def create_firewall_rule(call: Call) -> Reply:
    rule, job = rules.create_firewall_rule(
        call.session,
        call.ctx,
        _address(call),
        icmp_type=call.get("icmptype"),
        icmp_code=call.get("icmpcode"),
        **_rule_args(call),
    )
    return started(job, rule)


@_delete_command("FirewallRule", "Deletes a firewall rule")
def delete_firewall_rule(call: Call) -> Reply:
    return _delete(call, FIREWALL)


@command(
    "listFirewallRules",
    kind=Kind.LIST,
    description="Lists all firewall rules for an IP address.",
    response_name="firewallrule",
    params=(*_LIST_PARAMS, Param("vpcid", "uuid", description="list rules for a VPC")),
    response_fields=FIREWALL_FIELDS,
    differences=_DIFFERENCES,
)
def list_firewall_rules(call: Call) -> Reply:
    return _list(call, FIREWALL, firewall_rule_view)


# ---- port forwarding rules


@command(
    "createPortForwardingRule",
    kind=Kind.ASYNC_CREATE,
    description="Creates a port forwarding rule",
    response_name="portforwardingrule",
    params=(
        Param("ipaddressid", "uuid", True, "the IP address id of the port forwarding rule"),
        Param(
            "privateport",
            "integer",
            True,
            "the starting port of port forwarding rule's private port range",
        ),
        Param(
            "protocol",
            required=True,
            description="the protocol for the port forwarding rule. Valid values are TCP or UDP.",
        ),
        Param(
            "privateendport",
            "integer",
            description="the ending port of port forwarding rule's private port range",
        ),
        Param(
            "publicport",
            "integer",
            True,
            "the starting port of port forwarding rule's public port range",
        ),
        Param(
            "publicendport",
            "integer",
            description="the ending port of port forwarding rule's private port range",
        ),
        Param(
            "virtualmachineid",
            "uuid",
            True,
            "the ID of the virtual machine for the port forwarding rule",
        ),
        Param("cidrlist", "list", description="the source CIDR list to allow traffic from"),
        Param(
            "openfirewall",
            "boolean",
            description="if true, firewall rule for source/end public port is automatically "
            "created; if false - firewall rule has to be created explicitly.",
        ),
        Param("networkid", "uuid", description="the network of the virtual machine"),
        Param("vmguestip", description="VM guest nic secondary IP address"),
        Param("fordisplay", "boolean", description="an optional field, whether to the display"),
    ),
    response_fields=PORT_FORWARDING_FIELDS,
    entity="FirewallRule",
    job_command_class=_FIREWALL_COMMANDS + "CreatePortForwardingRuleCmd",
    differences=_DIFFERENCES + "openfirewall creates no companion firewall rule; vmguestip is "
    "ignored (the VM's primary address is the target).",
)
def create_port_forwarding_rule(call: Call) -> Reply:
    address = _address(call)
    vm = vms.get_vm(call.session, call.ctx, uuid=call.get("virtualmachineid"))
    rule, job = rules.create_port_forwarding_rule(
        call.session,
        call.ctx,
        address,
        vm,
        protocol=call.get("protocol"),
        public_port=call.get("publicport"),
        public_end_port=call.get("publicendport"),
        private_port=call.get("privateport"),
        private_end_port=call.get("privateendport"),
        cidr_list=_cidrs(call),
    )
    return started(job, rule)


@_delete_command("PortForwardingRule", "Deletes a port forwarding rule")
def delete_port_forwarding_rule(call: Call) -> Reply:
    return _delete(call, PORT_FORWARDING)


@command(
    "listPortForwardingRules",
    kind=Kind.LIST,
    description="Lists all port forwarding rules for an IP address.",
    response_name="portforwardingrule",
    params=_LIST_PARAMS,
    response_fields=PORT_FORWARDING_FIELDS,
    differences=_DIFFERENCES,
)
def list_port_forwarding_rules(call: Call) -> Reply:
    return _list(call, PORT_FORWARDING, port_forwarding_rule_view)


# ---- IP forwarding (static NAT) rules


@command(
    "createIpForwardingRule",
    kind=Kind.ASYNC_CREATE,
    description="Creates an IP forwarding rule",
    response_name="ipforwardingrule",
    params=(
        Param("ipaddressid", "uuid", True, "the public IP address ID of the forwarding rule"),
        Param("startport", "integer", True, "the start port for the rule"),
        Param(
            "protocol",
            required=True,
            description="the protocol for the rule. Valid values are TCP or UDP.",
        ),
        Param("endport", "integer", description="the end port for the rule"),
        Param(
            "openfirewall",
            "boolean",
            description="if true, firewall rule for source/end public port is automatically "
            "created; if false - firewall rule has to be created explicitly.",
        ),
        Param("cidrlist", "list", description="the CIDR list to forward traffic from"),
    ),
    response_fields=IP_FORWARDING_FIELDS,
    entity="FirewallRule",
    job_command_class=_NAT_COMMANDS + "CreateIpForwardingRuleCmd",
    differences=_DIFFERENCES + "openfirewall creates no companion firewall rule.",
)
def create_ip_forwarding_rule(call: Call) -> Reply:
    rule, job = rules.create_ip_forwarding_rule(
        call.session, call.ctx, _address(call), **_rule_args(call)
    )
    return started(job, rule)


@_delete_command(
    "IpForwardingRule",
    "Deletes an IP forwarding rule",
    _NAT_COMMANDS,
    id_param=Param("id", "uuid", True, "the ID of the forwarding rule"),
)
def delete_ip_forwarding_rule(call: Call) -> Reply:
    return _delete(call, STATIC_NAT)


@command(
    "listIpForwardingRules",
    kind=Kind.LIST,
    description="List the IP forwarding rules",
    response_name="ipforwardingrule",
    params=(
        Param("id", "uuid", description="Lists rule with the specified ID."),
        Param("ipaddressid", "uuid", description="list the rule belonging to this public IP"),
        Param("virtualmachineid", "uuid", description="Lists all rules applied to this VM."),
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=IP_FORWARDING_FIELDS,
    differences=_DIFFERENCES,
)
def list_ip_forwarding_rules(call: Call) -> Reply:
    return _list(call, STATIC_NAT, ip_forwarding_rule_view)


for _object, _package, _name, _view in (
    ("firewallrule", _FIREWALL_COMMANDS, "FirewallRule", firewall_rule_view),
    ("portforwardingrule", _FIREWALL_COMMANDS, "PortForwardingRule", port_forwarding_rule_view),
    ("ipforwardingrule", _NAT_COMMANDS, "IpForwardingRule", ip_forwarding_rule_view),
):
    JOB_RESULTS[f"{_object}.create"] = JobResult(
        _object, f"{_package}Create{_name}Cmd", NetworkRule, _view
    )
    JOB_RESULTS[f"{_object}.delete"] = JobResult(_object, f"{_package}Delete{_name}Cmd")
