"""State machines as data, moved by a conditional UPDATE.

A resource family declares its states, its events and one table of every legal
(state, event) → state; `StateMachine` does the rest, once for every family:

- `next_state` looks the pair up, or raises InvalidState (the request is not legal now);
- `move` writes the new state with `UPDATE … WHERE id = :id AND state = :old`, so that two
  concurrent requests cannot both move the same row: the loser sees zero rows changed,
  reloads the row and gets InvalidState for the state the winner left it in.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Generic, TypeVar

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.errors import InvalidState

S = TypeVar("S", bound=str)  # a StrEnum of states (or plain strings)
E = TypeVar("E", bound=str)  # a StrEnum of events (or plain strings)


def operation_of(event: str) -> str:
    """What an InvalidState message says could not be done: "destroy requested" → "destroy"."""
    return str(event).removesuffix(" requested")


class StateMachine(Generic[S, E]):
    """One family's transition table and the mechanism that applies it to rows.

    `kind` names the resource in InvalidState ("VM", "Volume" …); `states` converts a stored
    value to a state (the enum, or `str`); `column` is the attribute holding the state.
    `stamp` gives extra column values written with every move (e.g. when the state changed).
    """

    def __init__(
        self,
        kind: str,
        states: type[S],
        transitions: Mapping[tuple[S, E], S],
        *,
        column: str = "state",
        stamp: Callable[[], dict[str, Any]] | None = None,
    ) -> None:
        self.kind = kind
        self.states = states
        self.transitions = transitions
        self.column = column
        self.stamp = stamp

    def next_state(self, state: S | str, event: E, ident: object = "") -> S:
        """The state after `event`, or InvalidState when the table has no such transition."""
        try:
            return self.transitions[(self.states(state), event)]
        except (KeyError, ValueError):
            raise InvalidState(self.kind, ident, str(state), operation_of(event)) from None

    def move(self, session: Session, row: Any, event: E) -> None:
        """Move `row` (a model with id, uuid and the state column) along the table, failing
        with InvalidState if another request moved it first."""
        current = getattr(row, self.column)
        target = self.next_state(current, event, row.uuid)
        model = type(row)
        values = {self.column: target, **(self.stamp() if self.stamp else {})}
        changed = session.execute(
            sa.update(model)
            .where(model.id == row.id, getattr(model, self.column) == current)
            .values(**values)
            .execution_options(synchronize_session=False)
        ).rowcount  # type: ignore[attr-defined]
        if changed != 1:
            session.refresh(row)
            raise InvalidState(self.kind, row.uuid, getattr(row, self.column), operation_of(event))
        setattr(row, self.column, target)
