"""``match preview / weights / pin / forbid / rerun / publish / choices`` and ``rematch``."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from bot.commands.invitations import resolve_people
from bot.commands.registry import Args
from bot.commitment import schedule_gap_check
from bot.context import Turn
from bot.domain import (
    MatchPair,
    MatchRun,
    NewMatchRule,
    NewMatchRun,
    PairStatus,
    Participant,
    ParticipantStatus,
    Programme,
    Role,
)
from bot.errors import CommandError, required
from bot.feedback import schedule_programme_rhythm
from bot.flows.definition import StepChoice
from bot.matching.load import load_input, reason_text, result_record, stored_pair, topic_labels
from bot.matching.model import DIVERSITY_DIMENSIONS, MatchInput, Preference, Weights
from bot.matching.rules import feasibility
from bot.matching.run import mentee_reason, run_matching
from bot.matching.scoring import explain, score
from bot.model import Address
from bot.sessions.circles import circles_of
from bot.sessions.scheduling import offer_slots
from bot.wording import say, unescape

if TYPE_CHECKING:
    from bot.engine import Engine

LIST_LIMIT = 40
PUBLISH_JOB = "match_publish"
CHOICE_FLOW = "choose_mentors"
_PREFERENCES: dict[str, Preference] = {"different": "different", "same": "same", "ignore": "ignore"}


def _names(turn: Turn, participant_ids: list[int]) -> dict[int, str]:
    participants = [turn.uow.participants.get(pid) for pid in participant_ids]
    people = turn.uow.people.many([p.person_id for p in participants if p])
    return {p.id: people[p.person_id].name for p in participants if p}


def preview(turn: Turn, programme: Programme, rerun: bool = False) -> None:
    """Run the matching, keep the run for publishing, and show the summary."""
    data = load_input(turn.uow, programme, turn.now.date())
    settings = programme.settings
    result = run_matching(data, settings.match_mode, settings.match_seed, topic_labels())
    turn.uow.matching.save_run(
        NewMatchRun(
            programme_id=programme.id,
            mode=result.mode,
            seed=result.seed,
            result=result_record(result),
            created_by=turn.me.id,
        )
    )
    names = _names(
        turn,
        [p.mentee for p in result.pairs]
        + [p.mentor for p in result.pairs]
        + [u.participant_id for u in result.unmatched],
    )
    pairs = [
        {
            "mentee": names[p.mentee],
            "mentor": names[p.mentor],
            "score": p.score,
            "pinned": p.pinned,
            "reasons": reason_text(p.reasons),
        }
        for p in result.pairs
    ]
    unmatched = [
        {"role": u.role, "name": names[u.participant_id], "reason": say(u.reason.key, **u.reason.values)}
        for u in result.unmatched
    ]
    invited = [p for p in turn.uow.participants.in_programme(programme.id) if p.status == ParticipantStatus.INVITED]
    waiting = sorted(turn.uow.people.many([p.person_id for p in invited]).values(), key=lambda p: p.name)
    turn.reply(
        say(
            "matching.preview",
            programme=programme,
            mode=result.mode,
            seed=result.seed,
            pairs=pairs,
            average=result.average_score,
            unmatched=unmatched,
            waiting=[p.name for p in waiting],
            limit=LIST_LIMIT,
            rerun=rerun,
            unmatched_mentees=sum(1 for u in result.unmatched if u.role == "mentee"),
            unmatched_mentors=sum(1 for u in result.unmatched if u.role == "mentor"),
        )
    )


def _two_participants(
    turn: Turn, args: Args, programme: Programme, verb: str
) -> tuple[Participant, Participant, dict[str, str]]:
    if len(args.words) != 2:
        raise CommandError("matching.two_people", verb=verb)
    people = resolve_people(turn, args.words)
    if len(people) != 2:
        raise CommandError("matching.two_people", verb=verb)
    found = [turn.uow.participants.find(programme.id, p.id) for p in people]
    missing = [
        p.name
        for p, participant in zip(people, found, strict=True)
        if participant is None or participant.status != ParticipantStatus.ACTIVE
    ]
    if missing:
        raise CommandError("matching.not_participants", names=missing, programme=programme)
    a, b = [participant for participant in found if participant is not None]
    if a.role == b.role:
        raise CommandError("matching.same_role", role=a.role.value)
    mentee, mentor = (a, b) if a.role == Role.MENTEE else (b, a)
    names = {p.id: p.name for p in people}
    return mentee, mentor, {"mentee": names[mentee.person_id], "mentor": names[mentor.person_id]}


def pin(turn: Turn, args: Args, programme: Programme | None) -> None:
    assert programme is not None
    mentee, mentor, names = _two_participants(turn, args, programme, "pin")
    data = load_input(turn.uow, programme, turn.now.date())
    only = MatchInput(
        mentees=[c for c in data.mentees if c.participant_id == mentee.id] or [],
        mentors=[c for c in data.mentors if c.participant_id == mentor.id],
        managers=data.managers,
        rules=data.rules,
        weights=data.weights,
    )
    if only.mentees and only.mentors:
        only.rules.forbidden.discard((mentee.id, mentor.id))
        checked = feasibility(only)
        blocked = checked.mentee_blocked_by[0]
        if blocked is not None:
            reason = mentee_reason(only, blocked, 0)
            raise CommandError("matching.pin_breaks_rule", reason=say(reason.key, **reason.values), **names)
    turn.uow.matching.remove_rules(programme.id, mentee.id, mentor.id)
    turn.uow.matching.add_rule(
        NewMatchRule(
            programme_id=programme.id, kind="pin", mentee_id=mentee.id, mentor_id=mentor.id, created_by=turn.me.id
        )
    )
    turn.reply(say("matching.pinned", **names))


def forbid(turn: Turn, args: Args, programme: Programme | None) -> None:
    assert programme is not None
    mentee, mentor, names = _two_participants(turn, args, programme, "forbid")
    turn.uow.matching.remove_rules(programme.id, mentee.id, mentor.id)
    turn.uow.matching.add_rule(
        NewMatchRule(
            programme_id=programme.id, kind="forbid", mentee_id=mentee.id, mentor_id=mentor.id, created_by=turn.me.id
        )
    )
    turn.reply(say("matching.forbidden", programme=programme, **names))


def offline_depth(turn: Turn, args: Args, programme: Programme | None) -> None:
    """``match offline-depth @PERSON N|default``: how far below someone the reporting-line rule reaches."""
    assert programme is not None
    if len(args.words) != 2:
        raise CommandError("matching.depth_usage")
    [person] = resolve_people(turn, args.words[:1])
    raw = args.words[1].lower()
    overrides = dict(programme.settings.offline_depth_for)
    if raw == "default":
        overrides.pop(str(person.id), None)
    elif raw.isdecimal() and 0 <= int(raw) <= 50:
        overrides[str(person.id)] = int(raw)
    else:
        raise CommandError("matching.depth_bad", given=args.words[1])
    programme.settings = programme.settings.model_copy(update={"offline_depth_for": overrides})
    turn.uow.programmes.save(programme)
    depth = overrides.get(str(person.id), programme.settings.offline_depth)
    turn.reply(say("matching.depth_set", name=person.name, depth=depth, own=str(person.id) in overrides))


def weights(turn: Turn, args: Args, programme: Programme | None) -> None:
    assert programme is not None
    current = Weights.from_dict(programme.settings.match_weights)
    if args.words:
        if len(args.words) % 2:
            raise CommandError("matching.weights_bad_pair")
        for name, value in zip(args.words[::2], args.words[1::2], strict=True):
            name, value = name.lower(), value.lower()
            if name in ("topic", "diversity", "style", "choice"):
                try:
                    number = float(value)
                except ValueError:
                    raise CommandError("matching.weights_bad_number", given=value) from None
                if not 0 <= number <= 100:
                    raise CommandError("matching.weights_bad_number", given=value)
                setattr(current, name, number)
            elif name in DIVERSITY_DIMENSIONS:
                preference = _PREFERENCES.get(value)
                if preference is None:
                    raise CommandError("matching.weights_bad_preference", given=value)
                current.diversity_prefs[name] = preference
            else:
                raise CommandError("matching.weights_bad_name", given=name)
        if current.topic + current.diversity + current.style + current.choice <= 0:
            raise CommandError("matching.weights_all_zero")
        programme.settings = programme.settings.model_copy(update={"match_weights": current.as_dict()})
        turn.uow.programmes.save(programme)
    turn.reply(
        say(
            "matching.weights",
            programme=programme,
            weights=current,
            prefs=current.diversity_prefs,
            uses_choice=programme.settings.participant_choice,
        )
    )


def personal_reason(reason: dict[str, Any]) -> str:
    """The reason someone was not matched, told to them: kind, true, in the second person.

    The coordinator's wording (``matching.unmatched_*``) names the precise rule; the person reads
    ``matching.personal_*`` about themselves."""
    key = str(reason["key"]).replace("matching.unmatched_", "matching.personal_", 1)
    return say(key, **reason.get("values", {}))


def publish(turn: Turn, _args: Args, programme: Programme | None) -> None:
    """``match publish``: publish the latest preview."""
    assert programme is not None
    run = turn.uow.matching.latest_run(programme.id)
    if run is None:
        raise CommandError("matching.nothing_to_publish")
    if run.published_at is not None:
        raise CommandError("matching.already_published")
    introduced, skipped, told = publish_run(turn, programme, run)
    turn.reply(say("matching.published", programme=programme, introduced=introduced, skipped=skipped, told=told))


def introduce(turn: Turn, programme: Programme, pair: MatchPair, labels: dict[str, str]) -> None:
    """Introduce a stored pair to both people in one group message, with the reasons they were matched."""
    mentee = required(turn.uow.participants.get(pair.mentee_id), "participant", pair.mentee_id)
    mentor = required(turn.uow.participants.get(pair.mentor_id), "participant", pair.mentor_id)
    people = turn.uow.people.many([mentee.person_id, mentor.person_id])
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
    pair.introduced_at = turn.now
    turn.uow.matching.save_pair(pair)


def publish_run(turn: Turn, programme: Programme, run: MatchRun) -> tuple[int, int, int]:
    """Store a run's pairs, introduce each new pair in a group message, tell each unmatched person why.

    Pairs already stored (a second publish) are neither stored nor introduced again."""
    active_mentees = {p.mentee_id for p in turn.uow.matching.pairs(programme.id) if p.status != PairStatus.ENDED}
    introduced = skipped = 0
    labels = topic_labels()
    for record in run.result["pairs"]:
        if record["mentee"] in active_mentees:
            skipped += 1
            continue
        pair = turn.uow.matching.add_pair(stored_pair(programme.id, record))
        if pair is None:
            skipped += 1
            continue
        introduce(turn, programme, pair, labels)
        introduced += 1
    told = 0
    for record in run.result["unmatched"]:
        participant = turn.uow.participants.get(record["participant"])
        if participant is None or participant.status != ParticipantStatus.ACTIVE:
            continue
        turn.message(
            Address.person(participant.person_id),
            say("matching.unmatched_notice", programme=programme, reason=personal_reason(record["reason"])),
            programme_id=programme.id,
        )
        told += 1
    turn.uow.matching.mark_published(run.id)
    for circle in circles_of(turn.uow, programme):
        if not circle.pairs[0].scheduling and not turn.uow.sessions.of_circle(circle.key):
            offer_slots(turn, circle)
            schedule_gap_check(turn, circle, turn.now)
    if introduced:
        schedule_programme_rhythm(turn, programme)
    return introduced, skipped, told


def match_preview(turn: Turn, _args: Args, programme: Programme | None) -> None:
    """``match preview``: run the matching and show it, publishing nothing."""
    assert programme is not None
    preview(turn, programme)


def match_rerun(turn: Turn, _args: Args, programme: Programme | None) -> None:
    """``match rerun``: as ``match preview``, after a change."""
    assert programme is not None
    preview(turn, programme, rerun=True)


def install(engine: Engine) -> None:
    registry = engine.registry
    registry.handles("match preview")(match_preview)
    registry.handles("match rerun")(match_rerun)
    registry.handles("match pin")(pin)
    registry.handles("match forbid")(forbid)
    registry.handles("match weights")(weights)
    registry.handles("match offline-depth")(offline_depth)
    registry.handles("match publish")(publish)

    @engine.on_due(PUBLISH_JOB)
    def publish_from_operator(turn: Turn, payload: dict[str, Any]) -> None:
        """``rmbot match --publish`` goes through the inbox like everything else: exactly once."""
        run = next(
            (
                r
                for r in [turn.uow.matching.latest_run(int(payload["programme_id"]))]
                if r and r.id == payload["run_id"] and r.published_at is None
            ),
            None,
        )
        programme = turn.uow.programmes.get(int(payload["programme_id"]))
        if run is not None and programme is not None:
            publish_run(turn, programme, run)

    def suggestions(turn: Turn, context: dict[str, Any]) -> list[StepChoice]:
        return [StepChoice(str(s["value"]), s["name"]) for s in context.get("suggestions", [])]

    def save_choices(turn: Turn, answers: dict[str, Any], context: dict[str, Any]) -> None:
        participant = turn.uow.participants.get(context["participant_id"])
        assert participant is not None
        participant.intake = {**participant.intake, "mentor_choices": [int(v) for v in answers["ranking"]]}
        turn.uow.participants.save(participant)
        turn.reply(say("matching.choices_saved"))

    engine.flows.register(CHOICE_FLOW, save_choices, sources={"suggested_mentors": suggestions})

    @registry.handles("match choices")
    def choices(turn: Turn, _args: Args, programme: Programme | None) -> None:
        """Send each ready mentee 3 to 5 suggested mentors to rank (participant choice)."""
        assert programme is not None
        if not programme.settings.participant_choice:
            raise CommandError("matching.choices_off", programme=programme)
        data = load_input(turn.uow, programme, turn.now.date())
        scored = score(data)
        allowed, scores = feasibility(data).allowed, scored.total
        labels = topic_labels()
        sent = missing = 0
        for i, mentee in enumerate(data.mentees):
            if not mentee.ready:
                continue
            order = [j for j in scores[i].argsort()[::-1] if allowed[i, j] and data.mentors[j].capacity > 0][:5]
            if len(order) < 3:
                missing += 1
                continue
            listed = [
                {
                    "value": data.mentors[j].participant_id,
                    "name": data.mentors[j].name,
                    "department": data.mentors[j].department,
                    "teach": ", ".join(labels.get(t, t) for t in sorted(data.mentors[j].topics)),
                    "why": unescape(reason_text(explain(data, mentee, data.mentors[j], labels))),
                }
                for j in order
            ]
            participant = required(
                turn.uow.participants.get(mentee.participant_id), "participant", mentee.participant_id
            )
            target = turn.as_person(required(turn.uow.people.get(mentee.person_id), "person", mentee.person_id))
            engine.flows.start(
                target,
                CHOICE_FLOW,
                {
                    "key": f"choices-{participant.id}",
                    "participant_id": participant.id,
                    "programme": programme.name,
                    "suggestions": listed,
                },
            )
            sent += 1
        turn.reply(say("matching.choices_sent", programme=programme, count=sent, missing=missing))
