"""CloudStack's wire format: envelopes, formats, signatures and error codes."""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import hmac
from urllib.parse import quote

import httpx
import xmltodict

import native_api.commands  # noqa: F401  (fills the command table)
from native_api.registry import COMMANDS
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


def test_default_format_is_xml_with_cloudstack_envelope(admin: NativeCaller) -> None:
    reply = admin.request("listZones", response="")
    assert reply.status_code == 200
    assert reply.headers["content-type"].startswith("text/xml")
    document = xmltodict.parse(reply.text)
    body = document["listzonesresponse"]
    assert "@cloud-stack-version" in body
    zones = body["zone"] if isinstance(body["zone"], list) else [body["zone"]]
    assert body["count"] == str(len(zones))  # other tests may have added zones
    assert "Sandbox-simulator" in [zone["name"] for zone in zones]


def test_json_list_has_count_first_and_empty_list_is_empty_object(admin: NativeCaller) -> None:
    reply = admin.request("listZones")
    assert reply.headers["content-type"].startswith("application/json")
    body = reply.json()["listzonesresponse"]
    assert next(iter(body)) == "count"
    assert admin.call("listVirtualMachines", name="no-such-vm") == {}


def test_dates_use_cloudstack_format(admin: NativeCaller) -> None:
    created = admin.call("listServiceOfferings")["serviceoffering"][0]["created"]
    dt.datetime.strptime(created, "%Y-%m-%dT%H:%M:%S%z")
    assert created.endswith("+0000")


def test_parameter_names_are_case_insensitive(admin: NativeCaller) -> None:
    offerings = admin.call("listServiceOfferings", Name="Medium Instance")
    assert [o["name"] for o in offerings["serviceoffering"]] == ["Medium Instance"]


def test_bad_signature_is_401(admin: NativeCaller) -> None:
    reply = admin.request("listZones", sign_with="wrong-secret")
    assert reply.status_code == 401
    assert reply.json()["listzonesresponse"]["errorcode"] == 401


def test_unknown_key_is_401(server: ServerProcess) -> None:
    stranger = NativeCaller(server.native_url, "no-such-key", "whatever")
    assert stranger.request("listZones").status_code == 401


def test_unknown_command_is_432(admin: NativeCaller) -> None:
    reply = admin.request("launchRockets")
    assert reply.status_code == 432
    body = reply.json()["launchrocketsresponse"]
    assert body["errorcode"] == 432 and body["cserrorcode"] == 9999


def test_missing_and_malformed_parameters_are_431(admin: NativeCaller) -> None:
    missing = admin.request("deployVirtualMachine", zoneid="5c8b1ab6-3c55-4a52-8bb4-000000000000")
    assert missing.status_code == 431
    assert "serviceofferingid" in missing.json()["deployvirtualmachineresponse"]["errortext"]
    malformed = admin.request("listVirtualMachines", id="12;drop table")
    assert malformed.status_code == 431
    assert malformed.json()["listvirtualmachinesresponse"]["cserrorcode"] == 4350


def test_errors_render_in_xml_too(admin: NativeCaller) -> None:
    reply = admin.request("listVirtualMachines", response="xml", id="bad")
    assert reply.status_code == 431
    body = xmltodict.parse(reply.text)["listvirtualmachinesresponse"]
    assert body["errorcode"] == "431" and "errortext" in body


def _signed_url(server: ServerProcess, params: dict[str, str], *, lower_keys: bool) -> str:
    """Signs like libcloud does: keys lowercased before sorting, values quoted with '*[]' safe."""
    pairs = sorted(((k.lower() if lower_keys else k), v) for k, v in params.items())
    message = "&".join(f"{k}={quote(v, safe='[]*')}" for k, v in pairs).lower()
    digest = hmac.new(server.secret_key.encode(), message.encode(), hashlib.sha1).digest()
    query = "&".join(f"{k}={quote(v, safe='')}" for k, v in params.items())
    return (
        f"{server.native_url}?{query}&signature={quote(base64.b64encode(digest).decode(), safe='')}"
    )


def test_libcloud_style_signature_is_accepted(server: ServerProcess) -> None:
    params = {
        "command": "listTemplates",
        "templateFilter": "featured",
        "apiKey": server.api_key,
        "response": "json",
    }
    reply = httpx.get(_signed_url(server, params, lower_keys=True))
    assert reply.status_code == 200, reply.text


def test_expired_signature_version_3_is_rejected(admin: NativeCaller) -> None:
    past = (dt.datetime.now(dt.UTC) - dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    reply = admin.request("listZones", signatureVersion="3", expires=past)
    assert reply.status_code == 401
    future = (dt.datetime.now(dt.UTC) + dt.timedelta(minutes=5)).strftime("%Y-%m-%dT%H:%M:%S+0000")
    assert admin.request("listZones", signatureVersion="3", expires=future).status_code == 200


def test_list_apis_describes_every_command(admin: NativeCaller) -> None:
    apis = {api["name"]: api for api in admin.call("listApis")["api"]}
    assert set(apis) == {command.name for command in COMMANDS.values()}
    deploy = apis["deployVirtualMachine"]
    assert deploy["isasync"] is True
    required = {p["name"] for p in deploy["params"] if p["required"]}
    assert required == {"serviceofferingid", "templateid", "zoneid"}
    assert all({"name", "type", "required", "description"} <= set(p) for p in deploy["params"])
    assert deploy["response"]


def test_async_job_result_fields(admin: NativeCaller, demo: dict[str, str]) -> None:
    started = admin.call("deployVirtualMachine", name="wire-job", **demo)
    assert set(started) == {"id", "jobid"}
    result = admin.wait_job(started["jobid"])
    for field in (
        "jobstatus",
        "jobresultcode",
        "jobresulttype",
        "jobresult",
        "jobinstancetype",
        "jobinstanceid",
        "cmd",
        "created",
        "completed",
        "userid",
        "accountid",
    ):
        assert field in result, field
    assert result["jobstatus"] == 1 and result["jobresultcode"] == 0
    assert result["cmd"] == "org.apache.cloudstack.api.command.user.vm.DeployVMCmd"
    assert result["jobinstanceid"] == started["id"]
    assert result["jobresult"]["virtualmachine"]["state"] == "Running"
    stop = admin.call("destroyVirtualMachine", id=started["id"], expunge=True)
    assert set(stop) == {"jobid"}
    admin.wait_job(stop["jobid"])


def test_failed_job_reports_error_code(
    admin: NativeCaller, demo: dict[str, str], server: ServerProcess
) -> None:
    server.simulator("configure", "--operation", "start", "--fail-next", "1")
    started = admin.call("deployVirtualMachine", name="wire-fail", **demo)
    result = admin.wait_job(started["jobid"])
    assert result["jobstatus"] == 2
    assert result["jobresultcode"] == 530
    assert result["jobresult"]["errorcode"] == 530 and "errortext" in result["jobresult"]
    vm = admin.call("listVirtualMachines", id=started["id"])["virtualmachine"][0]
    assert vm["state"] == "Error"
    admin.wait_job(admin.call("destroyVirtualMachine", id=started["id"], expunge=True)["jobid"])


def test_user_data_must_be_base64(admin: NativeCaller, demo: dict[str, str]) -> None:
    reply = admin.request("deployVirtualMachine", userdata="not base64!", **demo)
    assert reply.status_code == 431
    assert "BASE64" in reply.json()["deployvirtualmachineresponse"]["errortext"]
