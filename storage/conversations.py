"""Each person's conversation with the bot (``conversation_state``): the open questionnaire, its answers so far,
the questionnaires waiting behind it, and the programme they last spoke about.

Read and written as rows with Core statements, never as ORM instances: every answer a person types reads and saves
their conversation, and the ORM's flush cost more than the statement it sent. The row read or written is held for
the unit of work, so a turn reads it once."""

from __future__ import annotations

from functools import cache
from typing import Any

from sqlalchemy import Executable, bindparam, inspect, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.ports import ConversationState
from storage.repositories import _Repo
from storage.sql import remember_as, remembered, table
from storage.tables import ConversationStateRow

_STATES = table(ConversationStateRow)
_TABLES = ("conversation_state",)
_BY_PERSON = select(_STATES).where(_STATES.c.person_id == bindparam("person_id"))
_KEY = inspect(ConversationStateRow).identity_key_from_primary_key


class ConversationRepo(_Repo):
    def load(self, tenant_id: int, person_id: int) -> ConversationState:
        row = remembered(self.session, ("conversation", person_id), _TABLES, lambda: self._read(person_id))
        if row is None:
            return ConversationState(tenant_id=tenant_id, person_id=person_id)
        return ConversationState(
            tenant_id=row["tenant_id"],
            person_id=row["person_id"],
            flow=row["flow"],
            flow_version=row["flow_version"],
            step=row["step"],
            answers=dict(row["answers"]),
            history=list(row["history"]),
            context=dict(row["context"]),
            suspended=dict(row["suspended"]),
            waiting=[dict(entry) for entry in row["waiting"] or []],
            current_programme_id=row["current_programme_id"],
        )

    def save(self, state: ConversationState) -> None:
        row = {
            "person_id": state.person_id,
            "tenant_id": state.tenant_id,
            "flow": state.flow,
            "flow_version": state.flow_version,
            "step": state.step,
            "answers": dict(state.answers),
            "history": list(state.history),
            "context": dict(state.context),
            "suspended": dict(state.suspended),
            "waiting": [dict(entry) for entry in state.waiting],
            "current_programme_id": state.current_programme_id,
            "updated_at": self.now(),
        }
        self.session.execute(_upsert(self.session.get_bind().dialect.name), row)
        if (instance := self.session.identity_map.get(_KEY((state.person_id,)))) is not None:
            self.session.expire(instance)  # loaded by another reader of this unit of work: read again on its next use
        remember_as(self.session, ("conversation", state.person_id), _TABLES, row)

    def _read(self, person_id: int) -> dict[str, Any] | None:
        found = self.session.execute(_BY_PERSON, {"person_id": person_id}).one_or_none()
        return None if found is None else dict(found._mapping)


@cache
def _upsert(dialect_name: str) -> Executable:
    """INSERT ... ON CONFLICT (person_id) DO UPDATE, built once per dialect."""
    dialect = sqlite if dialect_name == "sqlite" else postgresql
    statement = dialect.insert(_STATES).values(
        {column.name: bindparam(column.name, type_=column.type) for column in _STATES.c}
    )
    return statement.on_conflict_do_update(
        index_elements=["person_id"],
        set_={name: statement.excluded[name] for name in _STATES.c.keys() if name != "person_id"},
    )
