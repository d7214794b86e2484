"""Refusals that undo what the refused command changed, without a savepoint around every command.

A command (or a button, or an answer) is refused by raising :class:`~bot.errors.CommandError`: the person is
told why, and nothing the refused part of the turn changed may stay. Most refusals come before anything is
written, and then there is nothing to undo. When one comes after the turn wrote, the whole turn is undone
(:class:`UndoTurn` rolls back the runtime's unit of work) and the event is handled again from the start; the
refusal is then given where it came (the same :func:`refusable` block, counted in the order the turn enters
them) without running what raised it. A turn is deterministic given its event, its moment and the store, so
the second pass reaches the same point, and a refusal costs two passes instead of every command costing a
savepoint.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

from bot.errors import CommandError
from bot.ports import UnitOfWork


class UndoTurn(Exception):  # noqa: N818 - an instruction to the runtime, not an error
    """A refusal came after the turn had written: roll the whole turn back and handle the event again, giving
    ``problem`` at the :func:`refusable` block numbered ``at``."""

    def __init__(self, at: int, problem: CommandError) -> None:
        super().__init__(problem.key)
        self.at = at
        self.problem = problem


@dataclass
class Refusals:
    """The refusals a turn gives from an earlier pass (by block number), and how many blocks it entered."""

    given: dict[int, CommandError] = field(default_factory=dict)
    entered: int = 0


@contextmanager
def refusable(uow: UnitOfWork, refusals: Refusals) -> Iterator[None]:
    """A part of a turn that a :class:`CommandError` refuses as a whole: the error propagates as it is when the
    part wrote nothing, and as :class:`UndoTurn` when it did. On a second pass, a refusal given for this block is
    raised at once."""
    refusals.entered += 1
    at = refusals.entered
    given = refusals.given.get(at)
    if given is not None:
        raise given
    mark = uow.mark()
    try:
        yield
    except CommandError as problem:
        if uow.changed_since(mark):
            raise UndoTurn(at, problem) from problem
        raise
