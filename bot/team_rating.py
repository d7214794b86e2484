"""The anonymous team rating: each mentee's direct reports rate them on the programme's goal, at the start
(the baseline) and near the end of the term.

The mentee hears of it first, in plain words: what their team is asked, and who sees what (nobody sees an
answer on its own; coordinators, and a sponsor, see totals over every mentee's team of at least *k*
people). With the programme's ``team_rating_agreement`` setting the team is asked only once the mentee
agrees; without their agreement it is never asked, and coordinators see only how many mentees agreed, said
no or have not answered (``status``). Someone who said no is never asked about again, whatever the setting.
Where each mentee stands is kept in their participant's ``notices`` under
:data:`bot.services.feedback.NOTICE`; the use cases are :class:`bot.services.feedback.FeedbackService`'s.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.context import Turn
from bot.domain import Person, Programme
from bot.handling import Handling, OnAction, OnDue, OnFlow
from bot.model import Action, Address, Choice
from bot.payloads import ActionPayload
from bot.ports import UnitOfWork
from bot.services.feedback import TEAM, TEAM_JOB, FeedbackService, TeamStep, closes
from bot.wording import say

AGREEMENT_ACTION = "team.agreement"


@dataclass(frozen=True)
class AgreementValue(ActionPayload):
    """The mentee's buttons: their participant id and ``yes`` or ``no``."""

    participant: int
    answer: str


def agreements(uow: UnitOfWork, programme: Programme) -> dict[str, int] | None:
    """For ``status``, with the setting on: how many mentees agreed, said no, or were asked and have not
    answered (a count, never who); None when the programme does not ask for agreement."""
    return FeedbackService.of(uow).agreements(programme)


def _ask_team(turn: Turn, programme: Programme, mentee: Person, phase: str, members: list[Person]) -> None:
    """Open the rating for each of ``members`` (the mentee's team who have not answered this phase yet)."""
    for member in members:
        turn.flows.start(
            turn.as_person(member),
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


def _tell(turn: Turn, programme: Programme, step: TeamStep) -> None:
    """The mentee's notice: what their team is asked and who sees what; with buttons when it asks them."""
    participant = step.participant
    choices = []
    if step.asking:
        choices = [
            Choice(
                label=say("feedback.team_agree_label"),
                action=AGREEMENT_ACTION,
                value=AgreementValue(participant.id, "yes").encode(),
                style="primary",
            ),
            Choice(
                label=say("feedback.team_decline_label"),
                action=AGREEMENT_ACTION,
                value=AgreementValue(participant.id, "no").encode(),
            ),
        ]
    turn.message(
        Address.person(participant.person_id),
        say(
            "feedback.team_notice",
            programme=programme,
            metric=programme.goal_metric or programme.name,
            count=step.team_size,
            k=programme.settings.anonymity_threshold,
            sponsor=bool(programme.settings.sponsor_email),
            agreement=step.asking,
        ),
        choices=choices,
        programme_id=programme.id,
    )


def team_survey(turn: Turn, payload: dict[str, Any]) -> None:
    """The ``team_survey`` job of one phase: tell each mentee who has a team (asking for agreement where the
    programme wants it) before their team is asked, then ask the teams that may be asked."""
    phase = str(payload.get("phase"))
    found = FeedbackService.of(turn.uow).team_phase(int(payload.get("programme_id", 0)), phase)
    if found is None:
        return
    programme, steps = found
    for step in steps:
        if step.tell:
            _tell(turn, programme, step)
        _ask_team(turn, programme, step.mentee, phase, step.ask)


def on_agreement(turn: Turn, action: Action) -> None:
    """The mentee's yes or no; a yes asks their team for the phases that waited for it (while the term runs)."""
    value = AgreementValue.decode(action.value)
    agreement = FeedbackService.of(turn.uow).agree(turn.me, value.participant, value.answer, turn.now.date())
    for phase, members in agreement.ask.items():
        _ask_team(turn, agreement.programme, turn.me, phase, members)
    key = "feedback.team_agreed" if agreement.agreed else "feedback.team_declined"
    turn.reply(say(key, programme=agreement.programme))


def save_team_rating(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
    """A team member's rating is answered."""
    FeedbackService.of(turn.uow).record_team_rating(turn.me.id, answers, context)
    turn.reply(say("feedback.team_thanks"))


HANDLERS: tuple[Handling, ...] = (
    OnDue(TEAM_JOB, team_survey),
    OnAction(AGREEMENT_ACTION, on_agreement),
    OnFlow(TEAM, save_team_rating),
)
