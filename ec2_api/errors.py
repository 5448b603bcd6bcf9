"""EC2 error codes and HTTP statuses: core errors and auth errors are mapped here, once.

    Ec2Error(code, message, status)     an error already in EC2's terms; the app renders it
     └── DryRunOperation                412, the request would have succeeded

Core errors map by type (and, for NotFound and malformed ids, by the kind of resource);
`to_ec2_error` is the one place that knows the table below.
"""

from __future__ import annotations

from core import errors
from translators import aws_auth, ids
from translators.ids import IMAGE, INSTANCE, RESERVATION, IdCodec, MalformedId

BAD_REQUEST = 400
UNAUTHORIZED = 401
FORBIDDEN = 403
SERVER_ERROR = 500
UNAVAILABLE = 503


class Ec2Error(Exception):
    """An error in EC2's vocabulary: the wire code, a message for the client, the status."""

    def __init__(self, code: str, message: str, status: int = BAD_REQUEST) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.status = status


class DryRunOperation(Ec2Error):
    def __init__(self) -> None:
        super().__init__(
            "DryRunOperation", "Request would have succeeded, but DryRun flag is set.", 412
        )


def invalid_action(action: str) -> Ec2Error:
    return Ec2Error(
        "InvalidAction", f"The action {action} is not valid for this web service.", BAD_REQUEST
    )


def missing_parameter(name: str) -> Ec2Error:
    return Ec2Error("MissingParameter", f"The request must contain the parameter {name}")


def invalid_value(message: str) -> Ec2Error:
    return Ec2Error("InvalidParameterValue", message)


def internal_error(request_id: str) -> Ec2Error:
    return Ec2Error(
        "InternalError",
        f"An internal error has occurred (request id {request_id}).",
        SERVER_ERROR,
    )


def instances_not_found(instance_ids: list[str]) -> Ec2Error:
    listed = ", ".join(instance_ids)
    if len(instance_ids) == 1:
        message = f"The instance ID '{listed}' does not exist"
    else:
        message = f"The instance IDs '{listed}' do not exist"
    return Ec2Error("InvalidInstanceID.NotFound", message)


# Auth errors carry their EC2 code; the status is EC2's for that code.
_AUTH_STATUS = {
    "AuthFailure": UNAUTHORIZED,
    "MissingAuthenticationToken": UNAUTHORIZED,
    "SignatureDoesNotMatch": FORBIDDEN,
    "IncompleteSignature": BAD_REQUEST,
    "RequestExpired": BAD_REQUEST,
}


def from_auth_error(error: aws_auth.AuthError, service: str = "ec2") -> Ec2Error:
    code = error.ec2_code
    if service == "sts" and code == "AuthFailure":  # STS's word for an unknown access key
        return Ec2Error(
            "InvalidClientTokenId", "The security token included in the request is invalid.", 403
        )
    return Ec2Error(code, error.message, _AUTH_STATUS.get(code, UNAUTHORIZED))


_MALFORMED = {
    INSTANCE: "InvalidInstanceID.Malformed",
    IMAGE: "InvalidAMIID.Malformed",
    RESERVATION: "InvalidReservationID.Malformed",
    ids.VPC: "InvalidVpcID.Malformed",
    ids.SUBNET: "InvalidSubnetID.Malformed",
    ids.SECURITY_GROUP: "InvalidGroupId.Malformed",
    ids.SECURITY_GROUP_RULE: "InvalidSecurityGroupRuleId.Malformed",
    ids.KEY_PAIR: "InvalidKeyPair.NotFound",  # AWS has no Malformed code for key pair ids
    ids.ALLOCATION: "InvalidAllocationID.Malformed",
    ids.ASSOCIATION: "InvalidAssociationID.Malformed",
    ids.VOLUME: "InvalidVolumeID.Malformed",
    ids.SNAPSHOT: "InvalidSnapshotID.Malformed",
    ids.NETWORK_INTERFACE: "InvalidNetworkInterfaceId.Malformed",
    ids.ROUTE_TABLE: "InvalidRouteTableId.Malformed",
    ids.INTERNET_GATEWAY: "InvalidInternetGatewayId.Malformed",
    ids.NETWORK_ACL: "InvalidNetworkAclId.Malformed",
    ids.DHCP_OPTIONS: "InvalidDhcpOptionsId.Malformed",
}

# core NotFound kind → (code, message template taking the EC2 id, id prefix for core ids)
_NOT_FOUND: dict[str, tuple[str, str, str | None]] = {
    "virtual machine": (
        "InvalidInstanceID.NotFound",
        "The instance ID '{}' does not exist",
        INSTANCE,
    ),
    "template": ("InvalidAMIID.NotFound", "The image id '[{}]' does not exist", IMAGE),
    "zone": ("InvalidParameterValue", "Invalid availability zone: [{}]", None),
    "service offering": ("InvalidParameterValue", "Invalid value '{}' for InstanceType", None),
    "vpc": ("InvalidVpcID.NotFound", "The vpc ID '{}' does not exist", ids.VPC),
    "network": ("InvalidSubnetID.NotFound", "The subnet ID '{}' does not exist", ids.SUBNET),
    "key pair": ("InvalidKeyPair.NotFound", "The key pair '{}' does not exist", ids.KEY_PAIR),
    "security group": (
        "InvalidGroup.NotFound",
        "The security group '{}' does not exist",
        ids.SECURITY_GROUP,
    ),
    "security group rule": (
        "InvalidSecurityGroupRuleId.NotFound",
        "The security group rule ID '{}' does not exist",
        ids.SECURITY_GROUP_RULE,
    ),
    "public ip address": (
        "InvalidAllocationID.NotFound",
        "The allocation ID '{}' does not exist",
        ids.ALLOCATION,
    ),
    "volume": ("InvalidVolume.NotFound", "The volume '{}' does not exist.", ids.VOLUME),
    "snapshot": ("InvalidSnapshot.NotFound", "The snapshot '{}' does not exist.", ids.SNAPSHOT),
}

# Checked in order: subclasses before their bases.
_BY_TYPE: list[tuple[type[errors.CloudgateError], str, int]] = [
    (errors.AuthenticationFailed, "AuthFailure", UNAUTHORIZED),
    (errors.PermissionDenied, "UnauthorizedOperation", FORBIDDEN),
    (errors.InvalidParameter, "InvalidParameterValue", BAD_REQUEST),
    (errors.InvalidState, "IncorrectInstanceState", BAD_REQUEST),
    (errors.ResourceInUse, "DependencyViolation", BAD_REQUEST),
    (errors.Conflict, "InvalidParameterValue", BAD_REQUEST),
    (errors.LimitExceeded, "InstanceLimitExceeded", BAD_REQUEST),
    # AWS lists capacity errors as server errors and answers them 500 (clients retry them).
    (errors.InsufficientCapacity, "InsufficientInstanceCapacity", SERVER_ERROR),
    (errors.ResourceUnavailable, "Unavailable", UNAVAILABLE),
    (errors.OperationFailed, "InternalError", SERVER_ERROR),
]


def to_ec2_error(error: errors.CloudgateError, codec: IdCodec | None = None) -> Ec2Error:
    """The EC2 error for a core error; core integer ids in NotFound become EC2 ids."""
    if isinstance(error, MalformedId):
        return Ec2Error(_MALFORMED.get(error.prefix, "InvalidParameterValue"), error.message)
    if isinstance(error, errors.NotFound):
        return _not_found(error, codec)
    for kind, code, status in _BY_TYPE:
        if isinstance(error, kind):
            return Ec2Error(code, error.message, status)
    return Ec2Error("InternalError", error.message, SERVER_ERROR)


def _not_found(error: errors.NotFound, codec: IdCodec | None) -> Ec2Error:
    known = _NOT_FOUND.get(error.kind)
    if known is None:
        return Ec2Error("InvalidParameterValue", error.message)
    code, template, prefix = known
    ident = error.ident
    if isinstance(ident, int) and prefix is not None and codec is not None:
        ident = codec.encode(prefix, ident)
    return Ec2Error(code, template.format(ident))
