"""What matching tells the people it pairs, leaves unmatched or unpairs: the messages themselves.

:class:`bot.services.matching.MatchingService` decides who hears what; these functions word it and queue it
in the turn, so the service itself renders nothing.
"""

from __future__ import annotations

from typing import Any

from bot.context import Turn
from bot.domain import MatchPair, Participant, Person, Programme
from bot.matching.load import reason_text
from bot.model import Address
from bot.sessions.places import tell
from bot.wording import say


def personal_reason(reason: dict[str, Any]) -> str:
    """The reason someone was not matched, told to them: kind, true, in the second person.

    The coordinator's wording (``matching.unmatched_*``) names the precise rule; the person reads
    ``matching.personal_*`` about themselves."""
    key = str(reason["key"]).replace("matching.unmatched_", "matching.personal_", 1)
    return say(key, **reason.get("values", {}))


def introduce(
    turn: Turn,
    programme: Programme,
    pair: MatchPair,
    mentee: Participant,
    mentor: Participant,
    people: dict[int, Person],
    labels: dict[str, str],
) -> None:
    """Introduce a pair to both people in one group message, with the reasons they were matched."""
    teach = [labels.get(t, t) for t in (mentor.intake.get("teach_topics") or [])]
    learn = [labels.get(t, t) for t in (mentee.intake.get("learn_topics") or [])]
    turn.message(
        Address.pair(mentee.person_id, mentor.person_id),
        say(
            "matching.introduction",
            programme=programme,
            reasons=reason_text(pair.reasons),
            mentor=people[mentor.person_id].name,
            mentee=people[mentee.person_id].name,
            teach=", ".join(teach),
            learn=", ".join(learn),
        ),
        programme_id=programme.id,
    )


def tell_unmatched(turn: Turn, programme: Programme, participant: Participant, reason: dict[str, Any]) -> None:
    """Tell someone privately, in their own words, why they were not matched this round."""
    turn.message(
        Address.person(participant.person_id),
        say("matching.unmatched_notice", programme=programme, reason=personal_reason(reason)),
        programme_id=programme.id,
    )


def tell_pair_ended(
    turn: Turn, programme: Programme, pair: MatchPair, names: dict[int, str], replaced: int | None
) -> None:
    """Tell both people of an ended pair kindly (someone paused hears it when they resume); ``replaced`` is the
    participant who got a new partner, if any."""
    for me, other in ((pair.mentee_id, pair.mentor_id), (pair.mentor_id, pair.mentee_id)):
        text = say("matching.rematch_ended_notice", programme=programme, other=names[other], new_partner=me == replaced)
        tell(turn, me, text, programme_id=programme.id)
