"""The EC2 Query wire format, from botocore's service model (via moto's parser/serializer).

Requests: form pairs (`InstanceId.1`, `Filter.1.Value.2` …) are parsed into the operation's
input shape, e.g. {"InstanceIds": [...], "Filters": [{"Name": …, "Values": [...]}]}.
Responses: botocore-shaped dicts are rendered to XML by the output shape, so element names,
`…Set`/`item` nesting and types are right by construction. Two corrections to moto's
serializer make the XML byte-for-byte AWS's: the namespace has AWS's trailing slash, and the
error document `<Response><Errors>…</Errors><RequestID>` carries no namespace.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from functools import cache
from typing import Any

import botocore.loaders
from moto.core.model import OperationModel, ServiceModel, StructureShape
from moto.core.parse import UNDEFINED, EC2QueryParser, QueryParser
from moto.core.serialize import EC2Serializer, QuerySerializer, SerializationContext
from starlette.responses import Response

from ec2_api.errors import Ec2Error, invalid_value, missing_parameter

NAMESPACE = "http://ec2.amazonaws.com/doc/2016-11-15/"
STS = "sts"
CONTENT_TYPE = "text/xml;charset=UTF-8"


@cache
def service_model(service: str = "ec2") -> ServiceModel:
    """botocore's model of `service` (EC2, or STS for GetCallerIdentity), loaded once."""
    description = botocore.loaders.create_loader().load_service_model(service, "service-2")
    return ServiceModel(description, service)


def operation_model(name: str | None, service: str = "ec2") -> OperationModel:
    """The operation's model; an empty one for errors outside any known operation."""
    if name is None:
        return OperationModel({}, service_model(service))
    return service_model(service).operation_model(name)


class _Serializer(EC2Serializer):
    def _serialize_namespace_attribute(self, serialized: MutableMapping[str, Any]) -> None:
        serialized["@xmlns"] = NAMESPACE

    def _serialized_result_to_response(
        self,
        resp: Any,
        result: Any,
        shape: StructureShape | None,
        serialized_result: MutableMapping[str, Any],
    ) -> Any:
        # AWS puts requestId first, and answers `<return>true</return>` for bare actions.
        body: dict[str, Any] = {"@xmlns": NAMESPACE, "requestId": self.context.request_id}
        body.update(serialized_result)
        if shape is None:
            body["return"] = "true"
        resp["body"] = self._serialize_body({f"{self.operation_model.name}Response": body})
        resp["headers"]["Content-Type"] = CONTENT_TYPE
        return resp

    def _serialized_error_to_response(
        self, resp: Any, error: Exception, shape: Any, serialized_error: MutableMapping[str, Any]
    ) -> Any:
        document = {
            "Response": {
                "Errors": {"Error": serialized_error},
                "RequestID": self.context.request_id,
            }
        }
        resp["body"] = self._serialize_body(document)
        resp["headers"]["Content-Type"] = CONTENT_TYPE
        return resp


class _ListParser(EC2QueryParser):
    """AWS's leniency with list members, which hand-written clients rely on.

    Indexes are only an order: `Tag.0.Key` (libcloud's CreateTags) and gaps are accepted, as
    AWS accepts them, where moto's parser reads 1, 2, … up to the first gap. A bare scalar
    list member (`KeyName=x`, libcloud's get_key_pair) is a list of one.
    """

    def _parse_list(self, shape: Any, node: Any, prefix: str = "") -> Any:
        head = prefix + "."
        heads = (key[len(head) :].split(".", 1)[0] for key in node if key.startswith(head))
        indexes = sorted({int(index) for index in heads if index.isdigit()})
        items = [self._parse_shape(shape.member, node, f"{head}{i}") for i in indexes]
        items = [item for item in items if item is not UNDEFINED]
        if not items and shape.member.type_name == "string" and node.get(prefix):
            return [node[prefix]]
        return items or UNDEFINED


def parse(operation: str, pairs: Mapping[str, str], service: str = "ec2") -> dict[str, Any]:
    """The request's parameters in the operation's input shape; required members checked."""
    model = operation_model(operation, service)
    parser = QueryParser(model) if service == STS else _ListParser(model)
    try:
        parsed: dict[str, Any] = parser.parse({"values": pairs})  # type: ignore[typeddict-item]
    except (ValueError, TypeError) as error:
        raise invalid_value(f"A parameter has an invalid value: {error}") from None
    input_shape = model.input_shape
    if input_shape is not None:
        for member in input_shape.required_members:
            if member not in parsed:
                wire_name = input_shape.members[member].serialization.get("name", member)
                raise missing_parameter(wire_name[:1].upper() + wire_name[1:])
    return parsed


def _response(rendered: Mapping[str, Any], status: int) -> Response:
    return Response(
        rendered["body"],
        status_code=status,
        media_type=None,
        headers={
            "Content-Type": CONTENT_TYPE,
        },
    )


def _serializer(model: OperationModel, request_id: str, service: str) -> QuerySerializer:
    # STS speaks the plain Query protocol: <XResponse><XResult>…, <ErrorResponse><Error>…
    kind = QuerySerializer if service == STS else _Serializer
    return kind(model, SerializationContext(request_id))


def render(
    operation: str, result: Mapping[str, Any] | None, request_id: str, service: str = "ec2"
) -> Response:
    """A success document for `operation` from a botocore-shaped result dict."""
    serializer = _serializer(operation_model(operation, service), request_id, service)
    return _response(serializer.serialize(result or {}), 200)


def render_error(
    error: Ec2Error, request_id: str, operation: str | None = None, service: str = "ec2"
) -> Response:
    """The service's error document (EC2's, or STS's), with the error's own status."""
    try:
        model = operation_model(operation, service)
    except Exception:  # an unknown action name has no model
        model = operation_model(None, service)
    serializer = _serializer(model, request_id, service)
    return _response(serializer.serialize(error), error.status)
