"""How a core VM looks as an EC2 instance, and how its state reads in EC2's terms.

State map (VM state → EC2 state):
    Starting → pending (0)          Running, Migrating → running (16)
    Stopping → stopping (64)        Stopped, Shutdown, Unknown → stopped (80)
    Destroyed, Expunging, Expunged → terminated (48)
    any of Starting/Running/Stopping/Stopped/Destroyed/Expunging while a terminate
    (destroy job) is queued or running
        → shutting-down (32)
    Error → terminated (48), StateReason Server.InternalError: the core's Error is a VM whose
        first start failed, which on AWS is an instance that went pending → terminated.
A reservation is the VMs one request launched (the VM's `launch_group`); its id is the
encoded id of the group's first VM, expunged or not, so it never changes.

An instance shows the core's tags (`UserVm`), security groups and disks: the root disk as
the root device, data disks as `/dev/sdX` by their device id, exactly as DescribeVolumes
shows their attachments (volume_views); its subnet, network interface and Elastic IP
(instance_interfaces); the metadata and hibernation options (instance_options).
"""

from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa

from core.infra import Zone
from core.jobs import IN_PROGRESS, AsyncJob
from core.offerings import ServiceOffering
from core.security_groups import SecurityGroup, SecurityGroupVm
from core.vms import service as vms
from core.vms.models import VirtualMachine
from core.vms.states import VmState
from core.volumes import Volume
from ec2_api import tagging
from ec2_api.actions.instance_interfaces import InterfaceViews
from ec2_api.actions.instance_options import option_fields
from ec2_api.actions.volume_views import VolumeRenderer
from ec2_api.call import Call
from translators.hostnames import private_dns_name
from translators.ids import IMAGE, INSTANCE, RESERVATION, SECURITY_GROUP
from translators.instance_types import InstanceTypeCatalogue, load_catalogue
from translators.volumes import ROOT_DEVICE_NAME as ROOT_DEVICE

PENDING = {"Code": 0, "Name": "pending"}
RUNNING = {"Code": 16, "Name": "running"}
SHUTTING_DOWN = {"Code": 32, "Name": "shutting-down"}
TERMINATED = {"Code": 48, "Name": "terminated"}
STOPPING = {"Code": 64, "Name": "stopping"}
STOPPED = {"Code": 80, "Name": "stopped"}

S = VmState
STATES: dict[str, dict[str, Any]] = {
    S.STARTING: PENDING,
    S.RUNNING: RUNNING,
    S.MIGRATING: RUNNING,
    S.STOPPING: STOPPING,
    S.STOPPED: STOPPED,
    S.SHUTDOWN: STOPPED,
    S.UNKNOWN: STOPPED,
    S.DESTROYED: TERMINATED,
    S.EXPUNGING: TERMINATED,
    S.EXPUNGED: TERMINATED,
    S.ERROR: TERMINATED,
}
TERMINATING_STATES = frozenset(
    {S.STARTING, S.RUNNING, S.STOPPING, S.STOPPED, S.DESTROYED, S.EXPUNGING}
)
GONE = frozenset({S.EXPUNGING, S.EXPUNGED})


class InstanceRenderer:
    """Turns VMs into EC2 instances, with the per-request lookups that needs done in bulk."""

    def __init__(self, call: Call) -> None:
        self.call = call
        self._catalogue: InstanceTypeCatalogue | None = None
        self._zones: dict[int, Zone] = {}
        self._offerings: dict[int, ServiceOffering] = {}
        self._terminating: set[int] = set()
        self._first_of_group: dict[str, int] = {}
        self._tags: dict[int, list[dict[str, str]]] = {}
        self._groups: dict[int, list[dict[str, str]]] = {}
        self._disks: dict[int, list[dict[str, Any]]] = {}
        self._interfaces = InterfaceViews(call, [])
        self._options = option_fields(call)

    def prepare(self, rows: list[VirtualMachine]) -> InstanceRenderer:
        """Load, a query each, which VMs are being terminated, each reservation's id, and the
        VMs' tags, security groups, disks, NICs and Elastic IPs."""
        session = self.call.session
        self.prepare_preview(rows)
        groups = {vm.launch_group for vm in rows}
        # The group's first VM, expunged or not, so a reservation id never changes.
        self._first_of_group = dict(
            session.execute(
                sa.select(VirtualMachine.launch_group, sa.func.min(VirtualMachine.id))
                .where(VirtualMachine.launch_group.in_(groups))
                .group_by(VirtualMachine.launch_group)
            ).all()
        )
        ids = [vm.id for vm in rows]
        self._groups = self._load_groups(ids)
        self._disks = self._load_disks(ids)
        self._interfaces = InterfaceViews(self.call, rows)
        return self

    def prepare_preview(self, rows: list[VirtualMachine]) -> InstanceRenderer:
        """Load what `preview` needs: which VMs are being terminated, and their tags."""
        session, ids = self.call.session, [vm.id for vm in rows]
        self._terminating = set(
            session.scalars(
                sa.select(AsyncJob.instance_id).where(
                    AsyncJob.instance_type == vms.INSTANCE_TYPE,
                    AsyncJob.kind == "vm.destroy",
                    AsyncJob.status == IN_PROGRESS,
                    AsyncJob.instance_id.in_(ids),
                )
            )
        )
        self._tags = tagging.tags_by_id(self.call, "instance", ids)
        return self

    def _load_groups(self, vm_ids: list[int]) -> dict[int, list[dict[str, str]]]:
        found: dict[int, list[dict[str, str]]] = {}
        rows = self.call.session.execute(
            sa.select(SecurityGroupVm.vm_id, SecurityGroup.id, SecurityGroup.name)
            .join(SecurityGroup, SecurityGroup.id == SecurityGroupVm.security_group_id)
            .where(SecurityGroupVm.vm_id.in_(vm_ids))
            .order_by(SecurityGroup.id)
        )
        for vm_id, group_id, name in rows:
            group_ec2_id = self.call.ids.encode(SECURITY_GROUP, group_id)
            found.setdefault(vm_id, []).append({"GroupId": group_ec2_id, "GroupName": name})
        return found

    def _load_disks(self, vm_ids: list[int]) -> dict[int, list[dict[str, Any]]]:
        """Each VM's disks as block-device mappings: their attachments as DescribeVolumes
        shows them (volume_views), so both say the same."""
        volumes = list(
            self.call.session.scalars(
                sa.select(Volume)
                .where(Volume.vm_id.in_(vm_ids), Volume.removed.is_(None))
                .order_by(Volume.device_id, Volume.id)
            )
        )
        renderer = VolumeRenderer(self.call).prepare(volumes)
        found: dict[int, list[dict[str, Any]]] = {}
        for volume in volumes:
            assert volume.vm_id is not None
            for attachment in renderer.attachments(volume):
                ebs = {
                    "AttachTime": attachment.get("AttachTime") or volume.created,
                    "DeleteOnTermination": attachment["DeleteOnTermination"],
                    "Status": attachment["State"],
                    "VolumeId": attachment["VolumeId"],
                }
                found.setdefault(volume.vm_id, []).append(
                    {"DeviceName": attachment["Device"], "Ebs": ebs}
                )
        return found

    def tags(self, vm: VirtualMachine) -> list[dict[str, str]]:
        return self._tags.get(vm.id, [])

    def state(self, vm: VirtualMachine) -> dict[str, Any]:
        if vm.id in self._terminating and vm.state in TERMINATING_STATES:
            return SHUTTING_DOWN
        return STATES.get(vm.state, STOPPED)

    def reservation_id(self, vm: VirtualMachine) -> str:
        first = self._first_of_group.get(vm.launch_group, vm.id)
        return self.call.ids.encode(RESERVATION, first)

    def instance_id(self, vm: VirtualMachine) -> str:
        return self.call.ids.encode(INSTANCE, vm.id)

    def zone(self, zone_id: int) -> Zone:
        if zone_id not in self._zones:
            self._zones[zone_id] = self.call.session.get_one(Zone, zone_id)
        return self._zones[zone_id]

    def instance_type(self, vm: VirtualMachine) -> str:
        if self._catalogue is None:
            self._catalogue = load_catalogue(self.call.session)
        if vm.service_offering_id not in self._offerings:
            offering = self.call.session.get_one(ServiceOffering, vm.service_offering_id)
            self._offerings[vm.service_offering_id] = offering
        return self._catalogue.name_for(self._offerings[vm.service_offering_id])

    def preview(self, vm: VirtualMachine) -> dict[str, Any]:
        """The fields of `instance` that are cheap to read (no disks, groups or NICs), in
        its shape, so that filters on them read a preview exactly as the full instance."""
        return {
            "InstanceId": self.instance_id(vm),
            "State": self.state(vm),
            "InstanceType": self.instance_type(vm),
            "Tags": self.tags(vm),
        }

    def instance(self, vm: VirtualMachine) -> dict[str, Any]:
        """DescribeInstances' Instance for one VM."""
        ids, state = self.call.ids, self.state(vm)
        view: dict[str, Any] = {
            "InstanceId": self.instance_id(vm),
            "ImageId": ids.encode(IMAGE, vm.template_id),
            "State": state,
            "PrivateDnsName": "",
            "PublicDnsName": "",
            "StateTransitionReason": "",
            "AmiLaunchIndex": vm.launch_index,
            "ProductCodes": [],
            "InstanceType": self.instance_type(vm),
            "LaunchTime": vm.created,
            "Placement": {
                "AvailabilityZone": self.zone(vm.zone_id).name,
                "GroupName": "",
                "Tenancy": "default",
            },
            "Monitoring": {"State": "disabled"},
            "Architecture": "x86_64",
            "RootDeviceType": "ebs",
            "RootDeviceName": ROOT_DEVICE,
            "BlockDeviceMappings": [] if state is TERMINATED else self._disks.get(vm.id, []),
            "VirtualizationType": "hvm",
            "Hypervisor": "xen",
            "ClientToken": vm.launch_token or "",
            "SecurityGroups": self._groups.get(vm.id, []),
            "NetworkInterfaces": [],
            "SourceDestCheck": True,
            "EbsOptimized": False,
            "EnaSupport": False,
            "Tags": self.tags(vm),
            "CpuOptions": {"CoreCount": vm.cpu_number, "ThreadsPerCore": 1},
            "PlatformDetails": "Linux/UNIX",
            "UsageOperation": "RunInstances",
        }
        if vm.keypair:
            view["KeyName"] = vm.keypair.split(",")[0]  # CloudStack allows several
        if state is not TERMINATED and vm.private_ip:
            # A terminated instance has given its address back, as on AWS.
            view["PrivateIpAddress"] = vm.private_ip
            view["PrivateDnsName"] = private_dns_name(self.call.region, vm.private_ip)
        _add_state_reason(view, vm, state)
        view.update(copy.deepcopy(self._options))
        self._interfaces.add(vm, view)
        return view

    def reservation(self, group: list[VirtualMachine]) -> dict[str, Any]:
        return {
            "ReservationId": self.reservation_id(group[0]),
            "OwnerId": self.call.ids.account_number(group[0].account_id),
            "Groups": [],
            "Instances": [self.instance(vm) for vm in group],
        }


def _add_state_reason(view: dict[str, Any], vm: VirtualMachine, state: dict[str, Any]) -> None:
    if vm.state == S.ERROR:
        view["StateReason"] = {
            "Code": "Server.InternalError",
            "Message": "Server.InternalError: Internal error on launch",
        }
    elif state in (STOPPED, TERMINATED, STOPPING, SHUTTING_DOWN):
        view["StateReason"] = {
            "Code": "Client.UserInitiatedShutdown",
            "Message": "Client.UserInitiatedShutdown: User initiated shutdown",
        }
        if vm.state_changed is not None and state in (STOPPED, TERMINATED):
            when = vm.state_changed.strftime("%Y-%m-%d %H:%M:%S")
            view["StateTransitionReason"] = f"User initiated ({when} GMT)"
