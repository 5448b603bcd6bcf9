"""Typed errors of the core: the one vocabulary every front end maps to its wire format.

    CloudgateError
     ├── NotFound                 a resource does not exist or is not visible to the caller
     ├── PermissionDenied         the caller may not act on the resource
     ├── AuthenticationFailed     unknown or disabled credentials
     ├── InvalidParameter         a parameter is missing, malformed or out of range
     ├── InvalidState             the resource's state does not allow the operation
     ├── Conflict                 a unique name or id is taken
     │    ├── ResourceInUse       the resource is still used by another one
     │    └── NetworkRuleConflict a network rule or NAT mapping clashes with an existing one
     ├── LimitExceeded            an account's resource limit would be exceeded
     ├── InsufficientCapacity     no host or pool can take the request
     ├── ResourceUnavailable      a backend (hypervisor, object store) is unreachable
     └── OperationFailed          a driver operation failed after it was accepted

Errors carry fields (kind, id, state, limit …) so that front ends can render them precisely.
"""

from __future__ import annotations


class CloudgateError(Exception):
    """Base of every error the core raises on purpose."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class NotFound(CloudgateError):
    def __init__(self, kind: str, ident: object, message: str | None = None) -> None:
        super().__init__(message or f"Unable to find {kind} with id {ident}")
        self.kind = kind
        self.ident = ident


class PermissionDenied(CloudgateError):
    pass


class AuthenticationFailed(CloudgateError):
    pass


class InvalidParameter(CloudgateError):
    def __init__(self, message: str, *, parameter: str | None = None) -> None:
        super().__init__(message)
        self.parameter = parameter


class InvalidState(CloudgateError):
    def __init__(self, kind: str, ident: object, state: str, operation: str) -> None:
        super().__init__(f"{kind} {ident} is in state {state}; cannot {operation}")
        self.kind = kind
        self.ident = ident
        self.state = state
        self.operation = operation


class Conflict(CloudgateError):
    pass


class ResourceInUse(Conflict):
    pass


class NetworkRuleConflict(Conflict):
    """A rule or mapping that clashes (CloudStack's NetworkRuleConflictException)."""


class LimitExceeded(CloudgateError):
    def __init__(self, resource: str, limit: int, requested: int, message: str | None = None):
        super().__init__(
            message
            or f"Maximum number of resources of type '{resource}' for account has exceeded;"
            f" limit {limit}, requested {requested}"
        )
        self.resource = resource
        self.limit = limit
        self.requested = requested


class InsufficientCapacity(CloudgateError):
    def __init__(self, message: str, *, scope: str = "zone", scope_id: object = None) -> None:
        super().__init__(message)
        self.scope = scope
        self.scope_id = scope_id


class ResourceUnavailable(CloudgateError):
    pass


class OperationFailed(CloudgateError):
    pass
