"""Fuzzing the Teams endpoint: mangled activities, signed with a token the Bot Framework would send.

Every example starts from a real activity (a message, a channel message, an install, a card's submit or
execute, a form), breaks it (keys dropped, values of the wrong type, random, empty or huge text, objects
nested the wrong way) and posts it to the running bot; what must hold after it is in ``fuzz_support.py``.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import pytest_asyncio
from hypothesis import example, given
from hypothesis import strategies as st

from adapters.teams.pacing import Pacer as TeamsPacer
from fake_teams import FakeTeams
from fuzz_support import FUZZ, Errors, check_outcome, last_ids, logged_errors, mangle, person_ids
from storage.store import SqlStore
from test_teams_harness import APP_ID, TENANT, TeamsBot
from test_teams_harness import COORDINATOR as T_COORDINATOR
from test_teams_harness import MENTEE as T_MENTEE
from test_teams_harness import MENTOR as T_MENTOR
from test_teams_harness import seed as seed_teams


@pytest.fixture
def errors() -> Iterator[Errors]:
    with logged_errors() as handler:
        yield handler


@pytest_asyncio.fixture
async def teams(store: SqlStore, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[TeamsBot]:
    """The Teams bot with Bot Framework authentication on (outbound token from a stand-in for Azure AD)."""
    import adapters.teams.auth as auth
    import adapters.teams.service as service

    monkeypatch.setattr(auth, "token_source", lambda settings: lambda: "fuzz-outbound-token")
    monkeypatch.setattr(service, "token_source", lambda settings: lambda: "fuzz-outbound-token")
    seed_teams(store)
    with FakeTeams() as fake:
        async with TeamsBot(
            store,
            fake,
            microsoft_app_id=APP_ID,
            microsoft_app_password="fuzz-password",
            teams_openid_metadata_url=fake.openid_url,
            teams_enabled=False,
        ) as bot:
            for deliverer in bot.worker.deliverers:
                deliverer.pacer = TeamsPacer(1000.0, windows=())  # type: ignore[attr-defined]
            people = [m.aad for m in (T_COORDINATOR, T_MENTOR, T_MENTEE)]
            bot.people = person_ids(store, "teams", TENANT, people)  # type: ignore[attr-defined]
            for member in (T_COORDINATOR, T_MENTOR, T_MENTEE):
                await signed(bot, bot.installed(member))
            await signed(bot, bot.personal(T_COORDINATOR, "program new"))
            await bot.work()
            yield bot


async def signed(bot: TeamsBot, activity: Any) -> int:
    """POST an activity with a token the Bot Framework would send for its service URL."""
    service_url = activity.get("serviceUrl") if isinstance(activity, dict) else None
    token = bot.fake.token(APP_ID, service_url if isinstance(service_url, str) else bot.fake.service_url)
    status, _ = await bot.post(activity, {"Authorization": f"Bearer {token}"})
    return status


def teams_activity(bot: TeamsBot, base: str, member: Any, text: str) -> dict[str, Any]:
    if base == "message":
        return bot.personal(member, text)
    if base == "channel":
        return bot.channel(member, text)
    if base == "install":
        return bot.installed(member, "installationUpdate")
    if base == "submit":
        return bot.submit(member, {"rmbot_action": "teams:answer", "rmbot_value": text, "rmbot_kind": "text"})
    if base == "execute":
        return bot.execute(
            member, {"rmbot_action": "consent", "rmbot_value": "1:accept", "rmbot_ref": "1", "rmbot_label": text}
        )
    return bot.submit(
        member,
        {
            "rmbot_action": "teams:form",
            "rmbot_form": "flow.form",
            "rmbot_fields": {"focus": "choice", "goal": "text"},
            "rmbot_f_goal": text,
        },
    )


TEAMS_PRESETS = {  # breakages fuzzing found, kept as explicit examples
    "channelData is a list": lambda activity: activity.update(channelData=[activity["channelData"]]),
    "an account id of 100,000 characters": lambda activity: activity["from"].update(id="29:" + "x" * 100_000),
    "a display name of 300 characters, someone new": lambda activity: activity.update(
        **{"from": {"id": "29:newcomer", "name": "N" * 300, "aadObjectId": "c0ffee00-0000-4000-8000-000000000300"}}
    ),
    "NUL in a flow's answer": lambda activity: activity.update(text="Fuzzed\u0000 programme"),
    "NUL in the installer's display name": lambda activity: activity["from"].update(name="Ama\u0000ra"),
}


@FUZZ
@given(
    data=st.data(),
    base=st.sampled_from(["message", "channel", "install", "submit", "execute", "form"]),
    who=st.sampled_from(["coordinator", "mentor", "mentee"]),
    text=st.text(max_size=60),
    preset=st.none(),
)
@example(data=None, base="message", who="mentor", text="help", preset="channelData is a list")
@example(data=None, base="message", who="mentor", text="help", preset="an account id of 100,000 characters")
@example(data=None, base="message", who="mentor", text="help", preset="a display name of 300 characters, someone new")
@example(data=None, base="message", who="coordinator", text="", preset="NUL in a flow's answer")
@example(data=None, base="install", who="coordinator", text="", preset="NUL in the installer's display name")
async def test_any_teams_activity_is_acknowledged_and_handled(
    teams: TeamsBot, errors: Errors, data: Any, base: str, who: str, text: str, preset: str | None
) -> None:
    member = {"coordinator": T_COORDINATOR, "mentor": T_MENTOR, "mentee": T_MENTEE}[who]
    activity = teams_activity(teams, base, member, text)
    if preset is not None:
        TEAMS_PRESETS[preset](activity)
    else:
        activity = mangle(data, activity, keep=("serviceUrl",))  # the token vouches for it
    since = last_ids(teams.store)
    errors.records.clear()
    status = await signed(teams, activity)
    assert status < 500, activity
    await teams.work()
    check_outcome(teams.store, errors, since, teams.people, activity)  # type: ignore[attr-defined]
