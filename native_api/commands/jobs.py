"""Async jobs: poll one, list the caller's."""

from __future__ import annotations

import sqlalchemy as sa

from core.jobs import AsyncJob, get_job
from core.listing import paginate
from core.visibility import scope_filter
from native_api.call import Call
from native_api.registry import OWNER_SCOPE, PAGING, Field, Kind, Param, Reply, command
from native_api.views import job_view

JOB_FIELDS = (
    Field("jobid", description="the ID of the async job"),
    Field("jobstatus", "integer", "the current job status: 0 pending, 1 succeeded, 2 failed"),
    Field("jobresultcode", "integer", "the result code for the job"),
    Field("jobresulttype", description="the result type"),
    Field("jobresult", "responseobject", "the result reason"),
    Field("jobinstancetype", description="the instance/entity object related to the job"),
    Field("jobinstanceid", description="the unique ID of the instance/entity object"),
    Field("cmd", description="the async command executed"),
    Field("created", "date", "the created date of the job"),
    Field("completed", "date", "the completed date of the job"),
)


@command(
    "queryAsyncJobResult",
    kind=Kind.SYNC,
    description="Retrieves the current status of asynchronous job.",
    response_name="asyncjobs",
    params=(Param("jobid", "uuid", True, "the ID of the asynchronous job"),),
    response_fields=JOB_FIELDS,
    writes=False,
)
def query_async_job_result(call: Call) -> Reply:
    job = get_job(call.session, call.ctx, call.get("jobid"))
    return Reply(raw=job_view(call.session, job, call.ctx))


@command(
    "listAsyncJobs",
    kind=Kind.LIST,
    description="Lists all pending asynchronous jobs for the account.",
    response_name="asyncjobs",
    params=(
        Param("startdate", "date", description="The start date of the async job"),
        *PAGING,
        *OWNER_SCOPE,
    ),
    response_fields=JOB_FIELDS,
)
def list_async_jobs(call: Call) -> Reply:
    query = sa.select(AsyncJob).where(
        scope_filter(call.session, call.ctx, call.scope(), AsyncJob.account_id, AsyncJob.domain_id)
    )
    if call.get("startdate"):
        query = query.where(AsyncJob.created >= call.get("startdate"))
    rows, total = paginate(call.session, query.order_by(AsyncJob.id), call.page())
    return Reply(items=[job_view(call.session, job, call.ctx) for job in rows], total=total)
