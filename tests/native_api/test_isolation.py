"""A tenant never sees or touches another tenant's VM through the CloudStack API."""

from __future__ import annotations

from tests.support.native import NativeCaller


def test_second_tenant_cannot_see_or_touch_admin_vm(
    admin: NativeCaller, tenant: NativeCaller, demo: dict[str, str]
) -> None:
    started = admin.call("deployVirtualMachine", name="private-vm", **demo)
    admin.wait_job(started["jobid"])
    vm_id = started["id"]

    assert tenant.call("listVirtualMachines") == {}
    assert tenant.call("listVirtualMachines", listall=True) == {}
    assert tenant.call("listVirtualMachines", id=vm_id) == {}
    for command in (
        "stopVirtualMachine",
        "rebootVirtualMachine",
        "destroyVirtualMachine",
        "startVirtualMachine",
    ):
        reply = tenant.request(command, id=vm_id)
        assert reply.status_code == 431, (command, reply.text)
    assert tenant.request("queryAsyncJobResult", jobid=started["jobid"]).status_code == 431
    assert tenant.call("listAsyncJobs") == {}

    vm = admin.call("listVirtualMachines", id=vm_id)["virtualmachine"][0]
    assert vm["state"] == "Running"
    admin.wait_job(admin.call("destroyVirtualMachine", id=vm_id, expunge=True)["jobid"])


def test_tenant_deploys_its_own_and_admin_lists_all(
    admin: NativeCaller, tenant: NativeCaller, demo: dict[str, str]
) -> None:
    started = tenant.call("deployVirtualMachine", name="tenant-vm", **demo)
    tenant.wait_job(started["jobid"])
    mine = tenant.call("listVirtualMachines")["virtualmachine"]
    assert [vm["name"] for vm in mine] == ["tenant-vm"]
    assert "hostid" not in mine[0] and "instancename" not in mine[0]
    assert all(
        vm["name"] != "tenant-vm"
        for vm in admin.call("listVirtualMachines").get("virtualmachine", [])
    )
    everything = admin.call("listVirtualMachines", listall=True)["virtualmachine"]
    assert "tenant-vm" in [vm["name"] for vm in everything]
    admin.wait_job(admin.call("destroyVirtualMachine", id=started["id"], expunge=True)["jobid"])


def test_admin_deploys_on_behalf_of_an_account_and_a_user_cannot(
    admin: NativeCaller, tenant: NativeCaller, demo: dict[str, str]
) -> None:
    tenant_account = "tenant-a"
    domain_id = admin.call("listTemplates", templatefilter="featured")["template"][0]["domainid"]
    started = admin.call(
        "deployVirtualMachine",
        name="for-tenant",
        account=tenant_account,
        domainid=domain_id,
        **demo,
    )
    admin.wait_job(started["jobid"])
    mine = tenant.call("listVirtualMachines", id=started["id"])["virtualmachine"][0]
    assert mine["account"] == tenant_account
    refused = tenant.request(
        "deployVirtualMachine", name="for-admin", account="admin", domainid=domain_id, **demo
    )
    assert refused.status_code == 531
    admin.wait_job(admin.call("destroyVirtualMachine", id=started["id"], expunge=True)["jobid"])
