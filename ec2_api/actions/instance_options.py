"""The option blocks AWS shows on every instance: MetadataOptions and HibernationOptions.

MetadataOptions describe the instance metadata service (metadata_api), which answers every VM
the same way: IMDSv1 and v2 unless the operator requires tokens (`metadata_http_tokens`, put
in `Runtime.extras[HTTP_TOKENS]` by the composition root), over IPv4 only, without instance
tags. Hibernation is never configured: the core has no hibernate operation. instance_views
adds both to every instance (`option_fields`) and instances.py filters by them (`FILTERS`);
there is no ModifyInstanceMetadataOptions.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from ec2_api.call import Call

HTTP_TOKENS = "metadata_http_tokens"  # the Runtime.extras key
HOP_LIMIT = 1  # AWS's default; the service answers only VMs it identifies, at any hop count


def metadata_options(call: Call) -> dict[str, Any]:
    return {
        "State": "applied",
        "HttpTokens": call.runtime.extras.get(HTTP_TOKENS, "optional"),
        "HttpPutResponseHopLimit": HOP_LIMIT,
        "HttpEndpoint": "enabled",
        "HttpProtocolIpv6": "disabled",
        "InstanceMetadataTags": "disabled",
    }


def option_fields(call: Call) -> dict[str, Any]:
    """The fields every instance of a request shows (copy before changing them)."""
    return {"MetadataOptions": metadata_options(call), "HibernationOptions": {"Configured": False}}


def _metadata(key: str) -> Callable[[dict[str, Any]], Any]:
    return lambda i: i["MetadataOptions"][key]


# Filter name → the instance's value (instances.py reads them off each instance).
FILTERS: dict[str, Callable[[dict[str, Any]], Any]] = {
    "metadata-options.http-tokens": _metadata("HttpTokens"),
    "metadata-options.http-put-response-hop-limit": _metadata("HttpPutResponseHopLimit"),
    "metadata-options.http-endpoint": _metadata("HttpEndpoint"),
    "metadata-options.http-protocol-ipv6": _metadata("HttpProtocolIpv6"),
    "metadata-options.instance-metadata-tags": _metadata("InstanceMetadataTags"),
    "hibernation-options.configured": lambda i: i["HibernationOptions"]["Configured"],
}
