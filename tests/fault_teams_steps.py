"""The Teams steps of the four-deliveries scenario: a bot on its own store and fake connector, and each activity.

Installs (conversationUpdate and installationUpdate), a coordinator's message, a consent card's
Action.Submit, an intake question's Action.Execute and a typed intake answer.
"""

from __future__ import annotations

from typing import Any

from fake_teams import FakeTeams
from fault_state import plain
from fault_steps import Send
from storage.store import SqlStore
from test_teams_harness import COORDINATOR as T_COORDINATOR
from test_teams_harness import MENTOR as T_MENTOR
from test_teams_harness import TeamsBot, card_text
from test_teams_harness import buttons as card_buttons
from test_teams_harness import seed as seed_teams


class TeamsSide:
    """A Teams bot on a store, with its own fake connector."""

    def __init__(self, store: SqlStore) -> None:
        self.store = store

    async def __aenter__(self) -> TeamsSide:
        seed_teams(self.store)
        self.fake = FakeTeams().__enter__()
        self.bot = await TeamsBot(self.store, self.fake).__aenter__()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.bot.__aexit__(*exc)
        self.fake.__exit__(*exc)

    async def settle(self) -> None:
        await self.bot.work()

    def messages(self) -> list[Any]:
        return [
            (
                a["conversation"]["id"] if isinstance(a.get("conversation"), dict) else "",
                plain(a.get("text")),
                [plain(card_text(c["content"])) for c in a.get("attachments", [])],
            )
            for a in self.fake.activities()
        ]

    def sender(self, activity: dict[str, Any]) -> Send:
        return lambda _retry: self.bot.post(activity)


async def teams_install(side: TeamsSide) -> Send:
    return side.sender(side.bot.installed(T_COORDINATOR))


async def teams_installation_update(side: TeamsSide) -> Send:
    return side.sender(side.bot.installed(T_MENTOR, "installationUpdate"))


async def teams_message(side: TeamsSide) -> Send:
    return side.sender(side.bot.personal(T_COORDINATOR, "invite arjun@example.com as mentor"))


async def teams_submit(side: TeamsSide) -> Send:
    consent = side.bot.cards_for(T_MENTOR)[-1]
    accept = next(data for title, data in card_buttons(consent).items() if "in" in title.lower())
    return side.sender(side.bot.submit(T_MENTOR, accept))


async def teams_execute(side: TeamsSide) -> Send:
    question = side.bot.cards_for(T_MENTOR)[-1]
    return side.sender(side.bot.execute(T_MENTOR, card_buttons(question)["Yes"]))


async def teams_typed(side: TeamsSide) -> Send:
    return side.sender(side.bot.personal(T_MENTOR, "1, 3"))


TEAMS_STEPS = [
    ("conversationUpdate (personal install: welcome)", teams_install),
    ("installationUpdate (personal install: welcome)", teams_installation_update),
    ("message (invite)", teams_message),
    ("message with value (Action.Submit: consent)", teams_submit),
    ("invoke adaptiveCard/action (Action.Execute: intake answer)", teams_execute),
    ("message (typed intake answer)", teams_typed),
]
