"""The App Home tab, published on ``app_home_opened``: what a person takes part in, and what they run.

For a participant: their programmes, role and status, the programme goal, where their next session will
show, and quick actions (buttons that run ``/mentoring`` commands). For a coordinator: the health of
each programme they coordinate (who is in, invited, declined, still to answer) and the commands they
will need. Built from the store and the command registry; all wording from ``prompts/messages/slack.yml``.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from slack_sdk.models.blocks import (
    ActionsBlock,
    Block,
    DividerBlock,
    HeaderBlock,
    OverflowMenuElement,
    PlainTextObject,
    SectionBlock,
)
from slack_sdk.models.views import View

from adapters.slack.mrkdwn import label, to_mrkdwn
from adapters.slack.render import COMMAND, MAX_MODAL_BLOCKS, button, context_blocks, option, text_sections
from bot.commands.registry import Registry
from bot.domain import ParticipantStatus, Role
from bot.model import Choice, Platform
from bot.wording import say
from storage.store import SqlStore

QUICK_ORDER = ("next", "agenda", "goals", "intake", "feedback", "support", "join", "my-data", "help")
COORDINATOR_ORDER = ("status", "invite", "program show", "program new", "match preview", "report", "remind",
                     "coordinators add", "program list")
MAX_PROGRAMMES = 15
BUTTONS = 5
OVERFLOW = 5


@dataclass
class HomeData:
    """What the home tab shows, read in one unit of work."""

    name: str
    participations: list[dict[str, Any]]
    coordinating: list[dict[str, Any]]


def load(store: SqlStore, team: str, user: str) -> HomeData | None:
    """The person behind a Slack user and their programmes; None when the store does not know them."""
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find(Platform.SLACK.value, team)
        person = tenant and uow.people.by_identity(tenant.id, Platform.SLACK.value, user)
        if not tenant or not person:
            return None
        participations = []
        for participant in uow.participants.of_person(person.id):
            programme = uow.programmes.get(participant.programme_id)
            if programme is not None:
                participations.append({"programme": programme.name, "slug": programme.slug,
                                       "role": participant.role.value, "status": participant.status.value,
                                       "goal": programme.goal_metric})
        coordinating = []
        for programme_id in uow.coordinators.programmes_of(person.id):
            programme = uow.programmes.get(programme_id)
            if programme is None or programme.tenant_id != tenant.id:
                continue
            counts: dict[str, Counter[str]] = {role.value: Counter() for role in Role}
            for participant in uow.participants.in_programme(programme_id):
                counts[participant.role.value][participant.status.value] += 1
            coordinating.append({"programme": programme.name, "slug": programme.slug, "status": programme.status.value,
                                 "mentors": _counts(counts["mentor"]), "mentees": _counts(counts["mentee"])})
        return HomeData(name=person.name, participations=participations, coordinating=coordinating)


def _counts(counter: Counter[str]) -> dict[str, int]:
    return {status.value: counter.get(status.value, 0) for status in ParticipantStatus}


def _available(registry: Registry, names: tuple[str, ...], who: str) -> list[Any]:
    verbs = []
    for name in names:
        verb = registry.lookup(name)
        if verb is not None and verb.handler is not None and verb.who == who:
            verbs.append(verb)
    return verbs


def _command_controls(commands: list[tuple[str, str]], prefix: str) -> list[Any]:
    """Up to five buttons, the rest in an overflow menu; each runs its command when pressed."""
    elements: list[Any] = [button(text, COMMAND, value, n) for n, (text, value) in enumerate(commands[:BUTTONS - 1])]
    rest = commands[BUTTONS - 1:]
    if len(rest) == 1:
        elements.append(button(rest[0][0], COMMAND, rest[0][1], BUTTONS))
    elif rest:
        elements.append(OverflowMenuElement(action_id=f"{COMMAND}|{prefix}", options=[
            option(Choice(label=text, action=COMMAND, value=value)) for text, value in rest[:OVERFLOW]]))
    return elements


def home_blocks(data: HomeData | None, registry: Registry, updated: datetime) -> list[Block]:
    """Every block of the home tab (at most 100)."""
    blocks: list[Block] = [HeaderBlock(text=PlainTextObject(text=label(say("slack.home.title"), 150)))]
    if data is None:
        return blocks + text_sections(say("slack.home.stranger"))
    blocks += text_sections(say("slack.home.hello", name=data.name))
    blocks.append(DividerBlock())
    if data.participations:
        blocks += text_sections(say("slack.home.your_programmes"))
        for item in data.participations[:MAX_PROGRAMMES]:
            blocks += text_sections(say("slack.home.participation", **{k: item[k] for k in ("programme", "role", "status")}))
            notes = [say("slack.home.next_session")] if item["status"] == "active" else []
            if item["goal"]:
                notes.append(say("slack.home.programme_goal", goal=item["goal"]))
            blocks += context_blocks(notes)
        if len(data.participations) > MAX_PROGRAMMES:
            blocks += context_blocks([say("slack.home.more_programmes", count=len(data.participations) - MAX_PROGRAMMES)])
    else:
        blocks += text_sections(say("slack.home.no_programmes"))
    quick = [(f"/mentoring {v.name}", v.name) for v in _available(registry, QUICK_ORDER, "anyone")]
    if quick:
        blocks += text_sections(say("slack.home.quick_actions"))
        blocks.append(ActionsBlock(block_id="quick", elements=_command_controls(quick, "quick")))
    if data.coordinating:
        blocks += _coordinator_blocks(data, registry)
    blocks += context_blocks([say("slack.home.updated", when=updated.strftime("%Y-%m-%d %H:%M UTC"))])
    return blocks


def _coordinator_blocks(data: HomeData, registry: Registry) -> list[Block]:
    blocks: list[Block] = [DividerBlock(), *text_sections(say("slack.home.coordinating"))]
    per_programme = [v for v in _available(registry, ("status", "program show"), "coordinator")]
    for number, item in enumerate(data.coordinating[:MAX_PROGRAMMES]):
        section = SectionBlock(text={"type": "mrkdwn", "text": _health(item)})
        actions = [(v.name, f"{v.name} --program {item['slug']}") for v in per_programme]
        if actions:
            section = SectionBlock(text=section.text, accessory=OverflowMenuElement(
                action_id=f"{COMMAND}|p{number}",
                options=[option(Choice(label=text, action=COMMAND, value=value)) for text, value in actions[:OVERFLOW]]))
        blocks.append(section)
        waiting = item["mentors"]["invited"] + item["mentees"]["invited"]
        if waiting:
            blocks += context_blocks([say("slack.home.waiting", count=waiting)])
    if len(data.coordinating) > MAX_PROGRAMMES:
        blocks += context_blocks([say("slack.home.more_programmes", count=len(data.coordinating) - MAX_PROGRAMMES)])
    commands = _available(registry, COORDINATOR_ORDER, "coordinator")
    if commands:
        blocks += text_sections(say("slack.home.commands") + "\n" + "\n".join(
            say("slack.home.command_line", usage=v.usage, summary=v.summary) for v in commands))
    return blocks


def _health(item: dict[str, Any]) -> str:
    return to_mrkdwn(say("slack.home.health", programme=item["programme"], status=item["status"],
                         mentors=item["mentors"], mentees=item["mentees"]))


def home_view(data: HomeData | None, registry: Registry, updated: datetime) -> dict[str, Any]:
    """The home tab as a validated view (slack_sdk checks its limits; at most 100 blocks)."""
    blocks = home_blocks(data, registry, updated)[:MAX_MODAL_BLOCKS]
    return View(type="home", blocks=blocks).to_dict()
