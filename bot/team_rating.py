"""The anonymous team rating: each mentee's direct reports rate them on the programme's goal, at the start
(the baseline) and near the end of the term.

The mentee hears of it first, in plain words: what their team is asked, and who sees what (nobody sees an
answer on its own; coordinators, and a sponsor, see totals over every mentee's team of at least *k*
people). With the programme's ``team_rating_agreement`` setting the team is asked only once the mentee
agrees; without their agreement it is never asked, and coordinators see only how many mentees agreed, said
no or have not answered (``status``). Someone who said no is never asked about again, whatever the setting.
Where each mentee stands is kept in their participant's ``notices`` under :data:`NOTICE`.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.context import Turn
from bot.domain import Participant, ParticipantStatus, Person, Programme, ProgrammeStatus, Role
from bot.errors import CommandError
from bot.feedback import TEAM, TEAM_JOB, closes, taking_part, target_turn
from bot.model import Action, Address, Choice
from bot.ports import UnitOfWork
from bot.wording import say

if TYPE_CHECKING:
    from bot.engine import Engine

AGREEMENT_ACTION = "team.agreement"
NOTICE = "team_rating"
"""``notices[NOTICE]``: ``{"state": told | asked | agreed | declined, "waiting": [phases not yet asked]}``."""
STATES = ("agreed", "declined", "asked")


def team_of(uow: UnitOfWork, person_id: int) -> list[Person]:
    """The mentee's direct reports who can be asked (not opted out, still in the organisation)."""
    return [m for m in uow.people.reports(person_id) if not m.opted_out and not m.left_at]


def may_ask(programme: Programme, state: str | None) -> bool:
    """Whether a mentee's team may be asked: never after a no; with the setting on, only after a yes."""
    if state == "declined":
        return False
    return state == "agreed" or not programme.settings.team_rating_agreement


def agreements(uow: UnitOfWork, programme: Programme) -> dict[str, int] | None:
    """For ``status``, with the setting on: how many mentees agreed, said no, or were asked and have not
    answered (a count, never who); None when the programme does not ask for agreement."""
    if not programme.settings.team_rating_agreement:
        return None
    counts = dict.fromkeys(STATES, 0)
    for participant in uow.participants.in_programme(programme.id):
        state = (participant.notices.get(NOTICE) or {}).get("state")
        if participant.role == Role.MENTEE and state in counts:
            counts[state] += 1
    return counts if any(counts.values()) else None


def _ask_team(engine: Engine, turn: Turn, programme: Programme, mentee: Person, phase: str) -> None:
    """Open the rating for each team member who has not answered this phase yet."""
    for member in team_of(turn.uow, mentee.id):
        if turn.uow.feedback.exists(member.id, f"team_{phase}", f"{phase}:{mentee.id}"):
            continue
        engine.flows.start(
            target_turn(turn, member.id),
            TEAM,
            {
                "key": f"team-{programme.id}-{phase}-{mentee.id}",
                "programme_id": programme.id,
                "phase": phase,
                "mentee": mentee.id,
                "manager": mentee.name,
                "programme": programme.name,
                "metric": programme.goal_metric or programme.name,
                "threshold": programme.settings.anonymity_threshold,
            },
            nudge=True,
            expires_at=closes(programme),
        )


def _tell(turn: Turn, programme: Programme, participant: Participant, count: int, asking: bool) -> None:
    """The mentee's notice: what their team is asked and who sees what; with buttons when it asks them."""
    choices = []
    if asking:
        choices = [
            Choice(
                label=say("feedback.team_agree_label"),
                action=AGREEMENT_ACTION,
                value=f"{participant.id}:yes",
                style="primary",
            ),
            Choice(label=say("feedback.team_decline_label"), action=AGREEMENT_ACTION, value=f"{participant.id}:no"),
        ]
    turn.message(
        Address.person(participant.person_id),
        say(
            "feedback.team_notice",
            programme=programme,
            metric=programme.goal_metric or programme.name,
            count=count,
            k=programme.settings.anonymity_threshold,
            sponsor=bool(programme.settings.sponsor_email),
            agreement=asking,
        ),
        choices=choices,
        programme_id=programme.id,
    )


def team_survey(engine: Engine, turn: Turn, payload: dict[str, Any]) -> None:
    """The ``team_survey`` job of one phase: tell each mentee who has a team (asking for agreement where the
    programme wants it) before their team is asked, then ask the teams that may be asked."""
    programme = turn.uow.programmes.get(int(payload.get("programme_id", 0)))
    if programme is None:
        return
    phase = str(payload.get("phase"))
    for participant in taking_part(turn, programme):
        mentee = turn.uow.people.get(participant.person_id)
        team = team_of(turn.uow, participant.person_id)
        if participant.role != Role.MENTEE or mentee is None or not team:
            continue
        notice = dict(participant.notices.get(NOTICE) or {})
        state = notice.get("state")
        wants_agreement = programme.settings.team_rating_agreement and state in (None, "told")
        if state is None or wants_agreement:
            _tell(turn, programme, participant, len(team), asking=wants_agreement)
            state = "asked" if wants_agreement else "told"
        if may_ask(programme, state):
            _ask_team(engine, turn, programme, mentee, phase)
        elif state != "declined":
            notice["waiting"] = sorted({*notice.get("waiting", []), phase})
        participant.notices = {**participant.notices, NOTICE: {**notice, "state": state}}
        turn.uow.participants.save(participant)


def on_agreement(engine: Engine, turn: Turn, action: Action) -> None:
    """The mentee's yes or no; a yes asks their team for the phases that waited for it (while the term runs)."""
    number, _, answer = action.value.partition(":")
    participant = turn.uow.participants.get(int(number)) if number.isdigit() else None
    if participant is None or participant.person_id != turn.me.id or answer not in ("yes", "no"):
        raise CommandError("feedback.team_not_yours")
    programme = turn.uow.programmes.get(participant.programme_id)
    assert programme is not None
    notice = dict(participant.notices.get(NOTICE) or {})
    notice["state"] = "agreed" if answer == "yes" else "declined"
    waiting, notice["waiting"] = notice.get("waiting", []), []
    participant.notices = {**participant.notices, NOTICE: notice}
    turn.uow.participants.save(participant)
    running = programme.status != ProgrammeStatus.CLOSED and participant.status == ParticipantStatus.ACTIVE
    if answer == "yes" and running and (programme.ends_on is None or turn.now.date() <= programme.ends_on):
        for phase in waiting:
            _ask_team(engine, turn, programme, turn.me, phase)
    turn.reply(say("feedback.team_agreed" if answer == "yes" else "feedback.team_declined", programme=programme))


def install(engine: Engine) -> None:
    @engine.on_due(TEAM_JOB)
    def team_job(turn: Turn, payload: dict[str, Any]) -> None:
        team_survey(engine, turn, payload)

    @engine.on_action(AGREEMENT_ACTION)
    def agreement(turn: Turn, action: Action) -> None:
        on_agreement(engine, turn, action)
