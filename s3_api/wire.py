"""S3 wire format: responses rendered from botocore's S3 service model, errors, request XML.

moto's `S3Serializer` walks botocore's output shapes, so member names, nesting, list
flattening, timestamp formats and header bindings (`x-amz-meta-*`, `Last-Modified`, `ETag`)
are right by construction. Two things the model cannot say are added here: S3's root element
names (`ListAllMyBucketsResult`, `ListBucketResult` …; botocore ignores them when parsing)
and the `http://s3.amazonaws.com/doc/2006-03-01/` namespace.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Mapping
from typing import Any

import botocore.loaders
import xmltodict
from moto.core.model import ServiceModel
from moto.core.parse import RestXMLParser
from moto.core.serialize import S3Serializer, SerializationContext
from starlette.responses import Response

from s3_api.errors import MalformedXML, S3Error

NAMESPACE = "http://s3.amazonaws.com/doc/2006-03-01/"
XML = "application/xml"
# Characters XML 1.0 cannot carry at all, not even escaped (a key may contain them).
_XML_INVALID = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")
ROOT_ELEMENTS = {
    "ListBuckets": "ListAllMyBucketsResult",
    "ListObjectsV2": "ListBucketResult",
    "ListObjects": "ListBucketResult",
    "GetBucketLocation": "LocationConstraint",
    "CreateMultipartUpload": "InitiateMultipartUploadResult",
    "UploadPartCopy": "CopyPartResult",
    "GetBucketVersioning": "VersioningConfiguration",
    "ListObjectVersions": "ListVersionsResult",
    "GetObjectTagging": "Tagging",
    "GetBucketAcl": "AccessControlPolicy",
    "GetObjectAcl": "AccessControlPolicy",
    "GetBucketPolicyStatus": "PolicyStatus",
    "GetBucketCors": "CORSConfiguration",
    "GetBucketLifecycleConfiguration": "LifecycleConfiguration",
    "GetBucketTagging": "Tagging",
}


@functools.cache
def service_model() -> ServiceModel:
    """botocore's S3 model (loaded once; it is a few MB of JSON)."""
    model = botocore.loaders.create_loader().load_service_model("s3", "service-2")
    return ServiceModel(model, "s3")


class _Serializer(S3Serializer):
    def _serialize_body(self, body: Mapping[str, Any]) -> str:
        ((_, content),) = body.items()
        root = ROOT_ELEMENTS.get(self.operation_name, f"{self.operation_name}Result")
        if not isinstance(content, Mapping):
            content = {"#text": content}
        return super()._serialize_body({root: {"@xmlns": NAMESPACE, **content}})


def render(
    operation: str,
    result: Mapping[str, Any],
    *,
    request_id: str,
    status: int | None = None,
) -> Response:
    """A complete (non-streaming) response for `operation` from its output-shape values."""
    serialized = render_parts(operation, result, request_id=request_id)
    body = serialized["body"]
    return Response(
        content=body,
        status_code=status or serialized["status_code"],
        headers=serialized["headers"],
        media_type=XML if body else None,
    )


def render_parts(operation: str, result: Mapping[str, Any], *, request_id: str) -> dict[str, Any]:
    """Status, headers and body of `operation`'s output, for callers that stream the body."""
    operation_model = service_model().operation_model(operation)
    serialized = _Serializer(operation_model, SerializationContext(request_id)).serialize(result)
    headers = {name: str(value) for name, value in serialized["headers"].items()}
    body = serialized["body"] if isinstance(serialized["body"], str | bytes) else b""
    return {"status_code": serialized["status_code"], "headers": headers, "body": body}


def render_error(error: S3Error, *, resource: str, request_id: str, head: bool) -> Response:
    """`<Error><Code/><Message/><Resource/><RequestId/></Error>`; HEAD answers have no body."""
    headers = {**error.headers, "x-amz-request-id": request_id}
    if head:
        return Response(status_code=error.status, headers=headers)
    fields = {
        "Code": error.code,
        "Message": error.message,
        **{name: str(value) for name, value in error.fields.items()},
        "Resource": resource,
        "RequestId": request_id,
    }
    document = {
        "Error": {name: _XML_INVALID.sub("\ufffd", value) for name, value in fields.items()}
    }
    body = xmltodict.unparse(document, full_document=True, short_empty_elements=True)
    return Response(body, status_code=error.status, headers=headers, media_type=XML)


def parse_payload(operation: str, body: bytes) -> dict[str, Any]:
    """The XML body of `operation` (PutBucketCors, PutBucketTagging …) as its botocore input
    payload shape's values (lists unflattened, numbers and dates typed); MalformedXML when it
    is not well-formed, has another root element, or a value of the wrong type."""
    operation_model = service_model().operation_model(operation)
    input_shape = operation_model.input_shape
    payload = input_shape.members[input_shape.serialization["payload"]]
    parser = RestXMLParser(operation_model)
    try:
        root = parser._parse_xml_string_to_dom(body)
        if root.tag.rpartition("}")[2] != payload.serialization.get("name", payload.name):
            raise MalformedXML()
        parsed = parser._parse_shape(payload, root)
    except S3Error:
        raise
    except Exception as error:  # expat, int(), dates: all equally "does not validate"
        raise MalformedXML() from error
    return parsed if isinstance(parsed, dict) else {}


def parse_location_constraint(body: bytes) -> str | None:
    """The LocationConstraint of a CreateBucketConfiguration body (None when absent/empty)."""
    if not body.strip():
        return None
    try:
        document = xmltodict.parse(body, process_namespaces=False, disable_entities=True)
    except Exception as error:  # expat raises ExpatError; anything else is equally malformed
        raise MalformedXML() from error
    configuration = document.get("CreateBucketConfiguration")
    if configuration is None:
        raise MalformedXML()
    if not isinstance(configuration, Mapping):
        return None
    location = configuration.get("LocationConstraint")
    if isinstance(location, Mapping):
        location = location.get("#text")
    return location or None
