"""People over a term: the directory after `forget-me`, imports that invite, and clones that remember.

Driven as people use the product: the chat harness for what participants and coordinators type, and
the real ``rmbot`` command line (in-process, ``run_cli``) for the operator's imports.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.clock import OffsetClock
from bot.domain import ParticipantStatus
from bot.wording import PROMPTS
from chat import Chat
from cli_runner import run_cli
from storage.store import SqlStore

COORD = "amara.okafor@example.com"
START = datetime(2030, 1, 7, 9, 0, tzinfo=UTC)
SAMPLE = PROMPTS / "sample" / "organisation.csv"


@pytest.fixture
def url(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path / 'rmbot.db'}"


@pytest.fixture
def chat(url: str) -> Iterator[Chat]:
    store = SqlStore.open(url)
    chat = Chat(store, OffsetClock(start=START))
    chat.load_sample()
    chat.make_tenant_coordinator(COORD)
    chat.new_programme(COORD, "Digital 2030", "2030-01-15", "2030-07-15")
    try:
        yield chat
    finally:
        store.close()


def cli(url: str, *args: str) -> tuple[int, str]:
    ran = run_cli(*args, env={"DATABASE_URL": url})
    return ran.returncode, ran.stdout + ran.stderr


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def forget(chat: Chat, email: str) -> None:
    chat.send(email, "forget-me")
    chat.press(email, "Yes, delete my data")


# ----------------------------------------------------------------------------------------------------
# 1. The directory after forget-me
# ----------------------------------------------------------------------------------------------------


def test_directory_import_after_forget_me_still_works(chat: Chat, url: str) -> None:
    chat.person("lena.schmidt@example.com")
    forget(chat, "lena.schmidt@example.com")
    code, output = cli(url, "directory", "import", str(SAMPLE))
    assert code == 0, output
    assert "Traceback" not in output and "AttributeError" not in output


def test_reimporting_a_forgotten_email_makes_a_new_person_not_the_old_one(chat: Chat, url: str, tmp_path: Path) -> None:
    old = chat.person("lena.schmidt@example.com")
    forget(chat, "lena.schmidt@example.com")
    code, output = cli(url, "directory", "import", str(SAMPLE))
    assert code == 0, output
    with chat.store.unit_of_work() as uow:
        anonymous = uow.people.get(old.id)
        tenant = uow.tenants.find("console", "console")
        assert tenant is not None
        again = uow.people.by_email(tenant.id, "lena.schmidt@example.com")
    assert anonymous is not None and anonymous.email is None and anonymous.name != "Lena Schmidt"
    assert again is not None and again.id != old.id  # a new person: nothing of the old record comes back
    with chat.store.unit_of_work() as uow:
        assert uow.participants.of_person(again.id) == []
        assert all(p.status == ParticipantStatus.LEFT for p in uow.participants.of_person(old.id))


def test_forgotten_people_are_absent_from_later_matching_and_reports(chat: Chat, url: str, tmp_path: Path) -> None:
    sample = PROMPTS / "sample" / "participants.csv"
    assert cli(url, "participants", "import", "digital-2030", str(sample))[0] == 0
    forget(chat, "lena.schmidt@example.com")
    preview = chat.send(COORD, "match preview")[0]
    assert "Former participant" not in preview and "Lena" not in preview
    assert "Traceback" not in "".join(chat.send(COORD, "report"))


# ----------------------------------------------------------------------------------------------------
# 9. Consent and onboarding come before any match
# ----------------------------------------------------------------------------------------------------

PEOPLE = (
    "email,role,capacity,can_teach,want_to_learn{extra}\n"
    "arjun.mehta@example.com,mentor,1,ai_tools,{a}\n"
    "tom.harrington@example.com,mentee,,,ai_tools{b}\n"
)


def test_an_import_invites_and_nobody_is_matched_before_consent_and_onboarding(
    chat: Chat, url: str, tmp_path: Path
) -> None:
    path = write(tmp_path, "people.csv", PEOPLE.format(extra="", a="", b=""))
    code, output = cli(url, "participants", "import", "digital-2030", str(path))
    assert code == 0 and "2 will be asked for their consent" in output, output
    chat.advance(timedelta(minutes=1))  # what `rmbot scheduler run-due` does
    consent = chat.received("tom.harrington@example.com")[-1].text
    assert "consent" in consent.lower() or "join" in consent.lower()
    preview = chat.send(COORD, "match preview")[0]
    assert "0 pairs" in preview and "waiting for their consent" in preview and "Tom Harrington" in preview
    # A pending invitee gets the consent question back with `join`, and can switch role before saying yes.
    again = chat.send("tom.harrington@example.com", "join")
    assert any(c.label for m in chat.last["tom.harrington@example.com"] for c in m.choices), again
    with chat.store.unit_of_work() as uow:
        person = chat.person("tom.harrington@example.com")
        [participant] = uow.participants.of_person(person.id)
        assert participant.status == ParticipantStatus.INVITED and participant.intake_completed_at is None


def test_consent_recorded_elsewhere_still_needs_the_onboarding(chat: Chat, url: str, tmp_path: Path) -> None:
    text = PEOPLE.format(extra=",consented_at", a=",2030-01-02", b=",2030-01-02")
    code, output = cli(url, "participants", "import", "digital-2030", str(write(tmp_path, "p.csv", text)))
    assert code == 0 and "2 consented elsewhere, of whom 2 still get the onboarding" in output, output
    chat.advance(timedelta(minutes=1))
    assert chat.received("tom.harrington@example.com"), "the onboarding starts in chat"
    preview = chat.send(COORD, "match preview")[0]
    assert "0 pairs" in preview and "onboarding not finished" in preview


def test_onboarded_at_without_consent_is_refused(chat: Chat, url: str, tmp_path: Path) -> None:
    text = PEOPLE.format(extra=",onboarded_at", a=",2030-01-02", b=",soon")
    code, output = cli(url, "participants", "import", "digital-2030", str(write(tmp_path, "p.csv", text)))
    assert code == 1 and "onboarded_at needs consented_at" in output and "onboarded_at 'soon'" in output


# ----------------------------------------------------------------------------------------------------
# 10. Unmatched people read a kind reason about themselves; the reporting line's reach
# ----------------------------------------------------------------------------------------------------


def test_unmatched_people_read_a_second_person_reason_and_the_coordinator_the_precise_one(
    chat: Chat, url: str, tmp_path: Path
) -> None:
    text = (
        "email,role,capacity,can_teach,want_to_learn,consented_at,onboarded_at\n"
        "arjun.mehta@example.com,mentor,1,ai_tools,,2030-01-02,2030-01-02\n"
        "kavya.reddy@example.com,mentor,1,ai_tools,,2030-01-02,2030-01-02\n"
        "priya.nair@example.com,mentee,,,ai_tools,2030-01-02,2030-01-02\n"
    )
    assert cli(url, "participants", "import", "digital-2030", str(write(tmp_path, "p.csv", text)))[0] == 0
    assert "every possible partner is in their reporting line" in chat.send(COORD, "match preview")[0]
    chat.send(COORD, "match publish")
    notice = [m.text for m in chat.received("priya.nair@example.com") if "weren't matched" in m.text]
    assert len(notice) == 1
    assert "their reporting line" not in notice[0] and "your own reporting line" in notice[0]


def test_a_ceo_invited_as_mentee_warns_and_a_shorter_reach_lets_her_be_matched(chat: Chat) -> None:
    reply = chat.send(COORD, "invite @helena.varga as mentee")[0]
    assert "Helena Varga can't be matched with anyone yet" in reply and "match offline-depth" in reply
    assert "Nobody anywhere below" in chat.send(COORD, "match offline-depth @helena.varga 0")[0]
    assert "is not a number of levels" in chat.send(COORD, "match offline-depth @helena.varga deep")[0]
    set_reply = chat.send(COORD, "match offline-depth @helena.varga 2")[0]
    assert "up to 2 levels below Helena Varga stay excluded" in set_reply
    assert "match offline-depth" in chat.send(COORD, "report audit")[0]
