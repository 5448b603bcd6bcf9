"""configureSimulator: drive the simulator's behaviour (latency, failures) through the API."""

from __future__ import annotations

from typing import Any

from core import infra
from core.errors import InvalidParameter
from core.visibility import ensure_root_admin
from native_api.call import Call
from native_api.registry import ADMIN_ONLY, Field, Kind, Param, Reply, command

# CloudStack's agent command names → the simulator operations they correspond to.
AGENT_COMMANDS = {
    "startcommand": "start",
    "stopcommand": "stop",
    "rebootcommand": "reboot",
    "destroycommand": "destroy",
    "migratecommand": "migrate",
    "prepareformigrationcommand": "migrate",
    "createcommand": "create_volume",
    "attachcommand": "attach_volume",
    "dettachcommand": "detach_volume",
    "resizevolumecommand": "resize_volume",
    "createvmsnapshotcommand": "vmsnapshot",
    "revertovmsnapshotcommand": "vmsnapshot.revert",
    "deletevmsnapshotcommand": "vmsnapshot.delete",
    "scalevmcommand": "scale",
}


def _options(value: str) -> dict[str, str]:
    """`wait:1000;result:fail` (CloudStack's form); `=` is accepted too."""
    options: dict[str, str] = {}
    for item in filter(None, (part.strip() for part in value.split(";"))):
        key, sep, val = item.replace("=", ":", 1).partition(":")
        if not sep:
            raise InvalidParameter(f"Invalid simulator option {item}", parameter="value")
        options[key.strip().lower()] = val.strip()
    return options


@command(
    "configureSimulator",
    kind=Kind.SYNC,
    description="configure simulator",
    response_name="simulatormock",
    roles=ADMIN_ONLY,
    params=(
        Param("name", required=True, description="which command needs to be configured"),
        Param(
            "value",
            required=True,
            description="configuration options for this command, which is separated by ;",
        ),
        Param("zoneid", "uuid", description="configure range: in a zone"),
        Param("podid", "uuid", description="configure range: in a pod"),
        Param("clusterid", "uuid", description="configure range: in a cluster"),
        Param("hostid", "uuid", description="configure range: in a host"),
        Param("count", "integer", description="number of times the mock is active"),
        Param("jsonresponse", description="agent command response to be returned", length=4096),
    ),
    response_fields=(
        Field("id", "long", "the mock ID"),
        Field("zoneid", "long", "the Zone ID scope of the mock"),
        Field("podid", "long", "the Pod ID scope of the mock"),
        Field("clusterid", "long", "the Cluster ID scope of the mock"),
        Field("hostid", "long", "the Host ID scope of the mock"),
        Field("name", description="the agent command to be mocked"),
        Field(
            "count",
            "integer",
            "number of times mock is executed, if not specified then mock "
            "remains active till cleaned up",
        ),
    ),
    differences="name is an agent command (StartCommand, StopCommand, RebootCommand, "
    "DestroyCommand, MigrateCommand, ...) or a simulator operation (start, stop, migrate, ...); "
    "value takes wait:<ms> and result:fail|success (anything else is refused); the mock is "
    "global — zoneid/podid/clusterid/hostid are checked but do not narrow it; count bounds "
    "result:fail to that many calls (without count the failure stays until result:success); "
    "jsonresponse is not supported. A new configuration replaces the previous one of that "
    "operation.",
)
def configure_simulator(call: Call) -> Reply:
    ensure_root_admin(call.ctx)
    for name, getter in (
        ("zoneid", infra.zone_by_uuid),
        ("podid", infra.get_pod),
        ("clusterid", infra.get_cluster),
        ("hostid", infra.get_host),
    ):
        if call.get(name):
            getter(call.session, call.get(name))
    if call.get("jsonresponse"):
        raise InvalidParameter("jsonresponse is not supported", parameter="jsonresponse")
    driver: Any = call.runtime.hypervisor("Simulator")
    if not hasattr(driver, "configure"):
        raise InvalidParameter("The Simulator hypervisor is not in use", parameter="name")
    operations = list(driver.operations)
    requested = call.get("name").strip()
    operation = AGENT_COMMANDS.get(requested.lower(), requested.lower())
    if operation not in operations:
        raise InvalidParameter(f"Unknown simulator command {requested}", parameter="name")
    options = _options(call.get("value"))
    unknown = set(options) - {"wait", "result"}
    if unknown:
        raise InvalidParameter(f"Unsupported options {sorted(unknown)}", parameter="value")
    try:
        latency = int(options.get("wait", "0"))
    except ValueError:
        raise InvalidParameter("wait must be a number of milliseconds", parameter="value") from None
    result = options.get("result", "success").lower()
    if result not in ("success", "fail"):
        raise InvalidParameter("result must be fail or success", parameter="value")
    count = call.get("count")
    failing = result == "fail"
    driver.configure(
        operation,
        latency_ms=latency,
        fail_next=(count or 0) if failing else 0,
        fail_always=failing and not count,
    )
    return Reply(
        obj={
            "id": operations.index(operation) + 1,
            "zoneid": None,
            "podid": None,
            "clusterid": None,
            "hostid": None,
            "name": requested,
            "count": count,
        }
    )
