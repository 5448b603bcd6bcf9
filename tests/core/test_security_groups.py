"""Security group use cases on both databases: default group, rules, membership, isolation."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from core import security_groups as groups
from core.errors import InvalidParameter, NotFound, ResourceInUse
from core.events import Event
from core.infra import list_zones
from core.jobs import SUCCEEDED
from core.offerings import list_service_offerings
from core.security_groups import NetworkRuleConflict, SecurityGroup
from core.templates import list_templates
from core.visibility import ListScope
from core.vms import service as vms
from tests.core.conftest import CoreHarness


def deploy(core: CoreHarness, ctx, groups_to_join: list[SecurityGroup] | None = None) -> int:
    with core.db.write() as session:
        vm, _job = vms.deploy_vm(
            session,
            ctx,
            vms.DeploySpec(
                zone=list_zones(session)[0],
                service_offering=list_service_offerings(session, name="Small Instance")[0],
                template=list_templates(session, ctx, template_filter="featured")[0],
                start=False,
                security_group_ids=tuple(g.uuid for g in groups_to_join or []),
            ),
        )
        return vm.id


def test_every_account_gets_a_default_group(core: CoreHarness) -> None:
    tenant = core.new_tenant("sg-a")
    with core.db.read() as session:
        rows, total = groups.list_security_groups(session, tenant, ListScope())
        assert total == 1
        assert (rows[0].name, rows[0].description) == ("default", "Default Security Group")
        default = rows[0]
    with pytest.raises(InvalidParameter, match="default"), core.db.write() as session:
        groups.delete_security_group(session, tenant, session.get_one(SecurityGroup, default.id))


def test_create_names_unique_per_account(core: CoreHarness) -> None:
    tenant, other = core.new_tenant("sg-b"), core.new_tenant("sg-c")
    with core.db.write() as session:
        groups.create_security_group(session, tenant, name="web", description="w")
    with pytest.raises(InvalidParameter, match="already exists"), core.db.write() as session:
        groups.create_security_group(session, tenant, name="web")
    with core.db.write() as session:
        groups.create_security_group(session, other, name="web")
    with core.db.read() as session:
        assert "SG.CREATE" in set(session.scalars(sa.select(Event.event_type)))


def test_authorize_and_revoke_rules(core: CoreHarness) -> None:
    tenant = core.new_tenant("sg-d")
    with core.db.write() as session:
        web = groups.create_security_group(session, tenant, name="web")
        rules, job = groups.authorize_rules(
            session,
            tenant,
            web,
            direction=groups.INGRESS,
            protocol="tcp",
            start_port=22,
            end_port=22,
            cidrs=["10.0.0.0/8", "192.168.1.5/24"],
            user_groups=[{"account": "sg-d", "group": "default"}],
        )
        rule_uuid, job_uuid = rules[0].uuid, job.uuid
        assert [r.cidr for r in rules] == ["10.0.0.0/8", "192.168.1.0/24", None]
    assert core.wait(job_uuid).status == SUCCEEDED
    with core.db.write() as session:
        web = groups.get_security_group(session, tenant, name="web")
        with pytest.raises(NetworkRuleConflict):
            groups.authorize_rules(
                session, tenant, web, direction=groups.INGRESS, protocol="6",
                start_port=22, end_port=22, cidrs=["10.0.0.0/8"],
            )  # fmt: skip
    with core.db.write() as session:  # the same rule as egress is a different rule
        web = groups.get_security_group(session, tenant, name="web")
        groups.authorize_rules(
            session, tenant, web, direction=groups.EGRESS, protocol="icmp",
            icmp_type=-1, icmp_code=-1, cidrs=["0.0.0.0/0"],
        )  # fmt: skip
    with pytest.raises(InvalidParameter, match="not an egress"), core.db.write() as session:
        groups.revoke_rule(session, tenant, rule_uuid=rule_uuid, direction=groups.EGRESS)
    with core.db.write() as session:
        job_uuid = groups.revoke_rule(
            session, tenant, rule_uuid=rule_uuid, direction=groups.INGRESS
        ).uuid
    assert core.wait(job_uuid).status == SUCCEEDED
    with core.db.read() as session:
        web = groups.get_security_group(session, tenant, name="web")
        rules = groups.rules_of(session, [web.id])[web.id]
        assert len(rules) == 3
        assert {"SG.AUTH.INGRESS", "SG.AUTH.EGRESS", "SG.REVOKE.INGRESS"} <= set(
            session.scalars(sa.select(Event.event_type))
        )


@pytest.mark.parametrize(
    "kwargs",
    [
        {"protocol": "tcp", "start_port": 10, "end_port": 5, "cidrs": ["1.2.3.4/32"]},
        {"protocol": "udp", "cidrs": ["1.2.3.4/32"]},
        {"protocol": "icmp", "cidrs": ["1.2.3.4/32"]},
        {"protocol": "gre", "cidrs": ["1.2.3.4/32"]},
        {"protocol": "tcp", "start_port": 1, "end_port": 2, "cidrs": ["not-a-cidr"]},
        {"protocol": "tcp", "start_port": 1, "end_port": 2},
        {"protocol": "all", "user_groups": [{"account": "nobody", "group": "default"}]},
    ],
)
def test_invalid_rules(core: CoreHarness, kwargs: dict) -> None:
    tenant = core.new_tenant("sg-e")
    with pytest.raises(InvalidParameter), core.db.write() as session:
        web = groups.get_security_group(session, tenant, name="default")
        groups.authorize_rules(session, tenant, web, direction=groups.INGRESS, **kwargs)


def test_vm_membership_blocks_delete(core: CoreHarness) -> None:
    tenant = core.new_tenant("sg-f")
    with core.db.write() as session:
        web = groups.create_security_group(session, tenant, name="web")
    vm_id = deploy(core, tenant, [web])
    default_vm = deploy(core, tenant)
    with core.db.read() as session:
        assert [g.name for g in groups.groups_of_vm(session, vm_id)] == ["web"]
        assert [g.name for g in groups.groups_of_vm(session, default_vm)] == ["default"]
        rows, _ = groups.list_security_groups(session, tenant, ListScope(), vm_id=vm_id)
        assert [g.name for g in rows] == ["web"]
    with pytest.raises(ResourceInUse), core.db.write() as session:
        groups.delete_security_group(session, tenant, groups.get_security_group(
            session, tenant, name="web"))  # fmt: skip
    with core.db.write() as session:
        groups.detach_from_vm(session, vm_id)
    with core.db.write() as session:
        groups.delete_security_group(
            session, tenant, groups.get_security_group(session, tenant, name="web")
        )
    with core.db.read() as session:
        assert groups.list_security_groups(session, tenant, ListScope())[1] == 1


def test_tenants_are_isolated(core: CoreHarness) -> None:
    tenant, other = core.new_tenant("sg-g"), core.new_tenant("sg-h")
    with core.db.write() as session:
        web = groups.create_security_group(session, tenant, name="web")
        web_uuid = web.uuid
    with core.db.read() as session:
        with pytest.raises(NotFound):
            groups.get_security_group(session, other, uuid=web_uuid)
        rows, _ = groups.list_security_groups(session, other, ListScope(list_all=True))
        assert [g.name for g in rows] == ["default"]
        with pytest.raises(NotFound):  # a VM cannot join another account's group
            groups.resolve_for_deploy(session, other, ids=[web_uuid], names=[])
    with pytest.raises(NotFound), core.db.write() as session:
        web = session.scalar(sa.select(SecurityGroup).where(SecurityGroup.uuid == web_uuid))
        groups.authorize_rules(
            session, other, web, direction=groups.INGRESS, protocol="all", cidrs=["0.0.0.0/0"]
        )


def test_migration_gives_existing_accounts_a_default_group(database_url: str) -> None:
    from core.db import Database
    from core.schema import upgrade

    database = Database(database_url)
    try:
        upgrade(database, "0003_tags")
        with database.engine.begin() as connection:
            connection.execute(
                sa.text(
                    "INSERT INTO domain (id, uuid, created, name, path, level, state)"
                    " VALUES (1, 'd-1', :now, 'ROOT', '/', 0, 'Active')"
                ),
                {"now": "2026-01-01 00:00:00"},
            )
            for ident in (1, 2):
                connection.execute(
                    sa.text(
                        "INSERT INTO account (id, uuid, created, name, domain_id, role, state)"
                        " VALUES (:id, :uuid, :now, :name, 1, 0, 'enabled')"
                    ),
                    {"id": ident, "uuid": f"a-{ident}", "now": "2026-01-01 00:00:00",
                     "name": f"old-{ident}"},
                )  # fmt: skip
        upgrade(database, "0004_network")
        with database.engine.connect() as connection:
            rows = connection.execute(
                sa.text("SELECT account_id, name, description FROM security_group ORDER BY 1")
            ).all()
        assert [tuple(r) for r in rows] == [
            (1, "default", "Default Security Group"),
            (2, "default", "Default Security Group"),
        ]
    finally:
        database.dispose()


def test_ec2_style_groups_and_rule_lookup(core: CoreHarness) -> None:
    tenant, other = core.new_tenant("sg-x"), core.new_tenant("sg-y")
    with core.db.write() as session:
        with pytest.raises(groups.GroupNameTaken):
            groups.create_security_group(session, tenant, name="default")
        app = groups.create_security_group(session, tenant, name="app", allow_all_egress=True)
        [egress] = groups.rules_of(session, [app.id])[app.id]
        assert (egress.direction, egress.protocol, egress.cidr) == ("egress", "all", "0.0.0.0/0")
        with pytest.raises(groups.GroupNameTaken):
            groups.create_security_group(session, tenant, name="app")
        [rule], _ = groups.authorize_rules(
            session, tenant, app, direction=groups.INGRESS, protocol="tcp", start_port=22,
            end_port=22, cidrs=["10.0.0.1/8"], allowed_groups=(), description="ssh",
        )  # fmt: skip
        assert (rule.cidr, rule.description) == ("10.0.0.0/8", "ssh")
        ssh = groups.Traffic("6", 22, 22)
        found = groups.find_rule(
            session, app, direction=groups.INGRESS, traffic=ssh, cidr="10.0.0.0/8"
        )
        assert found is not None and found.id == rule.id
        assert groups.find_rule(session, app, direction=groups.EGRESS, traffic=ssh) is None
        groups.update_rule(
            session, tenant, rule, traffic=groups.Traffic("udp", 53, 53), cidr="10.1.0.0/16"
        )
        assert (rule.protocol, rule.start_port, rule.cidr, rule.description) == (
            "udp", 53, "10.1.0.0/16", None,
        )  # fmt: skip
        groups.authorize_rules(
            session, tenant, app, direction=groups.INGRESS, protocol="tcp", start_port=80,
            end_port=80, cidrs=["10.2.0.0/16"],
        )  # fmt: skip
        with pytest.raises(NetworkRuleConflict):
            groups.update_rule(
                session, tenant, rule, traffic=groups.Traffic("tcp", 80, 80), cidr="10.2.0.0/16"
            )
        listed = groups.list_rules(session, tenant, ListScope(), group_ids=[app.id])
        assert [r.id for r in listed][:2] == [egress.id, rule.id] and len(listed) == 3
        assert groups.list_rules(session, other, ListScope(), ids=[rule.id]) == []
        with pytest.raises(groups.DefaultGroupUndeletable):
            default = groups.get_security_group(session, tenant, name="default")
            groups.delete_security_group(session, tenant, default)
