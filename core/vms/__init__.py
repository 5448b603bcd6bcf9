"""Virtual machines: the row (models), its state table (states), the use cases (service)
and the driver work run as jobs (work)."""

from core.vms import work as _work  # registers the job handlers  # noqa: F401
