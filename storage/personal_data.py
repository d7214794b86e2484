"""What ``my-data`` exports: every stored record that names a person, read source by source.

``SOURCES`` says, for each source, which table it reads and by which columns the person's rows are found. A test
enumerates the columns of the migrated database that name a person (foreign keys to a person or a participant,
and columns named like one) and fails when one is neither read here nor excused with a reason: a new table
cannot be left out of the export unnoticed.

What others said about the person in confidence is never read: a partner's pulses and notes are theirs; team
ratings about a mentee are counted, never returned; a do-not-pair rule and a matching run say nothing of the
other person.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from sqlalchemy import String, cast, or_
from sqlmodel import SQLModel

from storage.directory_sync import DirectorySourcePersonRow
from storage.repositories import _Repo
from storage.sql import col, select
from storage.tables import (
    AuditRow,
    ConversationStateRow,
    CoordinatorGrantRow,
    FeedbackRow,
    InboxEventRow,
    MatchPairRow,
    MatchRuleRow,
    MatchRunRow,
    NudgeCountRow,
    OutboxMessageRow,
    ParticipantRow,
    PersonIdentityRow,
    PersonRow,
    ProgrammeCoordinatorRow,
    ResourceRow,
    ScheduledJobRow,
    SessionEventRow,
    SessionRow,
    TenantCoordinatorRow,
    TenantRow,
)

SOURCES: dict[str, tuple[str, tuple[str, ...]]] = {
    "person": ("person", ("id",)),
    "direct_reports": ("person", ("manager_id",)),
    "chat_accounts": ("person_identity", ("person_id",)),
    "directory_sync": ("directory_source_person", ("person_id",)),
    "participations": ("participant", ("person_id",)),
    "invited": ("participant", ("invited_by",)),
    "tenant_coordinator": ("tenant_coordinator", ("person_id",)),
    "coordinator_of": ("programme_coordinator", ("person_id",)),
    "coordinators_added": ("programme_coordinator", ("added_by",)),
    "coordinator_offer": ("coordinator_grant", ("person_id",)),
    "conversation": ("conversation_state", ("person_id",)),
    "pairs": ("match_pair", ("mentee_id", "mentor_id")),
    "match_rules_about_you": ("match_rule", ("mentee_id", "mentor_id")),
    "match_rules_made": ("match_rule", ("created_by",)),
    "match_runs_about_you": ("match_run", ("result",)),
    "match_runs_made": ("match_run", ("created_by",)),
    "sessions": ("session", ("mentor_id", "mentee_ids")),
    "session_events": ("session_event", ("person_id", "circle")),
    "resources_added": ("resource", ("added_by",)),
    "feedback": ("feedback", ("person_id",)),
    "team_ratings_about_you": ("feedback", ("subject",)),
    "nudges": ("nudge_count", ("person_id",)),
    "audit_log": ("audit_log", ("person_id",)),
    "scheduled": ("scheduled_job", ("payload",)),
    "messages_sent": ("inbox_event", ("user_key",)),
    "messages_received": ("outbox_message", ("recipients", "person_id")),  # person_id: the one recipient, when one
    "messages_about_you": ("outbox_message", ("payload",)),
}
"""Source name -> (table, the columns that name the person in it)."""


def _dump(row: SQLModel, only: Iterable[str] | None = None) -> dict[str, Any]:
    values = row.model_dump(mode="json")
    return values if only is None else {k: values[k] for k in only}


def _circle_members(key: str) -> set[int]:
    """The participant ids a circle key (``<mentor>:<mentee>-<mentee>``) names."""
    mentor, _, mentees = key.partition(":")
    return {int(part) for part in [mentor, *mentees.split("-")] if part.isdigit()}


class PersonalDataRepo(_Repo):
    """Everything stored about one person (see :class:`bot.ports.PersonalDataRepository`)."""

    def gather(self, tenant_id: int, person_id: int) -> dict[str, list[dict[str, Any]]]:
        me = self.session.get(PersonRow, person_id)
        if me is None or me.tenant_id != tenant_id:
            return {}
        found: dict[str, list[dict[str, Any]]] = {"person": [_dump(me)]}
        found |= self._by_person_id(person_id)
        found["direct_reports"] = [
            _dump(r, ["id", "name"]) for r in self._all(PersonRow, col(PersonRow.manager_id) == person_id)
        ]
        mine = self._all(ParticipantRow, col(ParticipantRow.person_id) == person_id)
        found["participations"] = [_dump(r) for r in mine]
        found["invited"] = [
            _dump(r, ["programme_id", "person_id", "role", "joined_at"])
            for r in self._all(ParticipantRow, col(ParticipantRow.invited_by) == person_id)
        ]
        found["coordinators_added"] = [
            _dump(r, ["programme_id", "person_id", "added_at"])
            for r in self._all(ProgrammeCoordinatorRow, col(ProgrammeCoordinatorRow.added_by) == person_id)
        ]
        found["resources_added"] = [_dump(r) for r in self._all(ResourceRow, col(ResourceRow.added_by) == person_id)]
        found["match_rules_made"] = [
            _dump(r) for r in self._all(MatchRuleRow, col(MatchRuleRow.created_by) == person_id)
        ]
        found["match_runs_made"] = [
            _dump(r, ["id", "programme_id", "mode", "seed", "created_at", "published_at"])
            for r in self._all(MatchRunRow, col(MatchRunRow.created_by) == person_id)
        ]
        found |= self._programme_records(person_id, {r.id for r in mine if r.id}, {r.programme_id for r in mine})
        found |= self._messages(tenant_id, person_id)
        return {source: rows for source, rows in found.items() if rows}

    def _all(self, model: type[SQLModel], *conditions: Any) -> list[Any]:
        return list(self.session.exec(select(model).where(*conditions)).all())

    def _by_person_id(self, person_id: int) -> dict[str, list[dict[str, Any]]]:
        """The tables whose rows belong to the person outright."""
        owned: dict[str, tuple[type[SQLModel], Any]] = {
            "chat_accounts": (PersonIdentityRow, PersonIdentityRow.person_id),
            "directory_sync": (DirectorySourcePersonRow, DirectorySourcePersonRow.person_id),
            "tenant_coordinator": (TenantCoordinatorRow, TenantCoordinatorRow.person_id),
            "coordinator_of": (ProgrammeCoordinatorRow, ProgrammeCoordinatorRow.person_id),
            "coordinator_offer": (CoordinatorGrantRow, CoordinatorGrantRow.person_id),
            "conversation": (ConversationStateRow, ConversationStateRow.person_id),
            "feedback": (FeedbackRow, FeedbackRow.person_id),
            "nudges": (NudgeCountRow, NudgeCountRow.person_id),
            "audit_log": (AuditRow, AuditRow.person_id),
        }
        return {
            source: [_dump(row) for row in self._all(model, col(column) == person_id)]
            for source, (model, column) in owned.items()
        }

    def _programme_records(
        self, person_id: int, participants: set[int], programmes: set[int]
    ) -> dict[str, list[dict[str, Any]]]:
        """Pairs, sessions and their history, matching, team ratings (counted) and scheduled work."""
        in_mine = col(SessionRow.programme_id).in_(programmes)
        sessions = [s for s in self._all(SessionRow, in_mine) if participants & {s.mentor_id, *s.mentee_ids}]
        events = [
            e
            for e in self._all(SessionEventRow, col(SessionEventRow.programme_id).in_(programmes))
            if e.person_id == person_id or participants & _circle_members(e.circle)
        ]
        pairs = self._all(
            MatchPairRow,
            or_(col(MatchPairRow.mentee_id).in_(participants), col(MatchPairRow.mentor_id).in_(participants)),
        )
        rules = self._all(
            MatchRuleRow,
            or_(col(MatchRuleRow.mentee_id).in_(participants), col(MatchRuleRow.mentor_id).in_(participants)),
        )
        team = self._all(
            FeedbackRow,
            col(FeedbackRow.programme_id).in_(programmes),
            col(FeedbackRow.kind).like("team\\_%", escape="\\"),
            col(FeedbackRow.subject).like(f"%:{person_id}"),
        )
        return {
            "pairs": [_dump(p) for p in pairs],
            "sessions": [_dump(s) for s in sessions],
            "session_events": [_dump(e) for e in events],
            "match_rules_about_you": [_dump(r, ["programme_id", "kind"]) for r in rules],
            "match_runs_about_you": self._runs_about(participants, programmes),
            "team_ratings_about_you": [
                _dump(f, ["programme_id", "kind"]) for f in team if f.subject.rpartition(":")[2] == str(person_id)
            ],
            "scheduled": self._scheduled(person_id, participants, {s.id for s in sessions if s.id}),
        }

    def _runs_about(self, participants: set[int], programmes: set[int]) -> list[dict[str, Any]]:
        """The person's own lines of each matching run: their score and reasons, or why they were not matched;
        never who the other candidate was."""
        lines = []
        for run in self._all(MatchRunRow, col(MatchRunRow.programme_id).in_(programmes)):
            when = _dump(run, ["programme_id", "mode", "created_at", "published_at"])
            for pair in run.result.get("pairs", []):
                if participants & {pair.get("mentee"), pair.get("mentor")}:
                    kept = {k: pair.get(k) for k in ("score", "pinned", "reasons")}
                    lines.append({**when, "matched": True, **kept})
            for unmatched in run.result.get("unmatched", []):
                if unmatched.get("participant") in participants:
                    lines.append({**when, "matched": False, "reason": unmatched.get("reason")})
        return lines

    def _scheduled(self, person_id: int, participants: set[int], sessions: set[int]) -> list[dict[str, Any]]:
        """Jobs waiting or done for the person: reminders, questionnaires, follow-ups of their sessions."""

        def names_me(payload: dict[str, Any]) -> bool:
            return (
                payload.get("person_id") == person_id
                or payload.get("participant_id") in participants
                or payload.get("session_id") in sessions
                or bool(participants & _circle_members(str(payload.get("circle", ""))))
            )

        me = self.session.get(PersonRow, person_id)
        tenant = me.tenant_id if me else -1
        jobs = self._all(ScheduledJobRow, col(ScheduledJobRow.tenant_id) == tenant)
        return [_dump(job, ["kind", "due_at", "status"]) for job in jobs if names_me(job.payload)]

    def _messages(self, tenant_id: int, person_id: int) -> dict[str, list[dict[str, Any]]]:
        """What the person sent the bot, what it sent them, and alerts about them sent to others."""
        tenant = self.session.get(TenantRow, tenant_id)
        accounts = [
            i.external_id
            for i in self._all(PersonIdentityRow, col(PersonIdentityRow.person_id) == person_id)
            if tenant is not None and i.platform == tenant.platform
        ]
        me = self.session.get(PersonRow, person_id)
        if tenant is not None and tenant.platform == "console" and me is not None and me.email:
            accounts.append(me.email)  # the console names people by email
        sent = self._all(
            InboxEventRow,
            col(InboxEventRow.platform) == (tenant.platform if tenant else ""),
            col(InboxEventRow.tenant_key) == (tenant.external_id if tenant else ""),
            col(InboxEventRow.user_key).in_(accounts),
        )
        to_me = self._all(
            OutboxMessageRow,
            col(OutboxMessageRow.tenant_id) == tenant_id,
            cast(col(OutboxMessageRow.recipients), String).like(f"%{person_id}%"),
        )
        about = self._all(
            OutboxMessageRow,
            col(OutboxMessageRow.tenant_id) == tenant_id,
            ~cast(col(OutboxMessageRow.payload), String).like('%"about": []%'),
        )
        outgoing = ["created_at", "sent_at", "status", "payload"]
        return {
            "messages_sent": [_dump(e, ["received_at", "status", "payload"]) for e in sorted(sent, key=_by_id)],
            "messages_received": [_dump(m, outgoing) for m in sorted(to_me, key=_by_id) if person_id in m.recipients],
            "messages_about_you": [
                _dump(m, outgoing)
                for m in sorted(about, key=_by_id)
                if person_id in m.payload.get("about", []) and person_id not in m.recipients
            ],
        }


def _by_id(row: Any) -> int:
    return int(row.id or 0)
