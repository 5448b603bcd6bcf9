"""Virtual machines: the row (models), its state table (states), the use cases (service)
and the driver work run as jobs (work)."""

from core.vms import access as _access  # registers the job handlers  # noqa: F401
from core.vms import lifecycle as _lifecycle  # noqa: F401
from core.vms import work as _work  # noqa: F401
