"""Hypervisor drivers, imported lazily by name so that an install needs only the libraries of
the hypervisors it actually uses (libvirt-python, XenAPI, pyvmomi are optional extras)."""

from __future__ import annotations

import importlib
from typing import Any

from drivers.hypervisor.base import HypervisorDriver

DRIVERS = {
    "Simulator": "drivers.hypervisor.simulator:SimulatorDriver",
}


def load_hypervisor_driver(hypervisor: str, **options: Any) -> HypervisorDriver:
    try:
        target = DRIVERS[hypervisor]
    except KeyError:
        raise ValueError(f"No driver for hypervisor {hypervisor!r}") from None
    module_name, class_name = target.split(":")
    driver_class = getattr(importlib.import_module(module_name), class_name)
    driver: HypervisorDriver = driver_class(**options)
    return driver
