"""listCapabilities: what this cloud offers, as CloudStack's CapabilitiesResponse."""

from __future__ import annotations

from core import configuration as config
from core.context import Role
from native_api.call import Call
from native_api.registry import Field, Kind, Reply, command
from native_api.render import CLOUDSTACK_VERSION


@command(
    "listCapabilities",
    kind=Kind.SYNC,
    description="Lists capabilities",
    response_name="capability",
    response_fields=(
        Field("cloudstackversion", description="version of the cloud stack"),
        Field("securitygroupsenabled", "boolean", "true if security groups support is enabled"),
        Field(
            "userpublictemplateenabled",
            "boolean",
            "true if user and domain admins can set templates to be shared",
        ),
        Field("supportELB", description="true if region supports elastic load balancer"),
        Field("projectinviterequired", "boolean", "If invitation confirmation is required"),
        Field(
            "allowusercreateprojects",
            "boolean",
            "true if regular user is allowed to create projects",
        ),
        Field(
            "customdiskofferingminsize",
            "long",
            "minimum size that can be specified when "
            "create disk from disk offering with custom size",
        ),
        Field("customdiskofferingmaxsize", "long", "maximum size that can be specified"),
        Field("kvmsnapshotenabled", "boolean", "true if snapshot is supported for KVM host"),
        Field("apilimitinterval", "integer", "time interval (in seconds) to reset api count"),
        Field("apilimitmax", "integer", "Max allowed number of api requests within the interval"),
        Field("allowuserviewdestroyedvm", "boolean", "true if the user can view destroyed vms"),
        Field("allowuserexpungerecovervm", "boolean", "true if the user can expunge/recover vms"),
        Field(
            "dynamicrolesenabled", "boolean", "true if dynamic role-based api checker is enabled"
        ),
    ),
    writes=False,
)
def list_capabilities(call: Call) -> Reply:
    session = call.session
    admin = call.ctx.role is Role.ADMIN
    return Reply(
        obj={
            "securitygroupsenabled": False,
            "dynamicrolesenabled": config.get_bool(session, "dynamic.apichecker.enabled"),
            "cloudstackversion": CLOUDSTACK_VERSION,
            "userpublictemplateenabled": config.get_bool(session, "allow.public.user.templates"),
            "supportELB": "false",
            "projectinviterequired": config.get_bool(session, "project.invite.required"),
            "allowusercreateprojects": config.get_bool(session, "allow.user.create.projects"),
            "customdiskofferingminsize": config.get_int(session, "custom.diskoffering.size.min"),
            "customdiskofferingmaxsize": config.get_int(session, "custom.diskoffering.size.max"),
            "kvmsnapshotenabled": config.get_bool(session, "kvm.snapshot.enabled"),
            "apilimitinterval": config.get_int(session, "api.throttling.interval"),
            "apilimitmax": config.get_int(session, "api.throttling.max"),
            "allowuserviewdestroyedvm": admin
            or config.get_bool(session, "allow.user.view.destroyed.vm"),
            "allowuserexpungerecovervm": admin
            or config.get_bool(session, "allow.user.expunge.recover.vm"),
            "allowuserviewalldomainaccounts": False,
            "kubernetesserviceenabled": False,
            "kubernetesclusterexperimentalfeaturesenabled": False,
            "defaultuipagesize": 20,
            "instancesstatsretentiontime": 720,
            "instancesstatsuseronly": False,
            "instancesdisksstatsretentionenabled": False,
            "instancesdisksstatsretentiontime": 720,
            "sharedfsvmminramsize": 1024,
            "sharedfsvmmincpucount": 2,
        }
    )
