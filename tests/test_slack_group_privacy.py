"""A command typed in a pair's group DM answers there only with what both of them may see, and only about that
pair. Here the mentor has two mentees (two pairings, each with its own group DM, goal and next session): typed in
one pair's group DM, ``next`` shows that pair's session as the pair's own message (the same whoever asks, with
none of the mentor's plan), nothing of the other pairing, and ``agenda`` (the mentor's coaching plan) is answered
privately. Driven over HTTP with signed ``message.mpim`` events against the fake Slack."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

from bot.domain import NewMatchPair, NewParticipant, ParticipantStatus, Role
from bot.sessions.circles import circle_key
from bot.sessions.model import NewSession
from fake_slack import FakeSlack
from storage.store import SqlStore
from test_slack_harness import COORDINATOR, MENTEE, MENTOR, TEAM, SlackBot, blocks_text, fake_users, seed
from test_slack_native import group_body

OURS = {"goal": "Run one hybrid-friendly team meeting a month", "item": "Try the new whiteboard together"}
OTHER = {"goal": "Prepare the board talk on AI without jargon", "item": "Amara worries about the restructuring"}
SOON = (datetime.now(UTC) + timedelta(days=3)).replace(hour=13, minute=30, second=0, microsecond=0)
MENTOR_ONLY = ("Questions your mentee may ask", "Activity:", "Framework", "framework", "Outcomes:", "agenda swap")
"""Lines of the mentor's agenda (the coaching plan sent to the mentor alone); the mentee's preparation has none."""


def two_pairings(store: SqlStore) -> None:
    """The mentor (W222) paired first with Amara (W111), then with Daniel (W333): a goal and a second session
    ahead for each pairing, each session with an item on its agenda."""
    programme_id = seed(store)
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", TEAM)
        assert tenant is not None
        ids: dict[str, int] = {}
        for user, role in ((MENTOR, Role.MENTOR), (COORDINATOR, Role.MENTEE), (MENTEE, Role.MENTEE)):
            person = uow.people.by_identity(tenant.id, "slack", user)
            assert person is not None
            participant = NewParticipant(
                programme_id=programme_id, person_id=person.id, role=role, status=ParticipantStatus.ACTIVE
            )
            ids[user] = uow.participants.add(participant).id
        for mentee, facts, days in ((COORDINATOR, OTHER, 1), (MENTEE, OURS, 3)):
            uow.matching.add_pair(
                NewMatchPair(
                    programme_id=programme_id,
                    mentor_id=ids[MENTOR],
                    mentee_id=ids[mentee],
                    goals=[{"text": facts["goal"], "by": None, "done": False}],
                )
            )
            uow.sessions.add(
                NewSession(
                    programme_id=programme_id,
                    circle=circle_key(ids[MENTOR], [ids[mentee]]),
                    mentor_id=ids[MENTOR],
                    mentee_ids=[ids[mentee]],
                    sequence=2,
                    starts_at=SOON + timedelta(days=days),
                    minutes=45,
                    anchor_time_zone="America/New_York",
                    uid=f"privacy-{mentee}@test",
                    agenda_items=[{"text": facts["item"], "by": "someone"}],
                )
            )


def shown(post: dict[str, object]) -> str:
    """Everything a post shows: its notification text and its blocks."""
    return f"{post['text']}\n{blocks_text(post['blocks'])}"  # type: ignore[arg-type]


async def test_next_typed_by_the_mentor_in_a_group_dm_shows_only_the_pairs_own_version(sqlite_store: SqlStore) -> None:
    two_pairings(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        group = fake.group_dm(MENTOR, MENTEE)
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.event(group_body(bot, MENTOR, group, "mentoring next"))
            await bot.work()
            await bot.event(group_body(bot, MENTEE, group, "mentoring next"))
            await bot.work()

            by_mentor, by_mentee = fake.posts(group)
            said = shown(by_mentor)
            assert OURS["item"] in said and "Daniel" in said  # this pair's next session...
            assert all(secret not in json.dumps(by_mentor) for secret in OTHER.values())  # ...not the other one's
            assert "Amara" not in said
            assert [line for line in MENTOR_ONLY if line in said] == []  # nothing of the mentor's plan
            # the pair's version: the same message whoever of the two typed it
            assert (by_mentor["text"], by_mentor["blocks"]) == (by_mentee["text"], by_mentee["blocks"])
            # and the other pairing's details went nowhere at all
            assert all(secret not in json.dumps([c.args for c in fake.calls]) for secret in OTHER.values())


async def test_in_the_group_dm_goals_are_that_pairs_and_the_agenda_is_answered_privately(
    sqlite_store: SqlStore,
) -> None:
    two_pairings(sqlite_store)
    with FakeSlack(users=fake_users()) as fake:
        group = fake.group_dm(MENTOR, MENTEE)
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.event(group_body(bot, MENTOR, group, "mentoring goals"))
            await bot.event(group_body(bot, MENTOR, group, "mentoring agenda"))
            await bot.work()

            [goals] = fake.posts(group)  # the agenda did not go to the group
            assert OURS["goal"] in shown(goals) and OTHER["goal"] not in json.dumps(goals)
            [agenda] = fake.posts(fake.dm_channel(MENTOR))
            assert OURS["item"] in shown(agenda)  # the mentor's plan for this pair, to the mentor alone
            assert "Questions your mentee may ask" in shown(agenda) or "Framework" in shown(agenda)
            assert OTHER["item"] not in json.dumps(agenda)
            assert not fake.posts(fake.dm_channel(MENTEE))
