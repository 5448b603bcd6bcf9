"""listConfigurations / updateConfiguration and listCapabilities over real HTTP."""

from __future__ import annotations

from cs import CloudStack

from core.db import Database
from core.installation import EC2_ID_KEY, InstallationSecret
from tests.support.native import NativeCaller
from tests.support.server import ServerProcess


def test_list_and_update(server: ServerProcess, admin: NativeCaller, tenant: NativeCaller) -> None:
    client = CloudStack(endpoint=server.native_url, key=server.api_key, secret=server.secret_key)
    listed = client.listConfigurations(name="expunge.delay")["configuration"]
    setting = next(c for c in listed if c["name"] == "expunge.delay")
    assert setting["value"] == "86400" and setting["defaultvalue"] == "86400"
    assert setting["type"] == "Integer" and setting["isdynamic"] is True
    assert {"category", "description", "component"} <= set(setting)

    updated = client.updateConfiguration(name="allow.user.expunge.recover.vm", value="true")
    assert updated["configuration"]["value"] == "true"
    assert updated["configuration"]["scope"] == "account"
    assert admin.call("listCapabilities")["capability"]["allowuserexpungerecovervm"] is True
    assert tenant.call("listCapabilities")["capability"]["allowuserexpungerecovervm"] is True
    client.updateConfiguration(name="allow.user.expunge.recover.vm", value="false")
    assert tenant.call("listCapabilities")["capability"]["allowuserexpungerecovervm"] is False

    assert admin.request("updateConfiguration", name="no.such", value="1").status_code == 431
    bad = admin.request("updateConfiguration", name="expunge.delay", value="soon")
    assert bad.status_code == 431
    assert admin.request("listConfigurations", zoneid=_zone(admin)).status_code == 431
    assert tenant.request("listConfigurations").status_code == 432
    assert tenant.request("updateConfiguration", name="expunge.delay", value="1").status_code == 432
    usage = client.listConfigurations(category="Usage")["configuration"]
    assert "usage.stats.job.aggregation.range" in {c["name"] for c in usage}


def test_capabilities(tenant: NativeCaller) -> None:
    capability = tenant.call("listCapabilities")["capability"]
    assert capability["cloudstackversion"].startswith("4.")
    assert capability["securitygroupsenabled"] is False
    assert capability["customdiskofferingmaxsize"] == 1024
    assert capability["apilimitmax"] == 25 and capability["apilimitinterval"] == 1
    for field in (
        "userpublictemplateenabled", "supportELB", "projectinviterequired",
        "allowusercreateprojects", "customdiskofferingminsize", "kvmsnapshotenabled",
        "allowuserviewdestroyedvm", "dynamicrolesenabled",
    ):  # fmt: skip
        assert field in capability


def _zone(admin: NativeCaller) -> str:
    return admin.call("listZones")["zone"][0]["id"]


def test_the_installation_secret_is_never_listed(
    server: ServerProcess, admin: NativeCaller
) -> None:
    database = Database(f"sqlite:///{server.data_dir / 'cloudgate.db'}")
    try:
        with database.read() as session:
            secret = session.get_one(InstallationSecret, EC2_ID_KEY).value
    finally:
        database.dispose()
    for asked in ({}, {"name": EC2_ID_KEY}, {"keyword": "key"}, {"pagesize": 500, "page": 1}):
        answer = admin.request("listConfigurations", **asked)
        assert answer.status_code == 200 and secret not in answer.text
        assert EC2_ID_KEY not in answer.text
    assert admin.request("updateConfiguration", name=EC2_ID_KEY, value="00").status_code == 431
