"""Usage: listUsageRecords, generateUsageRecords, listUsageTypes, removeRawUsageRecords."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy.orm import Session

from core import usage as core_usage
from core.context import Role
from core.identity import Account, Domain
from core.infra import Zone
from core.usage import UsageRecord
from core.visibility import ListScope
from native_api.call import Call
from native_api.registry import ADMIN_ONLY, OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command

ADMINS = frozenset({Role.ADMIN, Role.DOMAIN_ADMIN})
USAGE_FIELDS = (
    Field("account", description="the user account name"),
    Field("accountid", description="the user account Id"),
    Field("domainid", description="the domain ID"),
    Field("domain", description="the domain the resource is associated with"),
    Field("zoneid", description="the zone ID"),
    Field("description", description="description of the usage record"),
    Field("usage", description="usage in hours"),
    Field("usagetype", "integer", "usage type ID"),
    Field("rawusage", description="raw usage in hours"),
    Field("virtualmachineid", description="virtual machine ID"),
    Field("name", description="resource or virtual machine name"),
    Field("offeringid", description="offering ID"),
    Field("templateid", description="template ID"),
    Field("usageid", description="id of the resource"),
    Field("type", description="resource type"),
    Field("size", "long", "resource size"),
    Field("startdate", "date", "start date of the usage record"),
    Field("enddate", "date", "end date of the usage record"),
)


def _usage_date(value: dt.datetime) -> str:
    # CloudStack's usage responses use the "yyyy-MM-dd'T'HH:mm:ssZ" format as other dates.
    return value.astimezone(dt.UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def usage_view(session: Session, record: UsageRecord) -> dict[str, Any]:
    account = session.get_one(Account, record.account_id)
    domain = session.get_one(Domain, record.domain_id)
    zone = session.get(Zone, record.zone_id) if record.zone_id else None
    hours = record.raw_usage
    return {
        "account": account.name,
        "accountid": account.uuid,
        "domainid": domain.uuid,
        "domain": domain.name,
        "zoneid": zone.uuid if zone else None,
        "description": record.description,
        "usage": f"{hours:.6f} Hrs",
        "usagetype": record.usage_type,
        "rawusage": f"{hours:.6f}",
        "virtualmachineid": record.vm_uuid,
        "name": record.vm_name,
        "offeringid": record.offering_uuid,
        "templateid": record.template_uuid,
        "usageid": record.usage_id,
        "type": "Simulator" if record.vm_uuid else None,
        "size": record.size,
        "startdate": _usage_date(record.start_date),
        "enddate": _usage_date(record.end_date),
    }


def _end_of_day(moment: dt.datetime) -> dt.datetime:
    """A date-only enddate means the whole day, as in CloudStack."""
    if moment.time() == dt.time(0, 0):
        return moment + dt.timedelta(days=1)
    return moment


@command(
    "listUsageRecords",
    kind=Kind.LIST,
    description="Lists usage records for accounts",
    response_name="usagerecord",
    params=(
        Param(
            "startdate",
            "date",
            True,
            "Start date range for usage record query "
            '(use format "yyyy-MM-dd" or the new format "yyyy-MM-dd HH:mm:ss")',
        ),
        Param("enddate", "date", True, "End date range for usage record query"),
        Param("type", "long", description="List usage records for the specified usage type"),
        Param("usageid", description="List usage records for the specified usage UUID"),
        Param("accountid", "uuid", description="List usage records for the specified account"),
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=USAGE_FIELDS,
    roles=ADMINS,
)
def list_usage_records(call: Call) -> Reply:
    session = call.session
    scope = call.scope()
    if call.get("accountid"):
        from core.db import get_live

        account = get_live(session, Account, "account", uuid=call.get("accountid"))
        scope = ListScope(domain_id=account.domain_id, account_name=account.name)
    elif scope.account_name is None:  # no account named: every account the caller may see
        scope = ListScope(list_all=True, recursive=True, domain_id=scope.domain_id)
    rows, total = core_usage.list_usage_records(
        session,
        call.ctx,
        scope,
        start=call.get("startdate"),
        end=_end_of_day(call.get("enddate")),
        usage_type=call.get("type"),
        usage_id=call.get("usageid"),
        page=call.page(),
    )
    return Reply(items=[usage_view(session, record) for record in rows], total=total)


@command(
    "generateUsageRecords",
    kind=Kind.SYNC,
    description="Generates usage records. This will generate records only if there any records "
    "to be generated, i.e if the scheduled usage job was not run or failed",
    response_name="success",
    params=(
        Param("startdate", "date", description="Start date range for usage record query"),
        Param("enddate", "date", description="End date range for usage record query"),
        Param("domainid", "uuid", description="List events for the specified domain."),
    ),
    roles=ADMIN_ONLY,
    differences="Runs the usage job now over the windows overlapping [startdate, enddate) "
    "(default: the last aggregation window up to now), instead of signalling the usage server.",
)
def generate_usage_records(call: Call) -> Reply:
    from core.db import utcnow

    end = call.get("enddate")
    end = _end_of_day(end) if end is not None else utcnow()
    start = call.get("startdate") or end - core_usage.aggregation_range(call.session)
    core_usage.generate_usage_records(call.session, call.ctx, start, end)
    return Reply(success=True)


@command(
    "listUsageTypes",
    kind=Kind.LIST,
    description="List Usage Types",
    response_name="usagetype",
    response_fields=(
        Field("usagetypeid", "integer", "usage type"),
        Field("description", description="description of usage type"),
        Field("name", description="name of usage type"),
    ),
    roles=ADMINS,
)
def list_usage_types(call: Call) -> Reply:
    views = [
        {"usagetypeid": number, "description": description, "name": name}
        for number, (name, description) in core_usage.USAGE_TYPES.items()
    ]
    return Reply(items=views, total=len(views))


@command(
    "removeRawUsageRecords",
    kind=Kind.SYNC,
    description="Safely removes raw records from cloud_usage table",
    response_name="success",
    params=(
        Param(
            "interval",
            "integer",
            True,
            "Specify the number of days (greater than zero) to "
            "remove records that are older than those number of days from today.",
        ),
    ),
    roles=ADMIN_ONLY,
)
def remove_raw_usage_records(call: Call) -> Reply:
    core_usage.remove_raw_usage_records(call.session, call.ctx, call.get("interval"))
    return Reply(success=True)
