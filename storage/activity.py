"""Repositories for what happens in a programme: pairs and match runs, sessions, feedback, the audit log,
and the aggregates last shown."""

from __future__ import annotations

import hashlib
from typing import Any

from sqlalchemy import delete, select

from bot.domain import MatchPair, MatchRule, MatchRun
from bot.reports.aggregate import Figure, Released
from bot.sessions.model import Feedback, Resource, Session, SessionEvent
from storage.repositories import _copy_into, _domain, _Repo, insert_ignoring_duplicates
from storage.tables import (
    AuditRow,
    FeedbackRow,
    MatchPairRow,
    MatchRuleRow,
    MatchRunRow,
    ParticipantRow,
    ProgrammeRow,
    ReleasedFigureRow,
    ResourceRow,
    SessionEventRow,
    SessionRow,
)


class MatchingRepo(_Repo):
    """Published pairs, pins and forbids, and match runs."""

    def add_rule(self, rule: MatchRule) -> bool:
        return insert_ignoring_duplicates(self.session, MatchRuleRow, rule.model_dump(exclude={"id"}),
                                          ["programme_id", "kind", "mentee_id", "mentor_id"])

    def rules(self, programme_id: int) -> list[MatchRule]:
        rows = self.session.execute(select(MatchRuleRow).where(MatchRuleRow.programme_id == programme_id)
                                    .order_by(MatchRuleRow.id)).scalars()
        return [_domain(MatchRule, row) for row in rows]  # type: ignore[misc]

    def remove_rules(self, programme_id: int, mentee_id: int, mentor_id: int) -> int:
        result = self.session.execute(delete(MatchRuleRow).where(
            MatchRuleRow.programme_id == programme_id, MatchRuleRow.mentee_id == mentee_id,
            MatchRuleRow.mentor_id == mentor_id))
        return result.rowcount or 0

    def save_run(self, run: MatchRun) -> MatchRun:
        row = MatchRunRow(**run.model_dump(exclude={"id"}))
        row.created_at = self.now()
        self.session.add(row)
        self.session.flush()
        return _domain(MatchRun, row)  # type: ignore[return-value]

    def latest_run(self, programme_id: int) -> MatchRun | None:
        row = self.session.execute(select(MatchRunRow).where(MatchRunRow.programme_id == programme_id)
                                   .order_by(MatchRunRow.id.desc()).limit(1)).scalar_one_or_none()
        return _domain(MatchRun, row)

    def mark_published(self, run_id: int) -> None:
        row = self.session.get(MatchRunRow, run_id)
        if row is not None:
            row.published_at = row.published_at or self.now()

    def add_pair(self, pair: MatchPair) -> MatchPair | None:
        """Store a pair; None when exactly this pair was already stored."""
        values = pair.model_dump(exclude={"id"})
        values["created_at"] = self.now()
        if not insert_ignoring_duplicates(self.session, MatchPairRow, values,
                                          ["programme_id", "mentee_id", "mentor_id"]):
            return None
        row = self.session.execute(select(MatchPairRow).where(
            MatchPairRow.programme_id == pair.programme_id, MatchPairRow.mentee_id == pair.mentee_id,
            MatchPairRow.mentor_id == pair.mentor_id)).scalar_one()
        return _domain(MatchPair, row)

    def save_pair(self, pair: MatchPair) -> MatchPair:
        row = self.session.get(MatchPairRow, pair.id)
        if row is None:
            raise LookupError(f"pair {pair.id} does not exist")
        _copy_into(row, pair)
        self.session.flush()
        return _domain(MatchPair, row)  # type: ignore[return-value]

    def pairs(self, programme_id: int) -> list[MatchPair]:
        rows = self.session.execute(select(MatchPairRow).where(MatchPairRow.programme_id == programme_id)
                                    .order_by(MatchPairRow.id)).scalars()
        return [_domain(MatchPair, row) for row in rows]  # type: ignore[misc]

    def previous_pairs(self, tenant_id: int, exclude_programme: int) -> set[frozenset[int]]:
        """Person-id pairs from the tenant's other programmes (earlier cohorts)."""
        mentee, mentor = ParticipantRow.__table__.alias("mentee"), ParticipantRow.__table__.alias("mentor")  # type: ignore[attr-defined]
        rows = self.session.execute(
            select(mentee.c.person_id, mentor.c.person_id)
            .select_from(MatchPairRow)
            .join(mentee, mentee.c.id == MatchPairRow.mentee_id)
            .join(mentor, mentor.c.id == MatchPairRow.mentor_id)
            .join(ProgrammeRow, ProgrammeRow.id == MatchPairRow.programme_id)
            .where(ProgrammeRow.tenant_id == tenant_id, MatchPairRow.programme_id != exclude_programme)).all()
        return {frozenset(row) for row in rows}


class SessionsRepo(_Repo):
    """Sessions, what happened to them (by side), and programme resources."""

    def add(self, session: Session) -> Session:
        row = SessionRow(**session.model_dump(exclude={"id"}))
        self.session.add(row)
        self.session.flush()
        return _domain(Session, row)  # type: ignore[return-value]

    def save(self, session: Session) -> Session:
        row = self.session.get(SessionRow, session.id)
        if row is None:
            raise LookupError(f"session {session.id} does not exist")
        _copy_into(row, session)
        self.session.flush()
        return _domain(Session, row)  # type: ignore[return-value]

    def get(self, session_id: int) -> Session | None:
        return _domain(Session, self.session.get(SessionRow, session_id))

    def of_circle(self, circle: str) -> list[Session]:
        rows = self.session.execute(select(SessionRow).where(SessionRow.circle == circle)
                                    .order_by(SessionRow.sequence)).scalars()
        return [_domain(Session, row) for row in rows]  # type: ignore[misc]

    def of_programme(self, programme_id: int) -> list[Session]:
        rows = self.session.execute(select(SessionRow).where(SessionRow.programme_id == programme_id)
                                    .order_by(SessionRow.starts_at, SessionRow.id)).scalars()
        return [_domain(Session, row) for row in rows]  # type: ignore[misc]

    def record(self, event: SessionEvent) -> None:
        row = SessionEventRow(**event.model_dump(exclude={"id"}))
        row.at = row.at or self.now()
        self.session.add(row)
        self.session.flush()

    def events(self, programme_id: int, circle: str | None = None) -> list[SessionEvent]:
        query = select(SessionEventRow).where(SessionEventRow.programme_id == programme_id)
        if circle is not None:
            query = query.where(SessionEventRow.circle == circle)
        rows = self.session.execute(query.order_by(SessionEventRow.id)).scalars()
        return [_domain(SessionEvent, row) for row in rows]  # type: ignore[misc]

    def add_resource(self, resource: Resource) -> Resource:
        row = ResourceRow(**resource.model_dump(exclude={"id"}))
        row.created_at = self.now()
        self.session.add(row)
        self.session.flush()
        return _domain(Resource, row)  # type: ignore[return-value]

    def resources(self, programme_id: int) -> list[Resource]:
        rows = self.session.execute(select(ResourceRow).where(ResourceRow.programme_id == programme_id)
                                    .order_by(ResourceRow.id)).scalars()
        return [_domain(Resource, row) for row in rows]  # type: ignore[misc]


class FeedbackRepo(_Repo):
    """Pulses, surveys and check-ins."""

    def add(self, feedback: Feedback) -> bool:
        values = feedback.model_dump(exclude={"id"})
        values["created_at"] = self.now()
        return insert_ignoring_duplicates(self.session, FeedbackRow, values, ["person_id", "kind", "subject"])

    def exists(self, person_id: int, kind: str, subject: str) -> bool:
        return self.session.execute(select(FeedbackRow.id).where(
            FeedbackRow.person_id == person_id, FeedbackRow.kind == kind,
            FeedbackRow.subject == subject)).first() is not None

    def forget(self, person_id: int) -> None:
        """Keep ratings for anonymous totals; drop every word the person wrote, and check-ins (named)."""
        self.session.execute(delete(FeedbackRow).where(FeedbackRow.person_id == person_id,
                                                       FeedbackRow.kind == "checkin"))
        for row in self.session.execute(select(FeedbackRow).where(FeedbackRow.person_id == person_id)).scalars():
            row.answers = {k: v for k, v in row.answers.items() if k not in ("comment", "share")}
            row.share_comment = False
        self.session.flush()

    def of_programme(self, programme_id: int, kind: str | None = None) -> list[Feedback]:
        query = select(FeedbackRow).where(FeedbackRow.programme_id == programme_id)
        if kind is not None:
            query = query.where(FeedbackRow.kind == kind)
        rows = self.session.execute(query.order_by(FeedbackRow.id)).scalars()
        return [_domain(Feedback, row) for row in rows]  # type: ignore[misc]


class AuditRepo(_Repo):
    """Coordinator actions, for coordinators to read."""

    def add(self, tenant_id: int, programme_id: int | None, person_id: int | None, verb: str, detail: str) -> None:
        self.session.add(AuditRow(tenant_id=tenant_id, programme_id=programme_id, person_id=person_id, verb=verb,
                                  detail=detail[:500], at=self.now()))
        self.session.flush()

    def of_programme(self, programme_id: int, limit: int = 50) -> list[dict[str, Any]]:
        rows = self.session.execute(select(AuditRow).where(AuditRow.programme_id == programme_id)
                                    .order_by(AuditRow.id.desc()).limit(limit)).scalars()
        return [{"at": r.at, "person_id": r.person_id, "verb": r.verb, "detail": r.detail} for r in rows]


CELL_LENGTH = 64


def _cell_key(cell: str) -> str:
    """The cell as stored: long names (a long department name) keep their start and gain a digest."""
    if len(cell) <= CELL_LENGTH:
        return cell
    return f"{cell[:CELL_LENGTH - 17]}#{hashlib.sha256(cell.encode()).hexdigest()[:16]}"


class FiguresRepo(_Repo):
    """The aggregates last shown per programme (see ``bot.reports.aggregate.steady``)."""

    def released(self, programme_id: int, cell: str) -> Released | None:
        row = self.session.get(ReleasedFigureRow, (programme_id, _cell_key(cell)))
        if row is None:
            return None
        return Released(figure=Figure(respondents=row.respondents, mean=row.mean), as_of=row.as_of)

    def release(self, programme_id: int, cell: str, released: Released) -> None:
        cell = _cell_key(cell)
        row = self.session.get(ReleasedFigureRow, (programme_id, cell))
        if row is None:
            row = ReleasedFigureRow(programme_id=programme_id, cell=cell, respondents=0, mean=0.0, as_of=released.as_of)
            self.session.add(row)
        row.respondents, row.mean, row.as_of = released.figure.respondents, released.figure.mean, released.as_of
        self.session.flush()
