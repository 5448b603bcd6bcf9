"""Global settings: listConfigurations, updateConfiguration."""

from __future__ import annotations

from typing import Any

from core import configuration
from core.configuration import Setting
from native_api.call import Call
from native_api.errors import PARAM_ERROR, ApiError
from native_api.registry import ADMIN_ONLY, PAGING, Field, Kind, Param, Reply, command

CONFIGURATION_FIELDS = (
    Field("name", description="the name of the configuration"),
    Field("value", description="the value of the configuration"),
    Field("defaultvalue", description="the default value of the configuration"),
    Field("category", description="the category of the configuration"),
    Field("description", description="the description of the configuration"),
    Field("scope", description="scope (zone/cluster/pool/account) of the parameter"),
    Field("isdynamic", "boolean", "true if the configuration is dynamic"),
    Field("type", description="the type of the configuration value"),
    Field("component", description="the component of the configuration"),
)
SCOPE_PARAMS = (
    Param("zoneid", "uuid", description="the ID of the Zone to update the parameter value for"),
    Param("clusterid", "uuid", description="the ID of the Cluster to update the parameter for"),
    Param("storageid", "uuid", description="the ID of the Storage pool to update the parameter"),
    Param("accountid", "uuid", description="the ID of the Account to update the parameter for"),
    Param("domainid", "uuid", description="the ID of the Domain to update the parameter for"),
)


def configuration_view(setting: Setting, value: str) -> dict[str, Any]:
    return {
        "category": setting.category,
        "name": setting.name,
        "value": value,
        "defaultvalue": setting.default,
        "description": setting.description,
        "isdynamic": setting.dynamic,
        "scope": setting.scope.lower() if setting.scope != "Global" else None,
        "type": setting.type_name,
        "component": setting.component,
        "group": setting.category,
        "subgroup": "Others",
        "displaytext": setting.name,
    }


def _refuse_scoped(call: Call) -> None:
    for param in SCOPE_PARAMS:
        if call.get(param.name):
            raise ApiError(
                PARAM_ERROR,
                f"Scoped values ({param.name}) are not supported; only global values are",
                4350,
            )


@command(
    "listConfigurations",
    kind=Kind.LIST,
    description="Lists all configurations.",
    response_name="configuration",
    params=(
        Param("name", description="lists configuration by name"),
        Param("category", description="lists configurations by category"),
        *SCOPE_PARAMS,
        *PAGING,
    ),
    response_fields=CONFIGURATION_FIELDS,
    roles=ADMIN_ONLY,
    differences="Only global values: zoneid/clusterid/storageid/accountid/domainid answer 431.",
)
def list_configurations(call: Call) -> Reply:
    _refuse_scoped(call)
    found = configuration.list_settings(
        call.session,
        name=call.get("name"),
        category=call.get("category"),
        keyword=call.get("keyword"),
    )
    return call.paged([configuration_view(setting, value) for setting, value in found])


@command(
    "updateConfiguration",
    kind=Kind.SYNC,
    description="Updates a configuration.",
    response_name="configuration",
    params=(
        Param("name", required=True, description="the name of the configuration"),
        Param("value", description="the value of the configuration", length=4096),
        *SCOPE_PARAMS,
    ),
    response_fields=CONFIGURATION_FIELDS,
    roles=ADMIN_ONLY,
    differences="Only global values: zoneid/clusterid/storageid/accountid/domainid answer 431.",
)
def update_configuration(call: Call) -> Reply:
    _refuse_scoped(call)
    name = call.get("name")
    setting = configuration.SETTINGS.get(name)
    value = call.get("value")
    if value is None:  # CloudStack resets to the default when no value is given
        value = setting.default if setting else ""
    setting = configuration.update_setting(call.session, call.ctx, name, value)
    return Reply(
        obj=configuration_view(setting, configuration.get_setting(call.session, setting.name))
    )
