"""Erasure (``forget-me``): what identifies a person, or what they wrote, wherever the product stored it.

The domain records are erased by their repositories (``bot.commands.reports.forget``). What remains is what
quotes them: stored messages (the coordinator's alert quoting a support note, the mentor's agenda with the
mentee's items, a partner's invite naming them), the inbox events they sent, other people's open
questionnaires, session agenda and action items, and the audit log. :func:`traces_of` gathers what to look for
*before* anything is erased; :func:`erase_traces` then erases it from those places, and once more, by their
chat accounts only, when the accounts are unlinked (:func:`unlink`). The audit log keeps its facts under a
random pseudonym ("participant #a1b2c3"), one per person, that nothing stored leads back from.
"""

from __future__ import annotations

import secrets
from typing import Any

from bot.domain import Person, Tenant
from bot.flows.definition import Flow, load_flow
from bot.intake_flow import intake_flow
from bot.ports import Traces, UnitOfWork
from bot.wording import escape, say

FREE_TEXT = ("text", "long_text")
MIN_TYPED = 8
"""Shorter answers ("yes", "English") are not looked for in other people's messages: they would match
unrelated text. They are erased where they are stored all the same."""
FEEDBACK_FLOWS = {"pulse": "pulse", "midpoint": "survey", "final": "survey", "checkin": "checkin"}


def _free_text(flow: Flow | None, answers: dict[str, Any]) -> list[str]:
    """Answers typed in words: to text questions of ``flow`` (any question when the flow is not known)."""
    kinds = {step.id: step.kind for step in flow.steps} if flow is not None else {}
    return [value for key, value in answers.items() if isinstance(value, str) and kinds.get(key, "text") in FREE_TEXT]


def _flow(flow_id: str | None) -> Flow | None:
    try:
        return load_flow(flow_id) if flow_id else None
    except (FileNotFoundError, ValueError):
        return None


def _written(uow: UnitOfWork, person: Person) -> list[str]:
    """Everything the person wrote that is stored: intake answers, goals, agenda and action items, feedback."""
    texts: list[str] = []
    intake = load_flow("intake")
    for participant in uow.participants.of_person(person.id):
        programme = uow.programmes.get(participant.programme_id)
        texts += _free_text(intake_flow(intake, programme), participant.intake)
        for pair in uow.matching.pairs(participant.programme_id):
            if participant.id in (pair.mentor_id, pair.mentee_id):
                texts += [str(goal.get("text", "")) for goal in pair.goals]
        for session in uow.sessions.of_programme(participant.programme_id):
            if participant.id == session.mentor_id or participant.id in session.mentee_ids:
                texts += [str(i.get("text", "")) for i in session.agenda_items if i.get("by") == person.name]
                texts += session.action_items
        for feedback in uow.feedback.of_programme(participant.programme_id):
            if feedback.person_id == person.id:
                texts += _free_text(_flow(FEEDBACK_FLOWS.get(feedback.kind)), feedback.answers)
    return [text for text in texts if len(text.strip()) >= MIN_TYPED]


def traces_of(uow: UnitOfWork, tenant: Tenant, person: Person) -> Traces:
    """What to look for: the person's name, email (and its ``@name`` form), platform ids, and what they wrote."""
    accounts = set(uow.people.identities(person.id).values())
    user_keys = accounts | ({person.email} if person.email else set())
    words = {person.name, *user_keys, *_written(uow, person)}
    if person.email:
        words.add("@" + person.email.split("@")[0])
    words = {word.strip() for word in words if word and word.strip()}
    return Traces(
        tenant_id=tenant.id,
        person_id=person.id,
        user_keys=frozenset(user_keys),
        words=frozenset(words | {escape(word) for word in words}),
    )


def erase_writing(uow: UnitOfWork, person: Person) -> None:
    """Agenda items the person added, and the action items of the sessions they took part in (action items are
    not signed, so a session's go with either side), are deleted."""
    for participant in uow.participants.of_person(person.id):
        for session in uow.sessions.of_programme(participant.programme_id):
            if participant.id != session.mentor_id and participant.id not in session.mentee_ids:
                continue
            items = [item for item in session.agenda_items if item.get("by") != person.name]
            if items != session.agenda_items or session.action_items:
                session.agenda_items, session.action_items = items, []
                uow.sessions.save(session)


def erase_traces(uow: UnitOfWork, traces: Traces) -> None:
    """Erase the traces from stored messages and open questionnaires; the audit log keeps a pseudonym."""
    uow.erasure.erase_traces(traces, say("privacy.removed"))
    uow.audit.pseudonymise(
        traces.tenant_id, traces.person_id, traces.words, say("privacy.pseudonym", token=secrets.token_hex(3))
    )


def unlink(uow: UnitOfWork, person_id: int) -> None:
    """The farewell went out: what the chat accounts still left (events sent since, the farewell itself, the
    platforms' records of the accounts) is erased, then the accounts are unlinked."""
    person = uow.people.get(person_id)
    accounts = frozenset(uow.people.identities(person_id).values())
    if person is not None:
        traces = Traces(tenant_id=person.tenant_id, person_id=person_id, user_keys=accounts, words=accounts)
        uow.erasure.erase_traces(traces, say("privacy.removed"))
        uow.erasure.forget_accounts(person_id)
    uow.people.unlink_identities(person_id)
