"""``match preview / rerun / weights / pin / forbid / offline-depth / publish / choices``: parse, call
:class:`~bot.services.matching.MatchingService`, render. ``rematch`` is in :mod:`bot.commands.rematch`."""

from __future__ import annotations

from typing import Any

from bot.commands.invitations import resolve_people
from bot.commands.registry import Args
from bot.context import Turn
from bot.domain import Participant, Programme
from bot.errors import CommandError
from bot.flows.definition import StepChoice
from bot.handling import Handling, OnCommand, OnDue, OnFlow
from bot.matching.load import reason_text, topic_labels
from bot.services.matching import MatchingService
from bot.wording import say, unescape

LIST_LIMIT = 40
PUBLISH_JOB = "match_publish"
CHOICE_FLOW = "choose_mentors"
MAX_OFFLINE_DEPTH = 50


def preview(turn: Turn, programme: Programme, rerun: bool = False) -> None:
    """Run the matching, keep the run for publishing, and show the summary."""
    service = MatchingService.of(turn.uow)
    outcome = service.run(programme, turn.now.date(), by=turn.me.id)
    result, people = outcome.result, outcome.people
    pairs = [
        {
            "mentee": people[p.mentee].name,
            "mentor": people[p.mentor].name,
            "score": p.score,
            "pinned": p.pinned,
            "reasons": reason_text(p.reasons),
        }
        for p in result.pairs
    ]
    unmatched = [
        {"role": u.role, "name": people[u.participant_id].name, "reason": say(u.reason.key, **u.reason.values)}
        for u in result.unmatched
    ]
    turn.reply(
        say(
            "matching.preview",
            programme=programme,
            mode=result.mode,
            seed=result.seed,
            pairs=pairs,
            average=result.average_score,
            unmatched=unmatched,
            waiting=[p.name for p in service.waiting_for_consent(programme)],
            limit=LIST_LIMIT,
            rerun=rerun,
            unmatched_mentees=sum(1 for u in result.unmatched if u.role == "mentee"),
            unmatched_mentors=sum(1 for u in result.unmatched if u.role == "mentor"),
        )
    )


def match_preview(turn: Turn, _args: Args, programme: Programme | None) -> None:
    """``match preview``: run the matching and show it, publishing nothing."""
    assert programme is not None
    preview(turn, programme)


def match_rerun(turn: Turn, _args: Args, programme: Programme | None) -> None:
    """``match rerun``: as ``match preview``, after a change."""
    assert programme is not None
    preview(turn, programme, rerun=True)


def _two_participants(
    turn: Turn, args: Args, programme: Programme, verb: str
) -> tuple[Participant, Participant, dict[str, str]]:
    """The (mentee, mentor) two words name, and their names."""
    if len(args.words) != 2:
        raise CommandError("matching.two_people", verb=verb)
    people = resolve_people(turn, args.words)
    if len(people) != 2:
        raise CommandError("matching.two_people", verb=verb)
    mentee, mentor = MatchingService.of(turn.uow).pair_of(programme, people)
    names = {p.id: p.name for p in people}
    return mentee, mentor, {"mentee": names[mentee.person_id], "mentor": names[mentor.person_id]}


def pin(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``match pin @A @B``: pair these two in every run, unless that breaks a hard rule."""
    assert programme is not None
    mentee, mentor, names = _two_participants(turn, args, programme, "pin")
    broken = MatchingService.of(turn.uow).pin(programme, mentee, mentor, turn.me.id, turn.now.date())
    if broken is not None:
        raise CommandError("matching.pin_breaks_rule", reason=say(broken.key, **broken.values), **names)
    turn.reply(say("matching.pinned", **names))


def forbid(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``match forbid @A @B``: never pair these two."""
    assert programme is not None
    mentee, mentor, names = _two_participants(turn, args, programme, "forbid")
    MatchingService.of(turn.uow).forbid(programme, mentee, mentor, turn.me.id)
    turn.reply(say("matching.forbidden", programme=programme, **names))


def offline_depth(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``match offline-depth @PERSON N|default``: how far below someone the reporting-line rule reaches."""
    assert programme is not None
    if len(args.words) != 2:
        raise CommandError("matching.depth_usage")
    [person] = resolve_people(turn, args.words[:1])
    raw = args.words[1].lower()
    depth: int | None = None
    if raw != "default":
        if not (raw.isdecimal() and 0 <= int(raw) <= MAX_OFFLINE_DEPTH):
            raise CommandError("matching.depth_bad", given=args.words[1])
        depth = int(raw)
    reach = MatchingService.of(turn.uow).set_offline_depth(programme, person.id, depth)
    turn.reply(say("matching.depth_set", name=person.name, depth=reach, own=depth is not None))


def weights(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``match weights [NAME VALUE ...]``: show the matching weights, or change them."""
    assert programme is not None
    if len(args.words) % 2:
        raise CommandError("matching.weights_bad_pair")
    changes = [(name.lower(), value.lower()) for name, value in zip(args.words[::2], args.words[1::2], strict=True)]
    current = MatchingService.of(turn.uow).weights(programme, changes)
    turn.reply(
        say(
            "matching.weights",
            programme=programme,
            weights=current,
            prefs=current.diversity_prefs,
            uses_choice=programme.settings.participant_choice,
        )
    )


def publish(turn: Turn, _args: Args, programme: Programme | None) -> None:
    """``match publish``: publish the latest preview."""
    assert programme is not None
    done = MatchingService.of(turn.uow).publish(turn, programme)
    turn.reply(
        say("matching.published", programme=programme, introduced=done.introduced, skipped=done.skipped, told=done.told)
    )


def publish_from_operator(turn: Turn, payload: dict[str, Any]) -> None:
    """``rmbot match --publish`` goes through the inbox like everything else: exactly once."""
    MatchingService.of(turn.uow).publish_saved(
        turn, int(payload["programme_id"]), int(payload["run_id"]), str(payload.get("audit", ""))
    )


def choices(turn: Turn, _args: Args, programme: Programme | None) -> None:
    """``match choices``: send each ready mentee 3 to 5 suggested mentors to rank (participant choice)."""
    assert programme is not None
    found = MatchingService.of(turn.uow).choice_round(programme, turn.now.date())
    labels = topic_labels()
    for suggestion in found.suggestions:
        listed = [
            {
                "value": mentor.participant_id,
                "name": mentor.name,
                "department": mentor.department,
                "teach": ", ".join(labels.get(t, t) for t in sorted(mentor.topics)),
                "why": unescape(reason_text(reasons)),
            }
            for mentor, reasons in suggestion.mentors
        ]
        participant = suggestion.mentee
        turn.flows.start(
            turn.as_person(suggestion.person),
            CHOICE_FLOW,
            {
                "key": f"choices-{participant.id}",
                "participant_id": participant.id,
                "programme": programme.name,
                "suggestions": listed,
            },
        )
    turn.reply(say("matching.choices_sent", programme=programme, count=len(found.suggestions), missing=found.missing))


def suggested_mentors(turn: Turn, context: dict[str, Any]) -> list[StepChoice]:
    """The choices of the ranking step: the mentors suggested to this mentee."""
    return [StepChoice(str(s["value"]), s["name"]) for s in context.get("suggestions", [])]


def save_choices(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
    """The mentee ranked their suggested mentors: keep the ranking for the matching."""
    ranking = [int(v) for v in answers["ranking"]]
    MatchingService.of(turn.uow).save_choices(int(context["participant_id"]), ranking)
    turn.reply(say("matching.choices_saved"))


HANDLERS: tuple[Handling, ...] = (
    OnCommand("match preview", match_preview),
    OnCommand("match rerun", match_rerun),
    OnCommand("match pin", pin),
    OnCommand("match forbid", forbid),
    OnCommand("match weights", weights),
    OnCommand("match offline-depth", offline_depth),
    OnCommand("match publish", publish),
    OnCommand("match choices", choices),
    OnDue(PUBLISH_JOB, publish_from_operator),
    OnFlow(CHOICE_FLOW, save_choices, sources={"suggested_mentors": suggested_mentors}),
)
