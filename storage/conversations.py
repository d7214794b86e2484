"""Each person's conversation with the bot (``conversation_state``): the open questionnaire, its answers so far,
the questionnaires waiting behind it, and the programme they last spoke about."""

from __future__ import annotations

from bot.ports import ConversationState
from storage.repositories import _Repo
from storage.sql import keep
from storage.tables import ConversationStateRow

_NO_STATE = "rmbot.no_conversation_state"


class ConversationRepo(_Repo):
    def load(self, tenant_id: int, person_id: int) -> ConversationState:
        row = keep(self.session, self.session.get(ConversationStateRow, person_id))
        if row is None:
            self.session.info.setdefault(_NO_STATE, set()).add(person_id)  # its first save need not look again
            return ConversationState(tenant_id=tenant_id, person_id=person_id)
        return ConversationState(
            tenant_id=row.tenant_id,
            person_id=row.person_id,
            flow=row.flow,
            flow_version=row.flow_version,
            step=row.step,
            answers=dict(row.answers),
            history=list(row.history),
            context=dict(row.context),
            suspended=dict(row.suspended),
            waiting=[dict(entry) for entry in row.waiting or []],
            current_programme_id=row.current_programme_id,
        )

    def save(self, state: ConversationState) -> None:
        absent: set[int] = self.session.info.get(_NO_STATE, set())
        stored = None if state.person_id in absent else self.session.get(ConversationStateRow, state.person_id)
        absent.discard(state.person_id)
        row = stored or ConversationStateRow(person_id=state.person_id, tenant_id=state.tenant_id)
        row.flow, row.flow_version, row.step = state.flow, state.flow_version, state.step
        row.answers, row.history, row.context = dict(state.answers), list(state.history), dict(state.context)
        row.suspended = dict(state.suspended)
        row.waiting = [dict(entry) for entry in state.waiting]
        row.current_programme_id = state.current_programme_id
        row.updated_at = self.now()
        self.session.add(row)
        self.session.flush()
        keep(self.session, row)
