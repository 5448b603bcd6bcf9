"""The VM most core tests deploy: the first zone, the "Small Instance" offering and the first
featured template (the ones bootstrap seeds), as a DeploySpec that a test may vary."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from core.context import CallContext
from core.infra import list_zones
from core.offerings import list_service_offerings
from core.templates import list_templates
from core.vms.service import DeploySpec


def small_vm(session: Session, ctx: CallContext, **changes: Any) -> DeploySpec:
    return DeploySpec(
        zone=list_zones(session)[0],
        service_offering=list_service_offerings(session, name="Small Instance")[0],
        template=list_templates(session, ctx, template_filter="featured")[0],
        **changes,
    )
