"""The content headers S3 keeps with an object and returns on GET and HEAD.

`Cache-Control`, `Content-Disposition`, `Content-Encoding`, `Content-Language` and `Expires`
given on PutObject are the object's (`aws s3 cp --cache-control`, s3cmd `--add-header`,
websites served from a bucket rely on them). They are stored as the object's system
metadata under `header-<name>`, next to the checksums, so both stores keep them without a
schema of their own. `aws-chunked` is transfer framing, never part of the stored
Content-Encoding (S3 drops it too: `gzip,aws-chunked` is stored as `gzip`).
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from email.utils import parsedate_to_datetime
from typing import Any

PREFIX = "header-"
# Request header → member of GetObject's / HeadObject's output shape.
FIELDS = {
    "cache-control": "CacheControl",
    "content-disposition": "ContentDisposition",
    "content-encoding": "ContentEncoding",
    "content-language": "ContentLanguage",
    "expires": "Expires",
}


def stored(headers: Mapping[str, str]) -> dict[str, str]:
    """System metadata entries for the content headers of an upload request."""
    kept: dict[str, str] = {}
    for name in FIELDS:
        value = headers.get(name)
        if name == "content-encoding" and value is not None:
            codings = [c.strip() for c in value.split(",")]
            value = ",".join(c for c in codings if c and c.lower() != "aws-chunked")
        if value:
            kept[PREFIX + name] = value
    return kept


def result_fields(system_metadata: Mapping[str, str]) -> dict[str, Any]:
    """`{"CacheControl": …}` members of an output shape from an object's system metadata."""
    fields: dict[str, Any] = {}
    for name, field in FIELDS.items():
        value = system_metadata.get(PREFIX + name)
        if value is None:
            continue
        if field == "Expires":
            expires = _http_date(value)
            if expires is None:  # botocore's shape is a timestamp: an odd value is not shown
                continue
            fields[field] = expires
        else:
            fields[field] = value
    return fields


def _http_date(value: str) -> datetime | None:
    try:
        return parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
