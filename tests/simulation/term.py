"""Play whole terms day by day through the chat harness: the real engine, runtime, outbox and `run-due` path."""

from __future__ import annotations

import heapq
import itertools
import logging
import random
from collections.abc import Callable
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import func
from sqlmodel import Session, select

from bot.clock import OffsetClock
from bot.model import Action, Choice, OutgoingMessage
from bot.wording import unescape
from chat import Chat
from simulation import organisation
from simulation.behaviours import Behaviour, load
from simulation.calendar import check_invites
from simulation.log import Questionnaire, Stop, TermLog
from simulation.questionnaires import on_question
from simulation.reactions import flow_of
from simulation.sessions import on_followup, on_offer
from simulation.wording import apology, closed_notice, lost_notice, team_rating_label
from storage.sql import col
from storage.store import SqlStore
from storage.tables import OutboxMessageRow

TICK = timedelta(hours=3)


class ErrorLog(logging.Handler):
    """Every error or exception logged while the simulation runs."""

    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


class Simulation:
    """One organisation, played term after term; ``terms`` keeps each term's log."""

    def __init__(self, store: SqlStore, seed: int, people: int = 64, term_weeks: int = 12) -> None:
        self.rng = random.Random(seed)
        self.seed = seed
        self.start = datetime(2030, 1, 2, 0, 0, tzinfo=UTC)
        self.chat = Chat(store, OffsetClock(start=self.start))
        self.store = store
        self.term_weeks = term_weeks
        self.org = organisation.build(people, self.rng)
        self.members = self.org.by_email()
        self.profiles = load()
        self.behaviour: dict[str, Behaviour] = {}
        with store.unit_of_work() as uow:
            self.tenant_id = uow.tenants.ensure("console", "console").id
        organisation.load(store, self.tenant_id, self.org)
        self.email_of = {self.chat.person(m.email).id: m.email for m in self.org.members}
        self.chat.make_tenant_coordinator(self.org.coordinator)
        self.cursor: dict[int, int] = {}
        self.queue: list[tuple[datetime, int, Callable[[], None]]] = []
        self.order = itertools.count()
        self.current: dict[str, Questionnaire] = {}
        self.shown: dict[str, OutgoingMessage] = {}
        self.continued: set[str] = set()
        self.actor = ""
        self.followups: dict[str, set[str]] = {}
        self.truth: dict[str, tuple[str, str]] = {}
        self.gone: set[str] = set()
        self.acts = 0
        self.messages = 0
        self.terms: list[TermLog] = []
        self.log = TermLog(started=self.start)
        self.errors = ErrorLog()
        self.day = 0
        self.non_working: set[date] = set()
        self.term: tuple[date, date] = (date.min, date.max)

    # -- time and acting -------------------------------------------------------------------------

    @property
    def now(self) -> datetime:
        return self.chat.clock.now()

    def later(self, hours: float, do: Callable[[], None]) -> None:
        heapq.heappush(self.queue, (self.now + timedelta(hours=hours), next(self.order), do))

    def act(self, email: str, text: str = "", choice: Choice | None = None) -> list[OutgoingMessage]:
        """Type ``text`` or press ``choice`` as ``email``; returns the messages they got in reply."""
        self.acts += 1
        self.log.events["acts"] += 1
        action = Action(id=choice.action, value=choice.value) if choice else None
        self.chat.send(email, text, action=action)
        return self.flush(actor=email)

    def flush(self, actor: str = "") -> list[OutgoingMessage]:
        """Deliver everything due and look at each new message, as its recipient would."""
        while self.chat.runtime.process_pending():
            pass
        while self.chat.runtime.send_pending(self.chat.deliverer):
            pass
        replies: list[OutgoingMessage] = []
        for pid, messages in list(self.chat.deliverer.inbox.items()):
            seen = self.cursor.get(pid, 0)
            self.cursor[pid] = len(messages)
            email = self.email_of.get(pid, f"person {pid}")
            for message in messages[seen:]:
                self.messages += 1
                self.log.events["messages"] += 1
                if email == actor:
                    replies.append(message)
                self.receive(email, message, solicited=email == actor)
        return replies

    def run_queue(self) -> None:
        while self.queue and self.queue[0][0] <= self.now:
            _, _, do = heapq.heappop(self.queue)
            do()

    def tick(self) -> None:
        """Three hours pass: due scheduled work runs (`rmbot scheduler run-due`), people act."""
        self.chat.clock.advance(TICK)
        self.chat.runtime.run_due(self.now)
        self.flush()
        self.run_queue()

    # -- what people receive ---------------------------------------------------------------------

    def receive(self, email: str, message: OutgoingMessage, solicited: bool) -> None:
        text = unescape(message.text) + "\n" + "\n".join(unescape(s.text) for s in message.sections)
        if apology() in text or "Traceback" in text:
            self.log.violate("no apology", self.day, email, text)
        lost = lost_notice()
        if lost and lost in text:
            self.log.violate("no questionnaire lost", self.day, email, text)
        if not solicited and message.kind != "farewell":
            self.check_recipient(email, message, text)
        notice = closed_notice()
        if notice and notice in text:
            record = next(
                (r for r in self.log.questionnaires.get(email, []) if r.done_at is None and not r.closed_with_notice),
                None,
            )
            if record is not None:
                record.closed_with_notice = True
                self.log.events["closed with a notice"] += 1
        check_invites(self, email, message)
        if email == self.org.coordinator or email in self.gone:
            return
        actions = {c.action for c in message.choices}
        behaviour = self.behaviour.get(email)
        if behaviour is None:
            return
        if "consent" in actions:
            self.later(self.rng.uniform(*behaviour.delay_hours), lambda: self.answer_consent(email, message))
        elif "intake.previous" in actions:  # returning from last term: last term's answers still hold
            self.later(
                self.rng.uniform(*behaviour.delay_hours), lambda: self.press(email, message, "intake.previous", ":keep")
            )
        elif message.question is not None:
            on_question(self, email, message, solicited)
        elif "slot.pick" in actions or "slot.other" in actions:  # times offered, or none that fits everyone
            on_offer(self, email, message)
        elif "session.outcome" in actions:
            on_followup(self, email, message)
        elif "pulse.start" in actions and self.rng.random() < behaviour.answer:
            self.later(self.rng.uniform(*behaviour.delay_hours), lambda: self.press(email, message, "pulse.start"))
        elif "session.next" in actions:
            self.later(1, lambda: self.press(email, message, "session.next"))

    def check_recipient(self, email: str, message: OutgoingMessage, text: str) -> None:
        """Nothing reaches someone who declined, paused, left or was forgotten (their own replies aside)."""
        if "consent" in {c.action for c in message.choices}:
            return
        # The team rating asks a mentee's direct reports, as team members, not as participants: declining a place
        # in the programme is not declining to rate one's manager anonymously (docs/architecture.md).
        as_team_member = (
            message.question is not None and flow_of(message) == "team_rating"
        ) or team_rating_label() in text
        for state, since in (
            ("declined", self.log.declined.get(email)),
            ("paused", self.log.paused.get(email)),
            ("left", self.log.left.get(email)),
            ("forgotten", self.log.forgotten.get(email)),
        ):
            if since is not None and since < self.now and not (state == "declined" and as_team_member):
                self.log.violate(
                    "nothing sent to the inactive", self.day, email, f"{state} since {since:%Y-%m-%d}, got: {text}"
                )

    def press(self, email: str, message: OutgoingMessage, action: str, value_end: str = "") -> None:
        if email in self.gone:
            return
        for choice in message.choices:
            if choice.action == action and choice.value.endswith(value_end):
                self.act(email, choice=choice)
                return

    def answer_consent(self, email: str, message: OutgoingMessage) -> None:
        behaviour, roll = self.behaviour[email], self.rng.random()
        if roll < behaviour.consent:
            self.log.consented[email] = self.now
            self.press(email, message, "consent", ":accept")
        elif roll < behaviour.consent + behaviour.decline:
            self.log.declined[email] = self.now
            self.press(email, message, "consent", ":decline")

    # -- stops: pause, end, forget-me, leaving ---------------------------------------------------

    def stop(self, email: str, reason: str, pause: bool = False) -> None:
        self.log.stops.append(Stop(email=email, at=self.now, reason=reason, order=self.log.next()))
        for circle in self.log.circles.values():
            if email in circle.members and circle.ended_at is None:
                if pause:
                    circle.paused = True
                else:
                    circle.ended_at = self.now

    def resume(self, email: str) -> None:
        for stop in self.log.stops:
            if stop.email == email and stop.until is None and stop.reason.endswith("pause"):
                stop.until = self.now
        for circle in self.log.circles.values():
            if email in circle.members and circle.ended_at is None:
                circle.paused, circle.offered_at = False, self.now

    def days(self, first: date, last: date) -> list[date]:
        return [first + timedelta(days=i) for i in range((last - first).days + 1)]

    def next_work(self) -> datetime | None:
        """The earliest moment anything waits for: a scheduled job, a deferred outbox message, a planned act."""
        times = [self.queue[0][0]] if self.queue else []
        due = self.store.schedule.next_due()
        with Session(self.store.engine) as session:
            held = session.exec(
                select(func.min(OutboxMessageRow.not_before)).where(
                    col(OutboxMessageRow.status).in_(("pending", "sending"))
                )
            ).one()
        times += [t.replace(tzinfo=t.tzinfo or UTC) for t in (due, held) if t is not None]
        return min(times, default=None)

    def skip_quiet_ticks(self, moment: datetime) -> None:
        """Jump over the three-hour ticks before the next work (or midnight, or ``moment``): they would do nothing.

        Ticks stay on the same three-hour grid, so every act and job happens at the tick it would have anyway."""
        midnight = datetime.combine(self.now.date() + timedelta(days=1), time(0, 0), tzinfo=UTC)
        target = min(t for t in (self.next_work(), midnight, moment) if t is not None)
        quiet = (target - self.now) // TICK - (0 if (target - self.now) % TICK else 1)
        if quiet > 0:
            self.chat.clock.advance(TICK * quiet)

    def until(self, moment: datetime, each_day: Callable[[date], None]) -> None:
        """Tick until ``moment``; at the first tick of each new day run ``each_day``."""
        while self.now < moment:
            before = self.now.date()
            self.skip_quiet_ticks(moment)
            self.tick()
            if self.now.date() != before:
                self.day += 1
                each_day(self.now.date())

    def morning(self, on: date) -> datetime:
        return datetime.combine(on, time(9, 0), tzinfo=UTC)
