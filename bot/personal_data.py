"""``my-data``: everything stored about a person, grouped by programme and area, as a readable message and as
``my-data.json``.

The records come from one port call (:meth:`bot.ports.PersonalDataRepository.gather`), source by source. Each
source is placed in its group here; a source this module does not place still reaches the file, under
``other_records``, so the export stays complete when a new kind of record is added. What someone else said in
confidence never reaches the port's answer (their pulses and notes are theirs; team ratings arrive as a count).
"""

from __future__ import annotations

import base64
import json
from datetime import datetime
from typing import Any

from bot import grants
from bot.context import Turn
from bot.flows.runner import FlowRunner
from bot.flows.verbs import answers_summary
from bot.model import Attachment
from bot.sessions.slots import local_label
from bot.wording import say

FEEDBACK_FLOWS = {"pulse": "pulse", "midpoint": "survey", "final": "survey", "checkin": "checkin"}
"""Feedback kind -> the questionnaire that asked it (team ratings: ``team_rating``)."""
SHOWN = 12
"""Items of one list the message shows; the file has all of them."""


def reply_with_my_data(turn: Turn, flows: FlowRunner) -> None:
    """Answer ``my-data``: the readable summary, and the complete record attached as my-data.json."""
    record, view = build(turn, flows)
    content = base64.b64encode(json.dumps(record, indent=2, ensure_ascii=False).encode()).decode()
    turn.reply(
        say("privacy.my_data", **view),
        attachments=[
            Attachment(
                filename="my-data.json",
                media_type="application/json",
                content_b64=content,
                title=say("privacy.my_data_file"),
            )
        ],
    )


class _Sources:
    """The gathered records; remembers which sources were placed, so that none is lost."""

    def __init__(self, gathered: dict[str, list[dict[str, Any]]]) -> None:
        self.gathered = gathered
        self.placed: set[str] = set()

    def take(self, source: str) -> list[dict[str, Any]]:
        self.placed.add(source)
        return self.gathered.get(source, [])

    def rest(self) -> dict[str, list[dict[str, Any]]]:
        return {source: rows for source, rows in self.gathered.items() if source not in self.placed}


class _Names:
    """Names of the people, participants and programmes the records mention (looked up once each)."""

    def __init__(self, turn: Turn) -> None:
        self.uow = turn.uow
        self.people: dict[int, str | None] = {}
        self.participants: dict[int, int | None] = {}
        self.programmes: dict[int, str] = {}

    def person(self, person_id: Any) -> str | None:
        if not isinstance(person_id, int):
            return None
        if person_id not in self.people:
            found = self.uow.people.get(person_id)
            self.people[person_id] = found.name if found else None
        return self.people[person_id]

    def participant(self, participant_id: int) -> str | None:
        if participant_id not in self.participants:
            found = self.uow.participants.get(participant_id)
            self.participants[participant_id] = found.person_id if found else None
        return self.person(self.participants[participant_id])

    def programme(self, programme_id: int | None) -> str:
        if programme_id is None:
            return ""
        if programme_id not in self.programmes:
            found = self.uow.programmes.get(programme_id)
            self.programmes[programme_id] = found.name if found else str(programme_id)
        return self.programmes[programme_id]


def _without(row: dict[str, Any], *keys: str) -> dict[str, Any]:
    return {k: v for k, v in row.items() if k not in keys}


def _when(value: str | None, time_zone: str) -> str:
    return local_label(datetime.fromisoformat(value), time_zone) if value else ""


def build(turn: Turn, flows: FlowRunner) -> tuple[dict[str, Any], dict[str, Any]]:
    """The complete record (for the file) and the values of the readable message."""
    uow, me = turn.uow, turn.me
    src, names = _Sources(uow.personal_data.gather(turn.tenant.id, me.id)), _Names(turn)
    person = (src.take("person") or [me.model_dump(mode="json")])[0]
    programmes = _programmes(turn, flows, src, names)
    record: dict[str, Any] = {
        "person": _without(person, "manager_id", "tenant_id"),
        "manager": names.person(person.get("manager_id")),
        "direct_reports": [r["name"] for r in src.take("direct_reports")],
        "chat_accounts": {r["platform"]: r["external_id"] for r in src.take("chat_accounts")},
        "programmes": programmes,
        "coordinator_of": [names.programme(r["programme_id"]) for r in src.take("coordinator_of")],
        "tenant_coordinator": bool(src.take("tenant_coordinator")),
        "coordinator_grants": grants.visible(uow, turn.tenant, me),
        "as_coordinator": _coordinator_work(src, names),
        "conversation": _conversation(turn, flows, src, names),
        "scheduled": src.take("scheduled"),
        "reminders": [_without(r, "person_id") for r in src.take("nudges")],
        "messages": _messages(src, names),
    }
    src.take("coordinator_offer")  # shown as a coordinator grant above
    if rest := src.rest():
        record["other_records"] = rest
    record["calendar"] = _calendar_use(turn)
    return record, _view(turn, flows, record, manager=record["manager"], me=me, calendar=record["calendar"])


def _calendar_use(turn: Turn) -> str:
    """Whether the person's calendar is read (free/busy only), and for which programmes (issue #21)."""
    if turn.me.calendar_opt_out:
        return say("calendars.my_data_off")
    names = []
    for participant in turn.uow.participants.of_person(turn.me.id):
        programme = turn.uow.programmes.get(participant.programme_id)
        if programme is not None and programme.settings.calendar != "off":
            names.append(programme.name)
    return say("calendars.my_data_read", programmes=names) if names else say("calendars.my_data_unused")


def _programmes(turn: Turn, flows: FlowRunner, src: _Sources, names: _Names) -> list[dict[str, Any]]:
    """One group per programme: the participation, pairs, sessions, feedback and matching."""
    groups: dict[int, dict[str, Any]] = {}

    def group(programme_id: int) -> dict[str, Any]:
        return groups.setdefault(
            programme_id, {"programme": names.programme(programme_id), "programme_id": programme_id}
        )

    mine = set()
    for row in src.take("participations"):
        mine.add(row["id"])
        group(row["programme_id"]).update(_without(row, "person_id", "programme_id", "invited_by"))
        group(row["programme_id"])["invited_by"] = names.person(row["invited_by"])
    for pair in src.take("pairs"):
        other = pair["mentor_id"] if pair["mentee_id"] in mine else pair["mentee_id"]
        goals = [{**g, "by": names.person(g.get("by"))} for g in pair["goals"]]
        kept = _without(pair, "id", "programme_id", "mentee_id", "mentor_id", "goals")
        group(pair["programme_id"]).setdefault("pairs", []).append(
            {"partners": [names.participant(other)], "goals": goals, **kept}
        )
    for session in sorted(src.take("sessions"), key=lambda s: (s["starts_at"], s["id"])):
        members = [session["mentor_id"], *session["mentee_ids"]]
        group(session["programme_id"]).setdefault("sessions", []).append(
            {
                "with": [names.participant(m) for m in members if m not in mine],
                **_without(session, "id", "programme_id", "circle", "mentor_id", "mentee_ids", "outcome"),
                "outcome": {names.person(int(k)) or k: v for k, v in session["outcome"].items()},
                "id": session["id"],
            }
        )
    for event in src.take("session_events"):
        kept = _without(event, "id", "programme_id", "circle", "person_id")
        group(event["programme_id"]).setdefault("session_events", []).append(
            {**kept, "by": names.person(event["person_id"])}
        )
    for answer in src.take("feedback"):
        flow = FEEDBACK_FLOWS.get(answer["kind"], "team_rating")
        title = _title(turn, flows, flow, {})
        group(answer["programme_id"]).setdefault("feedback", []).append(
            {"questionnaire": title, **_without(answer, "id", "person_id", "programme_id")}
        )
    for rating in src.take("team_ratings_about_you"):
        counted = group(rating["programme_id"]).setdefault("team_ratings_about_you", {"answers": 0})
        counted.update(answers=counted["answers"] + 1, shown_only_as_aggregates=True)
    for rule in src.take("match_rules_about_you"):
        group(rule["programme_id"]).setdefault("matching", {}).setdefault("rules_about_you", []).append(rule)
    for line in src.take("match_runs_about_you"):
        group(line["programme_id"]).setdefault("matching", {}).setdefault("runs", []).append(line)
    return list(groups.values())


def _coordinator_work(src: _Sources, names: _Names) -> dict[str, Any]:
    """What the person did as a coordinator: people invited, coordinators added, resources, rules, runs, audit."""
    work = {
        "invited": [
            {"programme": names.programme(r["programme_id"]), "name": names.person(r["person_id"]), "role": r["role"]}
            for r in src.take("invited")
        ],
        "coordinators_added": [
            {"programme": names.programme(r["programme_id"]), "name": names.person(r["person_id"])}
            for r in src.take("coordinators_added")
        ],
        "resources_added": [_without(r, "added_by") for r in src.take("resources_added")],
        "match_rules": [
            {
                "programme": names.programme(r["programme_id"]),
                "kind": r["kind"],
                "mentee": names.participant(r["mentee_id"]),
                "mentor": names.participant(r["mentor_id"]),
            }
            for r in src.take("match_rules_made")
        ],
        "match_runs": src.take("match_runs_made"),
        "audit_log": [_without(r, "person_id") for r in src.take("audit_log")],
    }
    return {area: rows for area, rows in work.items() if rows}


def _title(turn: Turn, flows: FlowRunner, flow_id: str, context: dict[str, Any]) -> str:
    """A questionnaire's title (its id when it no longer exists)."""
    try:
        return flows.build(turn, flow_id, context).title
    except (OSError, ValueError, KeyError):
        return flow_id


def _conversation(turn: Turn, flows: FlowRunner, src: _Sources, names: _Names) -> dict[str, Any]:
    """The open questionnaire, those waiting their turn, and those stopped with ``cancel`` (answers kept)."""
    rows = src.take("conversation")
    if not rows:
        return {}
    state = rows[0]

    def entry(flow_id: str, saved: dict[str, Any]) -> dict[str, Any]:
        context = saved.get("context") or {}
        return {"title": _title(turn, flows, flow_id, context), "step": saved.get("step"), **_without(saved, "step")}

    return {
        "open": entry(state["flow"], {k: state[k] for k in ("step", "answers", "history", "context")})
        if state["flow"]
        else None,
        "waiting": [entry(w.get("flow", ""), w) for w in state["waiting"]],
        "stopped": [entry(key.partition(":")[0], saved) for key, saved in state["suspended"].items()],
        "current_programme": names.programme(state["current_programme_id"]),
    }


def _messages(src: _Sources, names: _Names) -> dict[str, Any]:
    """What the person sent the bot, what it sent them, and what it told others about them (attachments are
    named, not repeated)."""

    def outgoing(row: dict[str, Any]) -> dict[str, Any]:
        payload = row["payload"]
        return {
            "at": row["created_at"],
            "sent_at": row["sent_at"],
            "status": row["status"],
            "text": payload.get("text", ""),
            "sections": [s.get("text", "") for s in payload.get("sections", [])],
            "facts": [f for s in payload.get("sections", []) for f in s.get("fields", [])],
            "buttons": [c.get("label", "") for c in payload.get("choices", [])],
            "attachments": [a.get("filename", "") for a in payload.get("attachments", [])],
            "to": [names.person(p) for p in payload.get("to", {}).get("people", [])],
        }

    return {
        "sent": [
            {
                "at": row["payload"].get("occurred_at", row["received_at"]),
                "kind": row["payload"].get("kind"),
                "text": row["payload"].get("text", ""),
                "action": row["payload"].get("action"),
                "status": row["status"],
            }
            for row in src.take("messages_sent")
        ],
        "received": [outgoing(row) for row in src.take("messages_received")],
        "about_you_to_others": [outgoing(row) for row in src.take("messages_about_you")],
    }


def _labelled(turn: Turn, flows: FlowRunner, flow_id: str, answers: dict[str, Any], **context: Any) -> Any:
    """Answers as label/value pairs in neutral markdown, as a questionnaire's review shows them."""
    try:
        flow = flows.build(turn, flow_id, context)
        return answers_summary(flow, answers, context, flows.choice_lists(turn, flow, context))
    except (OSError, ValueError, KeyError):
        return [(str(k), str(v)) for k, v in answers.items()]


def _view(turn: Turn, flows: FlowRunner, record: dict[str, Any], **values: Any) -> dict[str, Any]:
    """The values of the readable message: each group in short, the file in full."""
    time_zone = turn.me.time_zone
    programmes = []
    for group in record["programmes"]:
        sessions = group.get("sessions", [])
        starts = {s["id"]: _when(s["starts_at"], time_zone) for s in sessions}
        intake = group.get("intake") or {}
        context = {"programme_id": group.get("programme_id"), "role": group.get("role")}
        programmes.append(
            {
                "name": group["programme"],
                "role": group.get("role"),
                "status": group.get("status"),
                "intake": _labelled(
                    turn, flows, "intake", intake, seniority_known="seniority" not in intake, **context
                ),
                "intake_done": bool(group.get("intake_completed_at")),
                "pairs": [
                    {
                        "partners": ", ".join(n or "?" for n in p["partners"]),
                        "status": p["status"],
                        "goals": [g["text"] for g in p["goals"]],
                    }
                    for p in group.get("pairs", [])
                ],
                "sessions": [
                    {
                        "when": _when(s["starts_at"], time_zone),
                        "status": s["status"],
                        "agenda": [i.get("text", "") for i in s["agenda_items"]],
                        "actions": s["action_items"],
                    }
                    for s in sessions[:SHOWN]
                ],
                "session_count": len(sessions),
                "feedback": [
                    {
                        "title": f["questionnaire"],
                        "session": starts.get(f["session_id"]),
                        "subject": f["subject"].partition(":")[0],
                        "answers": _labelled(turn, flows, FEEDBACK_FLOWS.get(f["kind"], "team_rating"), f["answers"]),
                    }
                    for f in group.get("feedback", [])
                ],
                "team_ratings": group.get("team_ratings_about_you", {}).get("answers", 0),
            }
        )
    conversation = record["conversation"]
    messages = record["messages"]
    return {
        **values,
        "reports": record["direct_reports"],
        "accounts": record["chat_accounts"],
        "participations": [g for g in record["programmes"] if g.get("role")],
        "programmes": programmes,
        "coordinating": record["coordinator_of"],
        "grants": record["coordinator_grants"],
        "coordinator_work": {area: len(rows) for area, rows in record["as_coordinator"].items()},
        "open_questionnaire": (conversation.get("open") or {}).get("title"),
        "waiting": [w["title"] for w in conversation.get("waiting", [])],
        "stopped": [s["title"] for s in conversation.get("stopped", [])],
        "sent": len(messages["sent"]),
        "received": len(messages["received"]),
        "about_me": [
            {"when": _when(m["at"], time_zone), "text": m["text"]} for m in messages["about_you_to_others"][-SHOWN:]
        ],
        "scheduled": len(record["scheduled"]),
    }
