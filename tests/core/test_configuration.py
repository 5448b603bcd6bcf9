"""Settings: validation, listing, updates by root admins only."""

from __future__ import annotations

import pytest

from core import configuration
from core.errors import InvalidParameter, PermissionDenied
from tests.core.conftest import CoreHarness


def test_update_validates_and_records(core: CoreHarness) -> None:
    admin = core.admin_context()
    with core.db.write() as session:
        configuration.update_setting(session, admin, "usage.stats.job.aggregation.range", "60")
        configuration.update_setting(session, admin, "allow.user.expunge.recover.vm", "TRUE")
    with core.db.read() as session:
        assert configuration.get_int(session, "usage.stats.job.aggregation.range") == 60
        assert configuration.get_bool(session, "allow.user.expunge.recover.vm") is True
    bad = [
        ("no.such.setting", "1"),
        ("usage.stats.job.aggregation.range", "daily"),
        ("usage.stats.job.aggregation.range", "0"),
        ("allow.user.expunge.recover.vm", "maybe"),
        ("cpu.overprovisioning.factor", "x"),
    ]
    for name, value in bad:
        with core.db.write() as session, pytest.raises(InvalidParameter):
            configuration.update_setting(session, admin, name, value)
    with core.db.read() as session:
        assert configuration.get_int(session, "usage.stats.job.aggregation.range") == 60


def test_only_root_admins_update(core: CoreHarness) -> None:
    tenant = core.new_tenant("cfg-user")
    with core.db.write() as session, pytest.raises(PermissionDenied):
        configuration.update_setting(session, tenant, "expunge.delay", "10")


def test_list_by_name_category_keyword(core: CoreHarness) -> None:
    with core.db.read() as session:
        names = [s.name for s, _ in configuration.list_settings(session, name="max.account")]
        assert "max.account.user.vms" in names and "expunge.delay" not in names
        usage = configuration.list_settings(session, category="usage")
        assert {s.name for s, _ in usage} >= {"usage.stats.job.aggregation.range"}
        found = configuration.list_settings(session, name="expunge.delay")
        assert found[0][1] == "86400"
