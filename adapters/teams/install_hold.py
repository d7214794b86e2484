"""Holding a Teams message for recipients who have no chat with the bot yet: the programme's coordinators are
told once who must install the app, the message is retried at growing intervals (and at once when the person
installs the app), and after about a week the person is dropped from the message."""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from adapters.teams.graph import GraphReach
from bot.model import Address, OutgoingMessage
from bot.ports import DeliveryResult, OutboxItem, Store
from bot.wording import say

log = logging.getLogger(__name__)

HOLD = [timedelta(minutes=15), timedelta(hours=1), timedelta(hours=4), timedelta(hours=12)] + [timedelta(days=1)] * 6
"""How long a message waits, attempt after attempt, for a recipient who has not installed the app."""
NOTICE_KEY = "teams:install:"


class InstallHold:
    """Holds messages for people who have not installed the app, and tells their coordinators."""

    def __init__(
        self, store: Store, platform: str, now: Callable[[], datetime], installer: GraphReach | None = None
    ) -> None:
        self.store = store
        self.platform = platform
        self.now = now
        self.installer = installer

    def hold(self, item: OutboxItem, delivered: list[int], dropped: list[int], waiting: list[int]) -> DeliveryResult:
        """Recipients without a chat: tell coordinators, wait for them to install, drop them in the end."""
        for person_id in waiting:
            if self.installer is None or not self.installer.installing(person_id):
                self.notify_coordinators(item.message, person_id)
        if item.attempts >= len(HOLD):
            log.warning("outbox message %s: people %s never installed the Teams app; dropped", item.id, waiting)
            return DeliveryResult(delivered=delivered, suppressed=dropped + waiting)
        if dropped:  # settled now: a held result only records who was delivered
            self.store.outbox.suppressed(item.id, dropped, "undeliverable", self.now())
        self.store.teams.hold_for_install(item.id)
        return DeliveryResult(
            delivered=delivered,
            retry_at=self.now() + HOLD[item.attempts],
            error=f"teams: people {waiting} have not installed the app",
        )

    def notify_coordinators(self, message: OutgoingMessage, person_id: int) -> None:
        """Queue, once, a note to the programme's coordinators that ``person_id`` must install the app."""
        if message.programme_id is None or message.idempotency_key.startswith(NOTICE_KEY):
            return
        try:
            with self.store.unit_of_work() as uow:
                person = uow.people.get(person_id)
                programme = uow.programmes.get(message.programme_id)
                if person is None or programme is None:
                    return
                for coordinator in uow.coordinators.of_programme(programme.id):
                    if coordinator == person_id:
                        continue
                    uow.outbox.add(
                        OutgoingMessage(
                            tenant_id=message.tenant_id,
                            to=Address.person(coordinator),
                            programme_id=programme.id,
                            idempotency_key=f"{NOTICE_KEY}{programme.id}:{person_id}:{coordinator}",
                            text=say("teams.install_needed", name=person.name, programme=programme.name),
                        ),
                        platform=self.platform,
                    )
        except Exception:  # noqa: BLE001 - a note to coordinators must never stop delivery
            log.exception("could not queue the install note for person %s", person_id)
