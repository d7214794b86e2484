"""``report`` (summary and charts, ``csv``, ``audit``), ``program close`` and ``forget-me``."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from bot import erasure, grants
from bot.commands.registry import Args
from bot.context import Turn
from bot.directory import LEFT_JOB
from bot.domain import PairStatus, ParticipantStatus, Person, Programme, ProgrammeStatus
from bot.errors import CommandError, required
from bot.model import Address, Attachment, Choice
from bot.ports import ConversationState
from bot.reports.charts import all_charts
from bot.reports.dashboard import build_dashboard, dashboard_message
from bot.reports.evaluation import evaluate
from bot.reports.export import pairs_csv
from bot.reports.health import Health, programme_health, release_notes
from bot.sessions.circles import circles_of
from bot.sessions.places import is_place, set_circle, tell
from bot.sessions.scheduling import cancel_circle
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

FORGET_ACTION = "privacy.forget"
UNLINK_JOB = "forget_identities"
RETENTION_JOB = "programme_retention"


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
    health = programme_health(turn.uow, programme, turn.now)
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


def _send_to_sponsor(turn: Turn, programme: Programme) -> None:
    """Sponsors get the programme's aggregate report (never individual answers). Comments are left out:
    their authors allowed the coordinator to read them (the ``share`` question), nobody else."""
    email = programme.settings.sponsor_email
    sponsor = turn.uow.people.by_email(turn.tenant.id, email) if email else None
    if sponsor is None:
        return
    health = programme_health(turn.uow, programme, turn.now)
    health.comments = []
    charts = [_file(name, "image/png", png, name) for name, png in all_charts(health).items()]
    turn.message(
        Address.person(sponsor.id),
        say("reports.sponsor", programme=programme) + "\n\n" + summary_text(health, turn.now, evaluation=True),
        attachments=charts,
    )


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
    turn.uow.people.forget(person)
    turn.uow.conversations.save(ConversationState(tenant_id=turn.tenant.id, person_id=person.id))
    turn.uow.schedule.cancel(f"intake-reminder:{person.id}:")
    erasure.erase_traces(turn.uow, traces)  # also what this turn just queued for their partners
    # The chat account link goes once the farewell has been delivered through it.
    turn.uow.schedule.add(
        turn.tenant.id, UNLINK_JOB, turn.now + timedelta(hours=1), {"person_id": person.id}, key=f"unlink:{person.id}"
    )
    return ended


def install(engine: Engine) -> None:
    registry = engine.registry

    @registry.handles("report")
    def report(turn: Turn, args: Args, programme: Programme | None) -> None:
        assert programme is not None
        what = args.words[0].lower() if args.words else "summary"
        if what == "csv":
            turn.reply(
                say("reports.csv_ready", programme=programme),
                attachments=[
                    _file(
                        f"{programme.slug}-pairs.csv",
                        "text/csv",
                        pairs_csv(turn.uow, programme, turn.now).encode(),
                        say("reports.csv_title", programme=programme),
                    )
                ],
            )
        elif what == "audit":
            entries = turn.uow.audit.of_programme(programme.id)
            people = turn.uow.people.many([e["person_id"] for e in entries if e["person_id"]])
            turn.reply(
                say(
                    "reports.audit",
                    programme=programme,
                    entries=[
                        {**e, "name": people[e["person_id"]].name if e["person_id"] in people else e["actor"] or "?"}
                        for e in entries
                    ],
                )
            )
        elif what in ("summary", "charts", "evaluation"):
            health = programme_health(turn.uow, programme, turn.now)
            charts = [_file(name, "image/png", png, name) for name, png in all_charts(health).items()]
            turn.reply(summary_text(health, turn.now, what == "evaluation"), attachments=charts)
        else:
            raise CommandError("reports.usage")

    @registry.handles("dashboard")
    def dashboard(turn: Turn, _args: Args, _programme: Programme | None) -> None:
        board = dashboard_message(
            build_dashboard(turn.uow, turn.me, registry, turn.now), turn.tenant.id, turn.me.id, ""
        )
        turn.reply(board.text, sections=board.sections, choices=board.choices, context=board.context)

    @registry.handles("program close")
    def close(turn: Turn, _args: Args, programme: Programme | None) -> None:
        assert programme is not None
        if programme.status == ProgrammeStatus.CLOSED:
            raise CommandError("reports.already_closed", programme=programme)
        final = health_text(turn, programme)
        _send_to_sponsor(turn, programme)
        for circle in circles_of(turn.uow, programme):
            cancel_circle(turn, turn.uow.sessions.of_circle(circle.key))
            for pair in circle.pairs:
                pair.status, pair.ended_at, pair.end_reason = PairStatus.ENDED, turn.now, "programme closed"
                turn.uow.matching.save_pair(pair)
        programme.status = ProgrammeStatus.CLOSED
        turn.uow.programmes.save(programme)
        turn.uow.schedule.add(
            turn.tenant.id,
            RETENTION_JOB,
            turn.now + timedelta(days=programme.settings.retention_days),
            {"programme_id": programme.id},
            key=f"retention:{programme.id}",
        )
        turn.reply(say("reports.closed", programme=programme, health=final, days=programme.settings.retention_days))

    @engine.on_due(RETENTION_JOB)
    def retention(turn: Turn, payload: dict[str, Any]) -> None:
        """The retention period after a programme closed has passed: purge its participants' personal data."""
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

    @registry.handles("forget-me")
    def forget_me(turn: Turn, _args: Args, _programme: Programme | None) -> None:
        turn.reply(
            say("reports.forget_question"),
            choices=[Choice(label=say("reports.forget_label"), action=FORGET_ACTION, value="yes", style="danger")],
        )

    @engine.on_action(FORGET_ACTION)
    def forget_action(turn: Turn, _action: Any) -> None:
        forget(turn, turn.me)
        turn.reply(say("reports.forgotten"), kind="farewell")

    @engine.on_due(LEFT_JOB)
    def left_organisation(turn: Turn, payload: dict[str, Any]) -> None:
        """A directory import no longer lists this person: they stop taking part (the runtime sends them nothing)."""
        person = turn.uow.people.get(int(payload["person_id"]))
        if person is not None and person.left_at is not None:
            end_participation(turn, person, forgetting=False)
            turn.uow.schedule.cancel(f"intake-reminder:{person.id}:")

    @engine.on_due(UNLINK_JOB)
    def unlink(turn: Turn, payload: dict[str, Any]) -> None:
        erasure.unlink(turn.uow, int(payload["person_id"]))
