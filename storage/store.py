"""The SQL store: opens units of work and exposes the inbox, outbox and schedule."""

from __future__ import annotations

import functools
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta

from sqlalchemy import text
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import SQLAlchemyError
from sqlmodel import Session

from bot.domain import Tenant
from bot.ports import Store
from storage import db
from storage.activity import AuditRepo, FeedbackRepo, MatchingRepo, SessionsRepo
from storage.calendars import CalendarRequestsRepo, SqlCalendarQueue
from storage.conversations import ConversationRepo
from storage.coordinators import CoordinatorRepo
from storage.directory import DirectoryRepo
from storage.directory_sync import DirectorySyncRepo
from storage.erasure import ErasureRepo, redact_expired
from storage.grants import CoordinatorGrantRepo
from storage.inbox import SqlInbox
from storage.leader import AdvisoryLockLeadership, SoleLeadership, leadership_for
from storage.personal_data import PersonalDataRepo
from storage.purge import purge_tenant
from storage.queue_writers import OutboxRepo, ScheduleRepo
from storage.queues import SqlOutbox
from storage.releases import FiguresRepo
from storage.repositories import (
    ParticipantRepo,
    PeopleRepo,
    ProgrammeRepo,
    TenantRepo,
)
from storage.schedule import SqlSchedule
from storage.slack_workspaces import SqlSlackTenants
from storage.sql import writes_so_far
from storage.tables import TenantRow
from storage.teams_records import SqlTeamsRecords

PAYLOAD_RETENTION = timedelta(days=30)
_shipped_head = functools.cache(db.head_revision)  # the migrations on disk do not change while the process runs


def _utcnow() -> datetime:
    return datetime.now(UTC)


class SqlUnitOfWork:
    """Every repository over one session; the transaction commits when the block exits cleanly.

    ``known_tenants``: the store's memory of committed tenants (see :class:`storage.repositories.TenantRepo`)."""

    def __init__(
        self,
        session: Session,
        now: Callable[[], datetime],
        known_tenants: dict[tuple[str, str], Tenant] | None = None,
    ) -> None:
        self.session = session
        self.tenants = TenantRepo(session, now, known_tenants)
        self.people = PeopleRepo(session, now)
        self.programmes = ProgrammeRepo(session, now)
        self.directory = DirectoryRepo(session, now)
        self.participants = ParticipantRepo(session, now)
        self.coordinators = CoordinatorRepo(session, now)
        self.grants = CoordinatorGrantRepo(session, now)
        self.conversations = ConversationRepo(session, now)
        self.outbox = OutboxRepo(session, now)
        self.schedule = ScheduleRepo(session, now)
        self.matching = MatchingRepo(session, now)
        self.sessions = SessionsRepo(session, now)
        self.feedback = FeedbackRepo(session, now)
        self.audit = AuditRepo(session, now)
        self.figures = FiguresRepo(session, now)
        self.personal_data = PersonalDataRepo(session, now)
        self.erasure = ErasureRepo(session, now)
        self.directory_sync = DirectorySyncRepo(session, now)
        self.calendars = CalendarRequestsRepo(session, now)

    def mark(self) -> int:
        self.session.flush()
        return writes_so_far(self.session)

    def changed_since(self, mark: int) -> bool:
        session = self.session
        return bool(session.new or session.dirty or session.deleted) or writes_so_far(session) != mark


class SqlStore:
    """The durable store on SQLite or PostgreSQL."""

    def __init__(self, engine: Engine, now: Callable[[], datetime] = _utcnow) -> None:
        self.engine = engine
        self.now = now
        self.inbox = SqlInbox(engine, now)
        self.outbox = SqlOutbox(engine, now)
        self.schedule = SqlSchedule(engine, now)
        self.slack = SqlSlackTenants(engine)
        self.teams = SqlTeamsRecords(engine)
        self.calendars = SqlCalendarQueue(engine, now)
        self.payload_retention = PAYLOAD_RETENTION
        """How long handled inbox payloads and delivered outbox payloads are kept (RMBOT_PAYLOAD_RETENTION_DAYS)."""
        self._tenants: dict[tuple[str, str], Tenant] = {}
        """Tenants committed to this database, by (platform, key): their rows never change, so they are read once."""
        self._held = threading.local()
        """The connection a thread holds for a batch of units of work (:meth:`one_connection`)."""

    @classmethod
    def open(
        cls, url: str, *, migrate: bool = True, schema: str | None = None, now: Callable[[], datetime] = _utcnow
    ) -> SqlStore:
        """Connect to ``url`` and (by default) bring the schema up to date."""
        engine = db.make_engine(url, schema=schema)
        if migrate:
            db.upgrade(engine)
        return cls(engine, now)

    @contextmanager
    def unit_of_work(self) -> Iterator[SqlUnitOfWork]:
        held: Connection | None = getattr(self._held, "connection", None)
        with Session(held or self.engine, expire_on_commit=False) as session:
            with session.begin():
                uow = SqlUnitOfWork(session, self.now, self._tenants)
                yield uow
            self._tenants.update(uow.tenants.found)  # committed: remembered for the units of work to come

    @contextmanager
    def one_connection(self) -> Iterator[None]:
        """Run this thread's units of work inside on one connection: taken from the pool (and, on PostgreSQL, its
        liveness checked) once for the batch rather than once per unit of work. Each unit of work still commits
        on its own. A connection that breaks mid-batch is replaced on its next use."""
        if getattr(self._held, "connection", None) is not None:
            yield
            return
        with self.engine.connect() as connection:
            self._held.connection = connection
            try:
                yield
            finally:
                self._held.connection = None

    def ping(self) -> bool:
        try:
            with self.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
            return True
        except SQLAlchemyError:
            return False

    def redact_expired_payloads(self) -> int:
        """Redact message payloads handled or delivered longer ago than ``payload_retention`` (see the port)."""
        return redact_expired(self.engine, self.now() - self.payload_retention, self.now)

    def purge_tenant(self, tenant_id: int) -> dict[str, int]:
        """Delete a tenant and everything that belongs to it (``storage/purge.py``); rows deleted per table."""
        with Session(self.engine) as session:
            found = session.get(TenantRow, tenant_id)
            key = (found.platform, found.external_id) if found is not None else None
        spooled = self.inbox.spool.forget_tenant(*key) if key and self.inbox.spool is not None else 0
        deleted = purge_tenant(self.engine, tenant_id)
        if key and self.inbox.spool is not None:  # gathered meanwhile, or accepted since: gone too
            spooled += self.inbox.spool.forget_tenant(*key)
        if spooled:
            deleted["inbox_event (spool)"] = spooled
        for key, tenant in list(self._tenants.items()):
            if tenant.id == tenant_id:
                del self._tenants[key]
        return deleted

    def schema_revisions(self) -> tuple[str | None, str | None]:
        """The migration the database is at, and the newest this version ships."""
        return db.current_revision(self.engine), _shipped_head()

    @property
    def dialect(self) -> str:
        """The database behind the store: ``sqlite`` or ``postgresql``."""
        return self.engine.dialect.name

    def leadership(self) -> SoleLeadership | AdvisoryLockLeadership:
        """Scheduler leadership among the replicas sharing this database (``storage/leader.py``)."""
        return leadership_for(self.engine)

    def close(self) -> None:
        self.inbox.close()
        self.engine.dispose()


def as_port(store: SqlStore) -> Store:
    """The store as the engine's :class:`bot.ports.Store` port (type checkers verify here that it is one)."""
    return store
