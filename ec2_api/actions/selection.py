"""The rows a call names by EC2 id, and AWS's answer when some are not the caller's.

One rule for every family (volumes, snapshots, images, instances …): each id asked for is
decoded first, so a malformed one is its prefix's `….Malformed`; then the ids that name no
row the caller may see are reported together, in the family's `….NotFound` words.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from typing import Any, TypeVar

from ec2_api.call import Call
from ec2_api.errors import Ec2Error

Row = TypeVar("Row", bound=Any)  # a core model with an integer `id`


def by_ec2_ids(
    call: Call,
    prefix: str,
    ec2_ids: Sequence[str],
    lookup: Callable[[tuple[int, ...]], Iterable[Row]],
    not_found: Callable[[list[str]], Ec2Error],
) -> dict[str, Row]:
    """EC2 id → row for every id asked for, in the order asked and each once; `lookup` gives
    the caller's rows among the decoded core ids."""
    wanted = {ec2_id: call.ids.decode(prefix, ec2_id) for ec2_id in dict.fromkeys(ec2_ids)}
    core_ids = tuple(core_id for core_id in wanted.values() if core_id is not None)
    found = {row.id: row for row in lookup(core_ids)} if core_ids else {}
    missing = [ec2_id for ec2_id, core_id in wanted.items() if core_id not in found]
    if missing:
        raise not_found(missing)
    return {ec2_id: found[core_id] for ec2_id, core_id in wanted.items() if core_id is not None}
