"""Security groups: named sets of ingress and egress rules that VMs are placed in.

The tables (models), the groups and their VM membership (groups), and the rules (rules). Every
public name is re-exported here, so `core.security_groups` stays the one import path.
"""

from core.errors import NetworkRuleConflict
from core.security_groups.groups import (
    DefaultGroupUndeletable,
    GroupNameTaken,
    attach_to_vm,
    create_security_group,
    delete_security_group,
    detach_from_vm,
    get_security_group,
    groups_of_vm,
    groups_of_vms,
    list_security_groups,
    resolve_for_deploy,
    rules_of,
    vm_ids_of,
)
from core.security_groups.models import (
    ANYWHERE,
    DEFAULT_DESCRIPTION,
    DEFAULT_NAME,
    EGRESS,
    INGRESS,
    NAMED_PROTOCOLS,
    RESOURCE_TYPE,
    RULE_RESOURCE_TYPE,
    SecurityGroup,
    SecurityGroupRule,
    SecurityGroupVm,
)
from core.security_groups.rules import (
    Traffic,
    authorize_rules,
    find_rule,
    list_rules,
    revoke_rule,
    update_rule,
)

__all__ = [
    "ANYWHERE",
    "DEFAULT_DESCRIPTION",
    "DEFAULT_NAME",
    "EGRESS",
    "INGRESS",
    "NAMED_PROTOCOLS",
    "RESOURCE_TYPE",
    "RULE_RESOURCE_TYPE",
    "DefaultGroupUndeletable",
    "GroupNameTaken",
    "NetworkRuleConflict",
    "SecurityGroup",
    "SecurityGroupRule",
    "SecurityGroupVm",
    "Traffic",
    "attach_to_vm",
    "authorize_rules",
    "create_security_group",
    "delete_security_group",
    "detach_from_vm",
    "find_rule",
    "get_security_group",
    "groups_of_vm",
    "groups_of_vms",
    "list_rules",
    "list_security_groups",
    "resolve_for_deploy",
    "revoke_rule",
    "rules_of",
    "update_rule",
    "vm_ids_of",
]
