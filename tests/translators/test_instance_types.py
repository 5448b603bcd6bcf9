"""Instance types: the seeded defaults, the operator's edits, and the catalogue built on them."""

from __future__ import annotations

import pytest

from core.bootstrap import bootstrap
from core.db import Database, utcnow
from core.errors import InvalidParameter, NotFound
from core.instance_types import list_sizes, remove_size, set_size
from core.offerings import create_service_offering, list_service_offerings
from translators.instance_types import (
    DEFAULT_INSTANCE_TYPE,
    DEFAULT_SIZES,
    load_catalogue,
    seed_default_sizes,
)


@pytest.fixture
def seeded(database: Database) -> Database:
    with database.write() as session:
        bootstrap(session, demo_zone=False)
        seed_default_sizes(session)
    return database


def test_defaults_map_aws_names_to_sized_offerings(seeded: Database) -> None:
    with seeded.read() as session:
        catalogue = load_catalogue(session)
        micro = catalogue.offering_for(DEFAULT_INSTANCE_TYPE)
        assert (micro.name, micro.memory_mb) == ("Small Instance", 512)
        assert catalogue.offering_for("t2.nano").id == micro.id
        assert catalogue.name_for(micro) == "t2.micro"  # the first default name is canonical
        assert catalogue.offering_for("t2.small").name == "Medium Instance"
        large = catalogue.offering_for("m5.large")
        assert (large.name, large.cpu_number, large.memory_mb) == ("m5.large", 2, 8192)
        assert catalogue.name_for(large) == "m5.large"
        assert {d.name for d in DEFAULT_SIZES} <= set(catalogue.names())
        assert "cg.m5-large" not in catalogue.names()  # named after its type: no alias
        # every fixed offering is also reachable by its derived name
        assert catalogue.offering_for("cg.small-instance").id == micro.id
        with pytest.raises(InvalidParameter):
            catalogue.offering_for("x9.huge")


def test_seeding_twice_creates_nothing_more(seeded: Database) -> None:
    with seeded.write() as session:
        offerings = len(list_service_offerings(session))
        names = len(list_sizes(session))
        seed_default_sizes(session)
        assert len(list_service_offerings(session)) == offerings
        assert len(list_sizes(session)) == names


def test_operator_sets_and_removes_names(seeded: Database) -> None:
    with seeded.write() as session:
        big = create_service_offering(
            session, name="Big", display_text="Big", cpu_number=8, cpu_speed_mhz=2000,
            memory_mb=32768,
        )  # fmt: skip
        set_size(session, "c5.2xlarge", "Big")
        set_size(session, "t2.micro", big.uuid)  # rebinding an existing name, by uuid
        catalogue = load_catalogue(session)
        assert catalogue.offering_for("c5.2xlarge").id == big.id
        assert catalogue.offering_for("t2.micro").id == big.id
        assert catalogue.name_for(big) == "t2.micro"  # t2.micro's row is older
        remove_size(session, "c5.2xlarge")
        assert "c5.2xlarge" not in load_catalogue(session).names()
        with pytest.raises(NotFound):
            remove_size(session, "c5.2xlarge")
        with pytest.raises(NotFound):
            set_size(session, "c5.large", "No Such Offering")
        with pytest.raises(InvalidParameter):
            set_size(session, "Bad Name!", "Big")


def test_a_removed_offering_drops_its_names(seeded: Database) -> None:
    with seeded.write() as session:
        offering = load_catalogue(session).offering_for("m5.xlarge")
        offering.removed = utcnow()
        session.flush()
        assert "m5.xlarge" not in load_catalogue(session).names()


def test_customized_offerings_cannot_be_named(seeded: Database) -> None:
    with seeded.write() as session:
        create_service_offering(session, name="Custom", display_text="Custom", is_customized=True)
        with pytest.raises(InvalidParameter):
            set_size(session, "x1.custom", "Custom")
