"""Repositories for what happens in a programme: pairs and match runs, sessions, feedback and the audit log."""

from __future__ import annotations

from typing import Any

from sqlalchemy import delete
from sqlalchemy import select as core_select

from bot.domain import MatchPair, MatchRule, MatchRun, NewMatchPair, NewMatchRule, NewMatchRun
from bot.sessions.model import (
    Feedback,
    NewFeedback,
    NewResource,
    NewSession,
    NewSessionEvent,
    Resource,
    Session,
    SessionEvent,
)
from storage.erasure import words_pattern
from storage.repositories import _copy_into, _Repo
from storage.sql import (
    col,
    insert_ignoring_duplicates,
    listed,
    read_once,
    rowcount,
    select,
    table,
    to_domain,
    to_domain_or_none,
)
from storage.tables import (
    AuditRow,
    FeedbackRow,
    MatchPairRow,
    MatchRuleRow,
    MatchRunRow,
    ParticipantRow,
    ProgrammeRow,
    ResourceRow,
    SessionEventRow,
    SessionRow,
)

_FEEDBACK = "rmbot.feedback"
"""Where a unit of work's session remembers the feedback it read (see :class:`FeedbackRepo`)."""


class MatchingRepo(_Repo):
    """Published pairs, pins and forbids, and match runs."""

    def add_rule(self, rule: NewMatchRule) -> bool:
        return insert_ignoring_duplicates(
            self.session,
            MatchRuleRow,
            rule.model_dump(exclude={"id"}),
            ["programme_id", "kind", "mentee_id", "mentor_id"],
        )

    def rules(self, programme_id: int) -> list[MatchRule]:
        rules = table(MatchRuleRow)
        statement = core_select(rules).where(rules.c.programme_id == programme_id).order_by(rules.c.id)
        return listed(self.session, MatchRule, statement)  # thousands of forbids: no ORM instance per row

    def remove_rules(self, programme_id: int, mentee_id: int, mentor_id: int) -> int:
        result = self.session.execute(
            delete(MatchRuleRow).where(
                col(MatchRuleRow.programme_id) == programme_id,
                col(MatchRuleRow.mentee_id) == mentee_id,
                col(MatchRuleRow.mentor_id) == mentor_id,
            )
        )
        return rowcount(result)

    def save_run(self, run: NewMatchRun) -> MatchRun:
        row = MatchRunRow(**run.model_dump(exclude={"id"}))
        row.created_at = self.now()
        self.session.add(row)
        self.session.flush()
        return to_domain(MatchRun, row)

    def latest_run(self, programme_id: int) -> MatchRun | None:
        row = self.session.exec(
            select(MatchRunRow)
            .where(MatchRunRow.programme_id == programme_id)
            .order_by(col(MatchRunRow.id).desc())
            .limit(1)
        ).one_or_none()
        return to_domain_or_none(MatchRun, row)

    def mark_published(self, run_id: int) -> None:
        row = self.session.get(MatchRunRow, run_id)
        if row is not None:
            row.published_at = row.published_at or self.now()

    def add_pair(self, pair: NewMatchPair) -> MatchPair | None:
        """Store a pair; None when exactly this pair was already stored."""
        values = pair.model_dump(exclude={"id"})
        values["created_at"] = self.now()
        if not insert_ignoring_duplicates(
            self.session, MatchPairRow, values, ["programme_id", "mentee_id", "mentor_id"]
        ):
            return None
        row = self.session.exec(
            select(MatchPairRow).where(
                MatchPairRow.programme_id == pair.programme_id,
                MatchPairRow.mentee_id == pair.mentee_id,
                MatchPairRow.mentor_id == pair.mentor_id,
            )
        ).one()
        return to_domain_or_none(MatchPair, row)

    def save_pair(self, pair: MatchPair) -> MatchPair:
        row = self.session.get(MatchPairRow, pair.id)
        if row is None:
            raise LookupError(f"pair {pair.id} does not exist")
        _copy_into(row, pair)
        self.session.flush()
        return to_domain(MatchPair, row)

    def pairs(self, programme_id: int) -> list[MatchPair]:
        pairs = table(MatchPairRow)
        statement = core_select(pairs).where(pairs.c.programme_id == programme_id).order_by(pairs.c.id)
        load = lambda: listed(self.session, MatchPair, statement)  # noqa: E731
        return read_once(self.session, ("pairs", programme_id), ("match_pair",), load)

    def previous_pairs(self, tenant_id: int, exclude_programme: int) -> set[frozenset[int]]:
        """Person-id pairs from the tenant's other programmes (earlier cohorts)."""
        mentee, mentor = table(ParticipantRow).alias("mentee"), table(ParticipantRow).alias("mentor")
        rows = self.session.exec(
            select(mentee.c.person_id, mentor.c.person_id)
            .select_from(MatchPairRow)
            .join(mentee, mentee.c.id == MatchPairRow.mentee_id)
            .join(mentor, mentor.c.id == MatchPairRow.mentor_id)
            .join(ProgrammeRow, col(ProgrammeRow.id) == MatchPairRow.programme_id)
            .where(ProgrammeRow.tenant_id == tenant_id, MatchPairRow.programme_id != exclude_programme)
        ).all()
        return {frozenset(row) for row in rows}


class SessionsRepo(_Repo):
    """Sessions, what happened to them (by side), and programme resources."""

    def add(self, session: NewSession) -> Session:
        row = SessionRow(**session.model_dump(exclude={"id"}))
        self.session.add(row)
        self.session.flush()
        return to_domain(Session, row)

    def save(self, session: Session) -> Session:
        row = self.session.get(SessionRow, session.id)
        if row is None:
            raise LookupError(f"session {session.id} does not exist")
        _copy_into(row, session)
        self.session.flush()
        return to_domain(Session, row)

    def get(self, session_id: int) -> Session | None:
        return to_domain_or_none(Session, self.session.get(SessionRow, session_id))

    def of_circle(self, circle: str) -> list[Session]:
        rows = self.session.exec(
            select(SessionRow).where(SessionRow.circle == circle).order_by(col(SessionRow.sequence))
        )
        return [to_domain(Session, row) for row in rows]

    def of_programme(self, programme_id: int) -> list[Session]:
        rows = self.session.exec(
            select(SessionRow)
            .where(SessionRow.programme_id == programme_id)
            .order_by(col(SessionRow.starts_at), col(SessionRow.id))
        )
        return [to_domain(Session, row) for row in rows]

    def record(self, event: NewSessionEvent) -> None:
        row = SessionEventRow(**event.model_dump(exclude={"id"}))
        row.at = row.at or self.now()
        self.session.add(row)
        self.session.flush()

    def events(self, programme_id: int, circle: str | None = None) -> list[SessionEvent]:
        query = select(SessionEventRow).where(SessionEventRow.programme_id == programme_id)
        if circle is not None:
            query = query.where(SessionEventRow.circle == circle)
        rows = self.session.exec(query.order_by(col(SessionEventRow.id)))
        return [to_domain(SessionEvent, row) for row in rows]

    def add_resource(self, resource: NewResource) -> Resource:
        row = ResourceRow(**resource.model_dump(exclude={"id"}))
        row.created_at = self.now()
        self.session.add(row)
        self.session.flush()
        return to_domain(Resource, row)

    def resources(self, programme_id: int) -> list[Resource]:
        rows = self.session.exec(
            select(ResourceRow).where(ResourceRow.programme_id == programme_id).order_by(col(ResourceRow.id))
        )
        return [to_domain(Resource, row) for row in rows]


class FeedbackRepo(_Repo):
    """Pulses, surveys and check-ins.

    A programme's feedback of one kind is read once per transaction (the figures of ``status``, ``report`` and the
    dashboard ask for the same kinds several times): kept while the same transaction or savepoint is current and
    nothing was added or forgotten through this repository."""

    def _current(self) -> Any:
        return self.session.get_nested_transaction() or self.session.get_transaction()

    def _remembered(self) -> dict[tuple[int, str | None], list[Feedback]]:
        held = self.session.info.get(_FEEDBACK)
        if held is None or held[0] is not self._current():
            held = self.session.info[_FEEDBACK] = (self._current(), {})
        found: dict[tuple[int, str | None], list[Feedback]] = held[1]
        return found

    def add(self, feedback: NewFeedback) -> bool:
        self.session.info.pop(_FEEDBACK, None)
        values = feedback.model_dump(exclude={"id"})
        values["created_at"] = self.now()
        return insert_ignoring_duplicates(self.session, FeedbackRow, values, ["person_id", "kind", "subject"])

    def exists(self, person_id: int, kind: str, subject: str) -> bool:
        return (
            self.session.execute(
                select(FeedbackRow.id).where(
                    FeedbackRow.person_id == person_id, FeedbackRow.kind == kind, FeedbackRow.subject == subject
                )
            ).first()
            is not None
        )

    def forget(self, person_id: int) -> None:
        """Keep ratings for anonymous totals; drop every word the person wrote, and check-ins (named)."""
        self.session.info.pop(_FEEDBACK, None)
        self.session.execute(
            delete(FeedbackRow).where(col(FeedbackRow.person_id) == person_id, col(FeedbackRow.kind) == "checkin")
        )
        for row in self.session.exec(select(FeedbackRow).where(FeedbackRow.person_id == person_id)):
            row.answers = {k: v for k, v in row.answers.items() if k not in ("comment", "share")}
            row.share_comment = False
        self.session.flush()

    def of_programme(self, programme_id: int, kind: str | None = None) -> list[Feedback]:
        remembered = self._remembered()
        if (programme_id, kind) not in remembered:
            query = select(FeedbackRow).where(FeedbackRow.programme_id == programme_id)
            if kind is not None:
                query = query.where(FeedbackRow.kind == kind)
            rows = self.session.exec(query.order_by(col(FeedbackRow.id)))
            remembered[(programme_id, kind)] = [to_domain(Feedback, row) for row in rows]
        return [feedback.model_copy() for feedback in remembered[(programme_id, kind)]]


class AuditRepo(_Repo):
    """Coordinator actions, for coordinators to read."""

    def add(self, tenant_id: int, programme_id: int | None, person_id: int | None, verb: str, detail: str) -> None:
        self.session.add(
            AuditRow(
                tenant_id=tenant_id,
                programme_id=programme_id,
                person_id=person_id,
                verb=verb,
                detail=detail[:500],
                at=self.now(),
            )
        )
        self.session.flush()

    def of_programme(self, programme_id: int, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.session.exec(
            select(AuditRow).where(AuditRow.programme_id == programme_id).order_by(col(AuditRow.id).desc()).limit(limit)
        )
        return [
            {"at": r.at, "person_id": r.person_id, "actor": r.actor, "verb": r.verb, "detail": r.detail} for r in rows
        ]

    def pseudonymise(self, tenant_id: int, person_id: int, words: frozenset[str], pseudonym: str) -> None:
        """Entries by the person, or naming them, keep their facts under ``pseudonym`` (``forget-me``)."""
        naming = words_pattern(words)
        for row in self.session.exec(select(AuditRow).where(AuditRow.tenant_id == tenant_id)).all():
            if row.person_id == person_id:
                row.person_id, row.actor = None, pseudonym
            if naming is not None and naming.search(row.detail):
                row.detail = naming.sub(pseudonym, row.detail)[:500]
        self.session.flush()
