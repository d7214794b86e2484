"""Fuzzing the platform endpoints: real payloads broken at random, and what must hold after every example.

Whatever arrives: the answer is never a 5xx, the worker logs no unhandled exception, no event is left failing
in the inbox, and a person we know who typed something gets a clear answer, never the apology for something
that went wrong.
"""

from __future__ import annotations

import copy
import logging
import os
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from aiohttp.http_exceptions import LineTooLong
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from bot.wording import say
from storage.store import SqlStore
from storage.tables import InboxEventRow, OutboxMessageRow

FUZZ = settings(
    max_examples=int(os.environ.get("FUZZ_EXAMPLES", "60")),
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow, HealthCheck.data_too_large],
)

# -- breaking JSON --------------------------------------------------------------------------------------

HUGE = st.integers(100_000, 200_000).map(lambda n: "x" * n)
ODD_TEXT = HUGE | st.sampled_from(
    [
        "",
        " ",
        "\u0000",
        "null",
        "{}",
        "[]",
        "%s %(x)s {0}",
        "\U0001f600" * 40,
        "<!channel> <@W222> <#C1|x>",
        "U" * 300,
        "-1",
        "1e400",
        "\u202e",
        "a\r\nb",
    ]
)
SCALARS = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**70), max_value=2**70),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=40),
    ODD_TEXT,
)
JSONISH = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=10), inner, max_size=3),
    max_leaves=6,
)
HOW = st.sampled_from(["drop", "replace", "odd text", "wrap in list", "wrap in object", "empty object"])


def paths(value: Any, prefix: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    """Every place inside ``value`` (keys of objects, positions of lists), outermost first."""
    items = value.items() if isinstance(value, dict) else enumerate(value) if isinstance(value, list) else ()
    for key, inner in items:
        yield (*prefix, key)
        yield from paths(inner, (*prefix, key))


def mangle(data: st.DataObject, value: Any, keep: tuple[str, ...] = ()) -> Any:
    """``value`` broken in one to three places (never under the keys in ``keep``)."""
    value = copy.deepcopy(value)
    for _ in range(data.draw(st.sampled_from([1, 1, 1, 2, 2, 3]), label="mutations")):
        places = [p for p in paths(value) if p[0] not in keep]
        if not places:
            break
        where = data.draw(st.sampled_from(places), label="where")
        parent = value
        for key in where[:-1]:
            parent = parent[key]
        key, how = where[-1], data.draw(HOW, label="how")
        if how == "drop":
            del parent[key]
        elif how == "replace":
            parent[key] = data.draw(JSONISH, label="new value")
        elif how == "odd text":
            parent[key] = data.draw(ODD_TEXT, label="odd text")
        elif how == "wrap in list":
            parent[key] = [parent[key]]
        elif how == "wrap in object":
            parent[key] = {"value": parent[key]}
        else:
            parent[key] = {}
    return value


# -- what must hold after every example ---------------------------------------------------------------


class Errors(logging.Handler):
    """Every ERROR record, and any record carrying an exception, anywhere in the process."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.exc_info and isinstance(record.exc_info[1], LineTooLong):
            return  # the fake platform's server refusing a request line of 100 kB (a user id that long)
        if record.levelno >= logging.ERROR or record.exc_info:
            self.records.append(record)

    def problems(self) -> list[str]:
        return [f"{r.name}: {r.getMessage()}\n{self.format(r) if r.exc_info else ''}" for r in self.records]


@contextmanager
def logged_errors() -> Iterator[Errors]:
    """Collect the error records logged anywhere in the process while inside."""
    handler = Errors()
    handler.setFormatter(logging.Formatter("%(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield handler
    finally:
        root.removeHandler(handler)


def last_ids(store: SqlStore) -> tuple[int, int]:
    """The last inbox event id and the last outbox message id so far."""
    with store.unit_of_work() as uow:
        inbox = uow.session.execute(select(func.max(InboxEventRow.id))).scalar_one() or 0
        outbox = uow.session.execute(select(func.max(OutboxMessageRow.id))).scalar_one() or 0
    return inbox, outbox


def check_outcome(
    store: SqlStore, errors: Errors, since: tuple[int, int], people: dict[tuple[str, str], int], sent: Any
) -> None:
    """No error logged; every new event handled at the first attempt; people we know who typed were answered."""
    assert errors.problems() == [], (errors.problems(), sent)
    apology = say("errors.gave_up")
    with store.unit_of_work() as uow:
        events = uow.session.execute(select(InboxEventRow).where(InboxEventRow.id > since[0])).scalars().all()
        messages = uow.session.execute(select(OutboxMessageRow).where(OutboxMessageRow.id > since[1])).scalars().all()
        event(f"{len(events)} event(s) accepted, {len(messages)} message(s) sent")
        for row in events:
            assert (row.status, row.attempts) == ("done", 0), (row.last_error, sent)
        for message in messages:
            # an activity may have uninstalled the app: its messages then wait for the next install
            held = message.status == "pending" and message.held_for_install
            assert message.status == "sent" or held, (message.status, message.last_error, sent)
            assert message.payload["text"].strip() and message.payload["text"] != apology, sent
        for row in events:
            who = people.get((row.tenant_key, row.user_key))
            if who is not None and row.payload.get("kind") in ("message", "command"):
                assert any(who in m.recipients for m in messages), (f"no answer to {row.user_key}", sent)


def person_ids(store: SqlStore, platform: str, tenant: str, users: list[str]) -> dict[tuple[str, str], int]:
    """(tenant, user id) -> person id of the people the harness seeded."""
    with store.unit_of_work() as uow:
        found = uow.tenants.find(platform, tenant)
        assert found is not None
        return {
            (tenant, user): uow.people.by_identity(found.id, platform, user).id  # type: ignore[union-attr]
            for user in users
        }
