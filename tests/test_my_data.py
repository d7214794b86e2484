"""``my-data``: everything stored about a person, grouped and readable, in the message and in my-data.json; never
what someone else said in confidence; and no table that names a person is left out unnoticed."""

from __future__ import annotations

import base64
import json
import re
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from bot.wording import unescape
from chat import Chat
from storage.personal_data import SOURCES
from storage.store import SqlStore

COORD = "amara.okafor@example.com"
ME = "tom.harrington@example.com"  # a mentee; Chloe, Ethan and Zara report to him
PARTNER = "fatima.al-sayed@example.com"  # his mentor, in Sales
TEAM = ["chloe.adeyemi@example.com", "ethan.walsh@example.com", "zara.hussain@example.com"]
MENTEE_INTAKE = ["yes", "1, 2", "INTAKE-MARKER AI in board papers", "Use AI assistants with confidence", "1, 2, 3"]
MENTEE_INTAKE += ["1", "3", "skip", "2", "2", "2", "English", "yes", "2", "3", "yes"]
MENTOR_INTAKE = ["yes", "1, 3, 11", "skip", "I want to practise explaining tools", "2, 1, 4", "3", "1", "skip"]
MENTOR_INTAKE += ["1", "1", "1", "English", "no", "yes"]
MINE = {
    "intake": "INTAKE-MARKER",
    "goal": "GOAL-MARKER",
    "agenda item": "AGENDA-MARKER",
    "action item": "ACTION-ITEM-MARKER",
    "pulse comment": "MY-PULSE-COMMENT",
    "check-in": "CHECKIN-MARKER",
    "support note": "MY-SUPPORT-NOTE",
    "survey comment": "SURVEY-MARKER",
}
THEIRS = {"partner's pulse comment": "PARTNER-PULSE-SECRET", "partner's support note": "PARTNER-SUPPORT-SECRET"}


def join(chat: Chat, email: str, role: str, answers: list[str]) -> None:
    chat.send(COORD, f"invite {email} as {role}")
    chat.press(email, "Yes, I'm in")
    for answer in answers:
        chat.send(email, answer)
    while chat.received(email)[-1].choices:  # the onboarding lessons
        chat.press(email, chat.received(email)[-1].choices[-1].label)


def first_session(chat: Chat):  # type: ignore[no-untyped-def]
    with chat.store.unit_of_work() as uow:
        return uow.sessions.of_programme(uow.programmes.in_tenant(1)[0].id)[0]


def talk_to_coordinator(chat: Chat, email: str, note: str) -> None:
    chat.send(email, "support")
    chat.press(email, "Talk to my coordinator")
    chat.send(email, note)


def drive_a_term(chat: Chat) -> None:
    """Tom and Fatima do what participants do: intake, sessions, goals, agenda and action items, pulses,
    support, a check-in and the midpoint survey; Tom's team rates him; a second check-in waits for him."""
    join(chat, ME, "mentee", MENTEE_INTAKE)
    join(chat, PARTNER, "mentor", MENTOR_INTAKE)
    chat.send(COORD, "match preview")
    chat.send(COORD, "match publish")
    chat.advance(timedelta(minutes=5))
    for email, rating in zip(TEAM, ["6", "7", "8"], strict=True):
        chat.send(email, rating)
    offer = next(m for m in reversed(chat.received(PARTNER)) if any(c.action == "slot.pick" for c in m.choices))
    chat.press(PARTNER, offer.choices[0].label)
    chat.press(ME, "Yes, that works")
    session = first_session(chat)
    chat.advance(session.starts_at + timedelta(minutes=session.minutes + 31) - chat.clock.now())
    chat.press(PARTNER, "It happened")
    chat.send(PARTNER, "Tom: try ACTION-ITEM-MARKER\nFatima: share the guide")
    for answer in ["4", "5", "PARTNER-PULSE-SECRET", "no"]:
        chat.send(PARTNER, answer)
    chat.press(ME, "It happened")
    chat.send(ME, "GOAL-MARKER use an AI assistant for every weekly update by May")
    chat.send(ME, "skip")
    for answer in ["3", "4", "MY-PULSE-COMMENT", "no"]:
        chat.send(ME, answer)
    assert "Added to the agenda" in chat.send(ME, "agenda add AGENDA-MARKER how do I check a summary?")[0]
    talk_to_coordinator(chat, PARTNER, "PARTNER-SUPPORT-SECRET")
    talk_to_coordinator(chat, ME, "MY-SUPPORT-NOTE")
    chat.advance(timedelta(days=31, hours=1))
    for answer in ["CHECKIN-MARKER the sessions are practical", "skip", "skip"]:
        chat.send(ME, answer)
    chat.advance(datetime(2030, 4, 16, 9, 0, tzinfo=UTC) - chat.clock.now())
    for answer in ["6", "4", "yes", "SURVEY-MARKER keep the hands-on part", "no"]:
        chat.send(ME, answer)
    before = len(chat.received(ME))
    chat.advance(datetime(2030, 5, 6, 10, 0, tzinfo=UTC) - chat.clock.now())  # the second check-in opens
    assert any("Check-in with your coordinator" in m.text for m in chat.received(ME)[before:])
    chat.send(ME, "support")
    chat.press(ME, "Talk to my coordinator")  # the open check-in waits its turn behind the note


def my_data(chat: Chat, email: str) -> tuple[str, dict[str, Any]]:
    chat.send(email, "my-data")
    [message] = [m for m in chat.last[email] if m.attachments]
    [attachment] = message.attachments
    assert attachment.filename == "my-data.json"
    return unescape(message.text), json.loads(base64.b64decode(attachment.content_b64))


def test_my_data_shows_everything_a_participant_did_in_the_message_and_the_file(chat: Chat) -> None:
    drive_a_term(chat)
    said, record = my_data(chat, ME)
    stored = json.dumps(record, ensure_ascii=False)
    for what, marker in MINE.items():
        assert marker in said, f"the message leaves out the {what}"
        assert marker in stored, f"my-data.json leaves out the {what}"
    assert "Fatima Al-Sayed" in said and "Mon 04 Mar" in said  # the partner, and the sessions
    assert "Quick feedback" in said and "Programme survey" in said and "Check-in with your coordinator" in said
    assert re.search(r"waiting: Check-in with your coordinator", said)  # the questionnaire queue
    assert re.search(r"You sent the bot \d+ messages", said)

    [programme] = record["programmes"]
    assert programme["programme"] == "Digital 2030" and programme["role"] == "mentee"
    assert programme["intake"]["topics_detail"] == "INTAKE-MARKER AI in board papers"
    [pair] = programme["pairs"]
    assert pair["partners"] == ["Fatima Al-Sayed"] and "GOAL-MARKER" in pair["goals"][0]["text"]
    assert len(programme["sessions"]) >= 6 and programme["sessions"][0]["status"] == "held"
    assert "ACTION-ITEM-MARKER" in programme["sessions"][0]["action_items"][0]
    assert {f["kind"] for f in programme["feedback"]} == {"pulse", "checkin", "midpoint"}
    assert programme["session_events"] and record["scheduled"]
    assert record["conversation"]["waiting"][0]["title"] == "Check-in with your coordinator"
    assert any("MY-SUPPORT-NOTE" in m["text"] for m in record["messages"]["sent"])
    assert any("MY-SUPPORT-NOTE" in m["text"] for m in record["messages"]["about_you_to_others"])
    assert any("Getting ready to be mentored" in m["text"] for m in record["messages"]["received"])
    assert "other_records" not in record  # every kind of record has its place


def test_my_data_never_shows_what_others_said_in_confidence(chat: Chat) -> None:
    drive_a_term(chat)
    said, record = my_data(chat, ME)
    stored = json.dumps(record, ensure_ascii=False)
    for what, marker in THEIRS.items():
        assert marker not in said and marker not in stored, f"Tom's export shows the {what}"
    assert '"rating"' not in stored  # how his team rated him exists only as an aggregate
    assert record["programmes"][0]["team_ratings_about_you"] == {"answers": 3, "shown_only_as_aggregates": True}
    assert "3 ratings from your team" in said and "only as an anonymous total" in said
    assert not any(f["kind"].startswith("team_") for f in record["programmes"][0]["feedback"])

    said, record = my_data(chat, PARTNER)  # the pair's goals and sessions are hers too; his notes are not
    stored = json.dumps(record, ensure_ascii=False)
    assert "GOAL-MARKER" in said and "ACTION-ITEM-MARKER" in stored and "AGENDA-MARKER" in stored
    for marker in ["MY-PULSE-COMMENT", "MY-SUPPORT-NOTE", "CHECKIN-MARKER", "SURVEY-MARKER", "INTAKE-MARKER"]:
        assert marker not in said and marker not in stored
    assert "PARTNER-SUPPORT-SECRET" in stored and "PARTNER-PULSE-SECRET" in stored  # her own words are hers


def test_the_export_reads_every_row_that_names_the_person(chat: Chat) -> None:
    drive_a_term(chat)
    tom = chat.person(ME)
    with chat.store.unit_of_work() as uow:
        gathered = uow.personal_data.gather(tom.tenant_id, tom.id)
    assert set(gathered) <= set(SOURCES)
    for table, column, target in references(chat.store.engine):
        if target != "person" or (table, column) in NOT_EXPORTED:
            continue
        with chat.store.engine.connect() as connection:
            stored = connection.execute(text(f'SELECT COUNT(*) FROM "{table}" WHERE "{column}" = :id'), {"id": tom.id})
            count = stored.scalar_one()
        if count == 0:
            continue
        sources = [k for k, (t, by) in SOURCES.items() if t == table and column in by]
        assert sources, f"{table}.{column} holds {count} row(s) about Tom that no source reads"
        assert sum(len(gathered.get(k, [])) for k in sources) >= count, f"{table}.{column}: rows left out"


# --- every table that names a person is exported, or excused ---------------------------------------------------

NOT_EXPORTED = {
    ("teams_send", "person_id"): "Teams delivery journal: which activity id a delivered message got; the messages "
    "themselves are exported from the outbox",
    ("teams_conversation", "user_id"): "how the Teams adapter reaches a chat (conversation id, service URL); the "
    "account ids are exported as chat accounts",
    ("teams_account", "user_id"): "Teams account ids seen in rosters, used to address messages; the person's own "
    "ids are exported as chat accounts",
    ("slack_installations", "user_id"): "a workspace's app installation: the installer's OAuth tokens are "
    "credentials of the workspace, not facts about the person, and are never shown",
    ("figure_contributor", "person_id"): "a random pseudonym standing for the person in the bases of released "
    "aggregate figures; it says nothing about them and forget-me deletes it",
}
NAMED_LIKE_A_PERSON = re.compile(
    r"^(person_id|.+_person_id|author_id|user_id|user_key|mentor_id|mentee_id|mentee_ids|mentor_ids|manager_id"
    r"|invited_by|added_by|created_by|recipients)$"
)


def references(engine: Engine) -> list[tuple[str, str, str]]:
    """Every (table, column, what) in the migrated database that names a person: a foreign key to a person or a
    participant (a person in a programme), or a column named like one."""
    found = set()
    inspector = inspect(engine)
    for table in inspector.get_table_names():
        for key in inspector.get_foreign_keys(table):
            if key["referred_table"] in ("person", "participant"):
                found |= {(table, column, key["referred_table"]) for column in key["constrained_columns"]}
        for column in inspector.get_columns(table):
            if NAMED_LIKE_A_PERSON.match(column["name"]) and not any(f[:2] == (table, column["name"]) for f in found):
                found.add((table, column["name"], "named"))
        if table == "person":
            found.add((table, "id", "person"))
    return sorted(found)


def unexported(engine: Engine) -> list[str]:
    """The person references neither read by a my-data source nor excused."""
    exported = {(table, column) for table, by in SOURCES.values() for column in by}
    return [
        f"{table}.{column}"
        for table, column, _what in references(engine)
        if (table, column) not in exported and (table, column) not in NOT_EXPORTED
    ]


def test_every_column_that_names_a_person_is_exported_or_excused_with_a_reason(store: SqlStore) -> None:
    assert unexported(store.engine) == []
    tables = set(inspect(store.engine).get_table_names())
    assert all(reason.strip() for reason in NOT_EXPORTED.values())
    stale = [f"{t}.{c}" for t, c in NOT_EXPORTED if t not in tables]
    assert stale == [], "excused columns that no longer exist"
    for table, by in SOURCES.values():  # every source reads real columns of a real table
        assert table in tables and set(by) <= {c["name"] for c in inspect(store.engine).get_columns(table)}


@pytest.mark.parametrize(
    "ddl",
    [
        "CREATE TABLE mentor_note (id INTEGER PRIMARY KEY, about INTEGER REFERENCES person(id), body TEXT)",
        "CREATE TABLE pair_note (id INTEGER PRIMARY KEY, pair INTEGER, author_id INTEGER, body TEXT)",
        "CREATE TABLE wish (id INTEGER PRIMARY KEY, who INTEGER REFERENCES participant(id), body TEXT)",
    ],
)
def test_a_new_table_naming_a_person_and_not_exported_is_caught(sqlite_store: SqlStore, ddl: str) -> None:
    with sqlite_store.engine.begin() as connection:
        connection.execute(text(ddl))
    assert len(unexported(sqlite_store.engine)) == 1
