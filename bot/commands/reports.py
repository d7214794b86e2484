"""``report`` (summary and charts, ``csv``, ``audit``), ``dashboard``, ``program close``, and the privacy
handlers: ``forget-me``, the purge after a closed programme's retention period, someone leaving the
organisation, and unlinking a forgotten person's chat accounts.

The report use cases are :class:`bot.services.reports.ReportService`'s; these handlers render them.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from bot import erasure, grants
from bot.commands.registry import Args, vocabulary
from bot.context import Turn
from bot.directory import LEFT_JOB
from bot.domain import PairStatus, ParticipantStatus, Person, Programme, ProgrammeStatus
from bot.errors import CommandError, required
from bot.handling import Handling, OnAction, OnCommand, OnDue
from bot.model import Action, Address, Attachment, Choice
from bot.payloads import ActionPayload, MalformedAction
from bot.ports import ConversationState
from bot.reports.dashboard import dashboard_message
from bot.reports.evaluation import evaluate
from bot.reports.health import Health, release_notes
from bot.services.programmes import RETENTION_JOB, ProgrammeService
from bot.services.reports import Report, ReportService
from bot.sessions.circles import circles_of
from bot.sessions.places import is_place, set_circle, tell
from bot.sessions.scheduling import cancel_circle
from bot.wording import say

FORGET_ACTION = "privacy.forget"
UNLINK_JOB = "forget_identities"


@dataclass(frozen=True)
class ForgetValue(ActionPayload):
    """The ``forget-me`` confirmation: ``yes``."""

    answer: str


def needs(health: Health) -> dict[str, str]:
    """Per main figure, in plain words, what it still needs before it may be shown: how many more
    answers, or that too few people can ever answer for the programme's threshold."""
    who = {"pulse": "pulse", "goal": "goal", "team:baseline": "team", "team:end": "team"}
    return {
        name: say(
            "reports.needs",
            k=health.k,
            answered=health.answered.get(name, 0),
            possible=health.can_answer.get(name, 0),
            who=say(f"reports.needs_who_{kind}"),
            next=health.next_release,
        )
        for name, kind in who.items()
    }


def health_text(turn: Turn, programme: Programme) -> str:
    """The health lines shared by ``status`` and ``report``."""
    health = ReportService.of(turn.uow).health(programme, turn.now)
    return say("reports.health", h=health, needs=needs(health), notes=release_notes(health))


def summary_text(health: Health, now: datetime, evaluation: bool = False) -> str:
    """The report's summary; with the end-of-term evaluation once the term is over (or when asked)."""
    programme = health.programme
    text = say("reports.summary", h=health, programme=programme, needs=needs(health), notes=release_notes(health))
    over = programme.status == ProgrammeStatus.CLOSED or (
        programme.ends_on is not None and now.date() >= programme.ends_on
    )
    if evaluation or over:
        text += "\n" + say("reports.evaluation", h=health, programme=programme, e=evaluate(health), needs=needs(health))
    return text


def _file(name: str, media_type: str, content: bytes, title: str) -> Attachment:
    return Attachment(filename=name, media_type=media_type, content_b64=base64.b64encode(content).decode(), title=title)


def _charts(report: Report) -> list[Attachment]:
    return [_file(name, "image/png", png, name) for name, png in report.charts.items()]


def end_participation(turn: Turn, person: Person, forgetting: bool) -> int:
    """End every place ``person`` holds: their sessions are cancelled, their partners told only that the
    pairing ended. ``forgetting`` also erases their goals and answers; returns how many pairs ended."""
    ended = 0
    for participant in turn.uow.participants.of_person(person.id):
        if not forgetting and participant.status in (ParticipantStatus.DECLINED, ParticipantStatus.LEFT):
            continue
        programme = required(turn.uow.programmes.get(participant.programme_id), "programme", participant.programme_id)
        for circle in circles_of(turn.uow, programme):
            if participant.id not in {m.id for m in circle.members}:
                continue
            if is_place(circle, participant.id):  # in a group, only their own place ends
                set_circle(turn, circle, PairStatus.ENDED, "left", who=participant.id)
                for pair in circle.pairs:
                    if pair.mentee_id == participant.id:
                        pair.goals = [] if forgetting else pair.goals
                        turn.uow.matching.save_pair(pair)
                        ended += 1
                continue
            cancel_circle(turn, turn.uow.sessions.of_circle(circle.key))
            for pair in circle.pairs:
                if participant.id in (pair.mentor_id, pair.mentee_id):
                    pair.status, pair.ended_at, pair.end_reason = PairStatus.ENDED, turn.now, "left"
                    pair.goals = [] if forgetting else pair.goals
                    turn.uow.matching.save_pair(pair)
                    ended += 1
            for member in circle.members:
                if member.person_id != person.id:  # someone who paused hears of it when they resume
                    tell(turn, member.id, say("matching.pair_ended_notice", programme=programme))
        participant.status = ParticipantStatus.LEFT
        if forgetting:
            participant.intake, participant.notices = {}, {}
        turn.uow.participants.save(participant)
    return ended


def forget(turn: Turn, person: Person) -> int:
    """Delete a person's personal data; aggregates stay, anonymous. Partners learn only that pairs ended.
    What quotes or names them elsewhere (stored messages, the audit log) is erased last (``bot.erasure``)."""
    traces = erasure.traces_of(turn.uow, turn.tenant, person)  # before anything they wrote is erased
    erasure.erase_writing(turn.uow, person)
    ended = end_participation(turn, person, forgetting=True)
    grants.forget(turn.uow, turn.tenant, person)  # before the email is erased: grants are found by it
    turn.uow.feedback.forget(person.id)
    turn.uow.figures.forget(person.id)  # released figures keep their bases, which no longer lead to the person
    turn.uow.directory_sync.forget(person.id)  # what a directory sync kept of them
    turn.uow.people.forget(person)
    turn.uow.conversations.save(ConversationState(tenant_id=turn.tenant.id, person_id=person.id))
    turn.uow.schedule.cancel(f"intake-reminder:{person.id}:")
    erasure.erase_traces(turn.uow, traces)  # also what this turn just queued for their partners
    # The chat account link goes once the farewell has been delivered through it.
    turn.uow.schedule.add(
        turn.tenant.id, UNLINK_JOB, turn.now + timedelta(hours=1), {"person_id": person.id}, key=f"unlink:{person.id}"
    )
    return ended


def report(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``report [summary|charts|evaluation|csv|audit]``."""
    assert programme is not None
    what = args.words[0].lower() if args.words else "summary"
    service = ReportService.of(turn.uow)
    if what == "csv":
        csv_file = _file(
            f"{programme.slug}-pairs.csv",
            "text/csv",
            service.pairs_csv(programme, turn.now).encode(),
            say("reports.csv_title", programme=programme),
        )
        turn.reply(say("reports.csv_ready", programme=programme), attachments=[csv_file])
    elif what == "audit":
        turn.reply(say("reports.audit", programme=programme, entries=service.audit(programme)))
    elif what in ("summary", "charts", "evaluation"):
        found = service.report(programme, turn.now)
        turn.reply(summary_text(found.health, turn.now, what == "evaluation"), attachments=_charts(found))
    else:
        raise CommandError("reports.usage")


def dashboard(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    """``dashboard``: the person's own dashboard, as on the Slack App Home and the Teams card."""
    board = ReportService.of(turn.uow).dashboard(turn.me, vocabulary(), turn.now)
    message = dashboard_message(board, turn.tenant.id, turn.me.id, "")
    turn.reply(message.text, sections=message.sections, choices=message.choices, context=message.context)


def close(turn: Turn, _args: Args, programme: Programme | None) -> None:
    """``program close``: the sponsor gets the aggregates, every pair ends, and the purge follows the retention
    period."""
    assert programme is not None
    closing = ReportService.of(turn.uow).closing(programme, turn.now)
    final = say("reports.health", h=closing.health, needs=needs(closing.health), notes=release_notes(closing.health))
    if closing.sponsor is not None and closing.sponsor_report is not None:
        found = closing.sponsor_report
        turn.message(
            Address.person(closing.sponsor.id),
            say("reports.sponsor", programme=programme)
            + "\n\n"
            + summary_text(found.health, turn.now, evaluation=True),
            attachments=_charts(found),
        )
    ProgrammeService.of(turn.uow).close(turn, programme)
    turn.reply(say("reports.closed", programme=programme, health=final, days=programme.settings.retention_days))


def retention(turn: Turn, payload: dict[str, Any]) -> None:
    """The retention period after a programme closed has passed: purge its participants' personal data
    (except of those who still take part in another programme, or opted out)."""
    programme = turn.uow.programmes.get(int(payload.get("programme_id", 0)))
    if programme is None or programme.status != ProgrammeStatus.CLOSED:
        return
    for participant in turn.uow.participants.in_programme(programme.id):
        elsewhere = [
            p
            for p in turn.uow.participants.of_person(participant.person_id)
            if p.programme_id != programme.id
            and p.status in (ParticipantStatus.ACTIVE, ParticipantStatus.INVITED, ParticipantStatus.PAUSED)
            and (turn.uow.programmes.get(p.programme_id) or programme).status != ProgrammeStatus.CLOSED
        ]
        person = turn.uow.people.get(participant.person_id)
        if person is not None and not elsewhere and not person.opted_out:
            forget(turn, person)


def forget_me(turn: Turn, _args: Args, _programme: Programme | None) -> None:
    """``forget-me``: ask to confirm."""
    button = Choice(
        label=say("reports.forget_label"), action=FORGET_ACTION, value=ForgetValue("yes").encode(), style="danger"
    )
    turn.reply(say("reports.forget_question"), choices=[button])


def forget_action(turn: Turn, action: Action) -> None:
    """The ``forget-me`` confirmation: erase the person, and say goodbye."""
    if ForgetValue.decode(action.value).answer != "yes":
        raise MalformedAction()
    forget(turn, turn.me)
    turn.reply(say("reports.forgotten"), kind="farewell")


def left_organisation(turn: Turn, payload: dict[str, Any]) -> None:
    """A directory import no longer lists this person: they stop taking part (the runtime sends them nothing)."""
    person = turn.uow.people.get(int(payload["person_id"]))
    if person is not None and person.left_at is not None:
        end_participation(turn, person, forgetting=False)
        turn.uow.schedule.cancel(f"intake-reminder:{person.id}:")


def unlink(turn: Turn, payload: dict[str, Any]) -> None:
    """An hour after ``forget-me``: the chat accounts of the forgotten person are unlinked."""
    erasure.unlink(turn.uow, int(payload["person_id"]))


HANDLERS: tuple[Handling, ...] = (
    OnCommand("report", report),
    OnCommand("dashboard", dashboard),
    OnCommand("program close", close),
    OnDue(RETENTION_JOB, retention),
    OnCommand("forget-me", forget_me),
    OnAction(FORGET_ACTION, forget_action),
    OnDue(LEFT_JOB, left_organisation),
    OnDue(UNLINK_JOB, unlink),
)
