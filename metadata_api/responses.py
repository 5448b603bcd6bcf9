"""What the metadata service sends back: plain text, raw user data, and IMDS's error pages.

AWS's metadata service answers errors with a small XHTML page titled by the status
(`404 - Not Found`), not with XML or JSON errors; clients only look at the status code.
"""

from __future__ import annotations

from http import HTTPStatus

from starlette.responses import Response

TEXT = "text/plain"
OCTETS = "application/octet-stream"
TTL_HEADER = "X-aws-ec2-metadata-token-ttl-seconds"

_PAGE = """<?xml version="1.0" encoding="iso-8859-1"?>
<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Transitional//EN"
\t"http://www.w3.org/TR/xhtml1/DTD/xhtml1-transitional.dtd">
<html xmlns="http://www.w3.org/1999/xhtml" xml:lang="en" lang="en">
 <head>
  <title>{title}</title>
 </head>
 <body>
  <h1>{title}</h1>
 </body>
</html>
"""


class MetadataError(Exception):
    """Ends a request with an error page of this status (and extra headers, e.g. Allow)."""

    def __init__(self, status: int, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status = status
        self.headers = headers or {}


def error_page(status: int, headers: dict[str, str] | None = None) -> Response:
    title = f"{status} - {HTTPStatus(status).phrase}"
    return Response(
        _PAGE.format(title=title), status_code=status, media_type="text/html", headers=headers
    )


def text(body: str, headers: dict[str, str] | None = None) -> Response:
    return Response(body, media_type=TEXT, headers=headers)


def octets(body: bytes) -> Response:
    return Response(body, media_type=OCTETS)
