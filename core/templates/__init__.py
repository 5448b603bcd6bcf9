"""Templates and ISOs: the disk images VMs boot from (AMIs on the EC2 side).

As in CloudStack, an ISO is a `vm_template` row whose format is ISO. A template is
registered once and held per zone on secondary storage: `TemplateZone` (CloudStack's
template_zone_ref and template_store_ref) tracks each zone's copy through its download
states. A template is ready once one zone holds it; `Template.zone_id` is its zone when it
lives in exactly one zone, None for a cross-zone template.

The package: the tables and the download state table (models), registering (registration),
reading and launch rights (queries), changing, deleting and copying (service), sharing
(permissions), and createTemplate from a volume or snapshot (private). Every name is
importable from `core.templates`.
"""

from core.templates.models import (
    CHECKSUM_ALGORITHMS,
    DOWNLOAD_TRANSITIONS,
    FILTERS,
    HYPERVISORS,
    ISO,
    READY,
    TEMPLATE_FORMATS,
    DownloadState,
    LaunchPermission,
    Template,
    TemplateZone,
    ensure_state,
)
from core.templates.permissions import shared_accounts, update_permissions
from core.templates.private import create_private_template
from core.templates.queries import (
    TemplateRow,
    get_template,
    list_template_rows,
    list_templates,
    os_type_of,
    owned_template,
    ready_in_zone,
    template_for_launch,
    zone_refs,
)
from core.templates.registration import (
    TemplateSpec,
    add_zone_copy,
    create_template,
    new_owned_template,
    parse_checksum,
    record_template_event,
    register_template,
)
from core.templates.service import (
    TemplateUpdate,
    copy_template,
    delete_template,
    update_template,
)

__all__ = [
    "CHECKSUM_ALGORITHMS",
    "DOWNLOAD_TRANSITIONS",
    "FILTERS",
    "HYPERVISORS",
    "ISO",
    "READY",
    "TEMPLATE_FORMATS",
    "DownloadState",
    "LaunchPermission",
    "Template",
    "TemplateRow",
    "TemplateSpec",
    "TemplateUpdate",
    "TemplateZone",
    "add_zone_copy",
    "copy_template",
    "create_private_template",
    "create_template",
    "delete_template",
    "ensure_state",
    "get_template",
    "list_template_rows",
    "list_templates",
    "new_owned_template",
    "os_type_of",
    "owned_template",
    "parse_checksum",
    "ready_in_zone",
    "record_template_event",
    "register_template",
    "shared_accounts",
    "template_for_launch",
    "update_permissions",
    "update_template",
    "zone_refs",
]
