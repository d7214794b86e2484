"""The scheduled-work steps of the four-deliveries scenario: due jobs fired again under the same ``due:<job id>``.

A retry marks the job scheduled again, as if its "enqueued" mark had been lost, and enqueues what is due.
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from bot.clock import OffsetClock
from bot.domain import NewMatchPair, NewParticipant, ParticipantStatus, Role
from bot.feedback import CHECKIN_JOB, SURVEY_JOB
from fault_slack_steps import SlackSide
from fault_steps import Send
from fault_support import HOURS
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, MENTEE, MENTOR, TEAM


class DueSide(SlackSide):
    """The Slack side with a live pair, everyone in working hours (by ``working_moment``) on its clock."""

    def __init__(self, store: SqlStore, shift: timedelta, zone: str) -> None:
        super().__init__(store)
        self.clock = OffsetClock(offset=shift)
        self.zone = zone

    async def __aenter__(self) -> DueSide:
        await super().__aenter__()
        self.bot.runtime.clock = self.clock
        with self.store.unit_of_work() as uow:
            tenant = uow.tenants.find("slack", TEAM)
            self.tenant_id = tenant.id  # type: ignore[union-attr]
            joined = []
            for user, role in ((MENTOR, Role.MENTOR), (MENTEE, Role.MENTEE), (COORDINATOR, None)):
                person = uow.people.by_identity(tenant.id, "slack", user)  # type: ignore[union-attr]
                person.time_zone, person.working_hours = self.zone, HOURS  # type: ignore[union-attr]
                uow.people.save(person)  # type: ignore[arg-type]
                if role is not None:
                    joined.append(
                        uow.participants.add(
                            NewParticipant(
                                programme_id=self.programme,
                                person_id=person.id,  # type: ignore[union-attr]
                                role=role,
                                status=ParticipantStatus.ACTIVE,
                            )
                        ).id
                    )
            uow.matching.add_pair(NewMatchPair(programme_id=self.programme, mentor_id=joined[0], mentee_id=joined[1]))
        return self

    def due_sender(self, kind: str, payload_: dict[str, Any], key: str) -> Send:
        with self.store.unit_of_work() as uow:
            uow.schedule.add(self.tenant_id, kind, self.clock.now() - timedelta(minutes=1), payload_, key=key)

        def fire(retry: int | None) -> tuple[int, Any]:
            if retry:  # the job fires again, as if its "enqueued" mark had been lost: same due:<job id>
                with self.store.engine.begin() as connection:
                    connection.execute(
                        text("UPDATE scheduled_job SET status = 'scheduled' WHERE key = :key"), {"key": key}
                    )
            self.store.schedule.enqueue_due(self.clock.now())
            return 200, None

        return lambda retry: asyncio.to_thread(fire, retry)


async def due_checkin(side: DueSide) -> Send:
    return side.due_sender(CHECKIN_JOB, {"programme_id": side.programme, "number": 1}, f"checkin:{side.programme}:1")


async def due_survey(side: DueSide) -> Send:
    return side.due_sender(
        SURVEY_JOB, {"programme_id": side.programme, "subject": "midpoint"}, f"survey:{side.programme}:midpoint"
    )


DUE_STEPS = [("due check-in (programme_checkin)", due_checkin), ("due midpoint survey (programme_survey)", due_survey)]
