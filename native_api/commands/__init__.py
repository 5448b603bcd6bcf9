"""CloudStack commands, one module per resource family; importing them fills the table."""

from native_api.commands import apis, infra, jobs, offerings, templates, vms  # noqa: F401
