"""Measurement: known answers in, checked figures out; the anonymity rule; data rights; close and clone."""

from __future__ import annotations

import base64
import csv
import io
from datetime import timedelta

from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import MetaData, select

from bot.library import load_library
from bot.reports.aggregate import Cell
from bot.reports.disclosure import Breakdown, Family, disclose
from bot.sessions.model import NewFeedback, NewSessionEvent, SessionStatus, Side
from bot.wording import unescape
from chat import Chat
from test_sessions import COORD, MENTEE, MENTOR, confirm_first, pair_up

PNG = b"\x89PNG\r\n\x1a\n"


def programme_id(chat: Chat) -> int:
    with chat.store.unit_of_work() as uow:
        return uow.programmes.in_tenant(1)[0].id


def add_pulses(
    chat: Chat, ratings: list[int], comment_from: int | None = None, comment: str = "Loved the hands-on part"
) -> None:
    """Pulses from ``len(ratings)`` different people of the sample organisation; ``comment_from`` comments and
    lets the coordinator (only) read it."""
    programme = programme_id(chat)
    with chat.store.unit_of_work() as uow:
        people = uow.people.in_tenant(1)[: len(ratings)]
        for n, (person, rating) in enumerate(zip(people, ratings, strict=True)):
            answers = {"session": str(rating), "together": "4"}
            if n == comment_from:
                answers |= {"comment": comment, "share": True}
            uow.feedback.add(
                NewFeedback(
                    programme_id=programme,
                    person_id=person.id,
                    role="mentee" if n % 2 else "mentor",
                    kind="pulse",
                    subject=f"session:test-{n}",
                    answers=answers,
                    share_comment=n == comment_from,
                )
            )


def test_the_report_figures_match_known_answers_and_charts_and_csv_are_valid(chat: Chat) -> None:
    pair_up(chat)
    confirm_first(chat)
    programme = programme_id(chat)
    with chat.store.unit_of_work() as uow:
        sessions = uow.sessions.of_programme(programme)
        first, second = sessions[0], sessions[1]
        first.status = SessionStatus.HELD
        first.topic_id = next(iter(load_library().topics))
        uow.sessions.save(first)
        second.status = SessionStatus.CANCELLED
        uow.sessions.save(second)
        uow.sessions.record(
            NewSessionEvent(
                session_id=second.id,
                circle=second.circle,
                programme_id=second.programme_id,
                kind="cancelled",
                side=Side.MENTEE,
            )
        )
    add_pulses(chat, [5, 4, 4, 3, 5, 5], comment_from=2)
    chat.clock.advance(timedelta(days=40))
    replies = chat.send(COORD, "report")
    text = unescape(replies[0])
    assert "Matched: 1 of 1 mentees" in text and "1 live pairs, 0 at risk" in text
    assert "Sessions: 1 held of 3 due" in text and "cancelled or missed by mentees 1, by mentors 0" in text
    assert "4.3 from 6 people" in text  # (5+4+4+3+5+5)/6
    assert "mentors: not enough responses to show" in text  # three people each way: under k = 5
    assert 'Comments shared with you: "Loved the hands-on part"' in text
    attachments = chat.last[COORD][0].attachments
    assert {a.filename for a in attachments} == {"sessions-per-week.png", "pulse-trend.png", "goal-progress.png"}
    assert all(base64.b64decode(a.content_b64).startswith(PNG) for a in attachments)
    chat.send(COORD, "report csv")
    [export] = chat.last[COORD][0].attachments
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(export.content_b64).decode())))
    assert rows == [
        {
            "mentor": "Arjun Mehta",
            "mentee": "Gabriela Santos",
            "status": "active",
            "at_risk": "no",
            "sessions_planned": str(len(sessions)),
            "sessions_due": "3",
            "sessions_held": "1",
            "cancelled_by_mentor": "0",
            "cancelled_by_mentee": "1",
            "cancelled_by_system": "0",
            "goals_set": "0",
            "goals_done": "0",
        }
    ]


def test_figures_on_fewer_than_k_people_are_never_shown(chat: Chat) -> None:
    pair_up(chat)
    add_pulses(chat, [1, 2, 5, 5], comment_from=1)  # four people: under the default threshold of 5
    text = unescape(chat.send(COORD, "report")[0])
    assert "not enough responses to show" in text and "from 4 people" not in text
    assert "Comments shared" not in text  # not even a released comment when so few answered
    status = unescape(chat.send(COORD, "status")[0])
    assert "Pulse: not enough responses to show: only 2 people taking part can answer" in status


groups_strategy = st.dictionaries(
    st.sampled_from(["Engineering", "Sales", "People", "Finance", "Marketing", "Operations"]),
    st.dictionaries(st.integers(1, 40), st.lists(st.floats(1, 5), min_size=1, max_size=3), max_size=12),
    max_size=6,
)


@given(groups_strategy, st.integers(3, 8))
@settings(max_examples=300, deadline=None)
def test_no_aggregate_ever_rests_on_fewer_than_k_people(groups, k) -> None:  # type: ignore[no-untyped-def]
    """A breakdown of the total (each person in one group): every figure shown rests on at least k people and
    is their true figure, and the groups withheld, together, are none or at least k people."""
    answers: dict[str, dict[str, tuple[str, float]]] = {}
    seen: set[int] = set()
    for name, people in sorted(groups.items()):
        for person, values in people.items():
            if person in seen:
                continue  # one group per person, as departments are
            seen.add(person)
            for n, value in enumerate(values):
                answers.setdefault(f"d:{name}", {})[f"{person}.{n}"] = (str(person), value)
    total = Cell("d", {a: given for cell in answers.values() for a, given in cell.items()})
    family = Family(total, [Breakdown("d", {name: Cell(name, cell) for name, cell in answers.items()})])
    shown = {cell.name: cell for cell in disclose([family], [], k)}
    for name, cell in shown.items():
        assert cell.figure.respondents >= k
        if name in answers:
            truth = Cell(name, answers[name])
            assert cell.figure == truth.figure
    withheld = {person for name, cell in answers.items() if name not in shown for person, _ in cell.values()}
    if "d" in shown and any(name in shown for name in answers):
        assert len(withheld) == 0 or len(withheld) >= k  # never a small group to work out from the total
        if withheld:
            assert shown["d#other"].figure.respondents == len(withheld)
    assert "d" not in shown or total.respondents >= k


def test_forget_me_leaves_nothing_personal_in_any_table(chat: Chat) -> None:
    pair_up(chat)
    confirm_first(chat)
    chat.send(MENTEE, "goals add Use an AI assistant to draft my weekly update")
    with chat.store.unit_of_work() as uow:
        person = uow.people.by_email(1, MENTEE)
        uow.people.link_identity(person, "slack", "U0GABRIELA")
    replies = chat.send(MENTEE, "forget-me")
    assert "This deletes your personal data" in replies[0]
    assert "your personal data is deleted" in chat.press(MENTEE, "Yes, delete my data")[-1]
    assert "has ended" in unescape(chat.received(MENTOR)[-1].text)
    chat.advance(timedelta(hours=2))
    personal = ["Gabriela", "Santos", MENTEE, "U0GABRIELA", "weekly update", "Head of Product Design"]
    metadata = MetaData()
    metadata.reflect(chat.store.engine)
    found = []
    with chat.store.engine.connect() as connection:
        for table in metadata.sorted_tables:
            if table.name in ("inbox_event", "outbox_message", "alembic_version"):
                continue  # delivery logs: see the test below for what is kept there
            for row in connection.execute(select(table)):
                blob = str(tuple(row))
                found += [(table.name, word) for word in personal if word in blob]
    assert found == []
    assert "couldn't find" in chat.send(COORD, f"invite {MENTEE} as mentee")[0]  # no longer findable by email


def test_coordinators_read_the_audit_log_and_clone_and_close(chat: Chat) -> None:
    pair_up(chat)
    chat.send(COORD, "program edit cadence 3w")
    audit = unescape(chat.send(COORD, "report audit")[0])
    assert "program edit cadence 3w" in audit and "match publish" in audit and "Amara Okafor" in audit
    assert "for programme coordinators" in chat.send(MENTOR, "report audit")[0]
    assert "I suggest **2030-06-01 to 2030-08-30**" in unescape(chat.send(COORD, "program clone Digital 2031")[0])
    cloned = unescape(chat.send(COORD, "yes")[0])
    assert "Created **Digital 2031**" in cloned and "nobody is paired with an earlier partner" in cloned
    closed = unescape(chat.send(COORD, "program close --program digital-2030")[0])
    assert "Closed **Digital 2030**" in closed and "Matched: 1 of 1 mentees" in closed
    assert "already closed" in chat.send(COORD, "program close --program digital-2030")[0]
    programme = programme_id(chat)
    with chat.store.unit_of_work() as uow:
        assert all(p.status.value == "ended" for p in uow.matching.pairs(programme))


def test_closing_sends_the_sponsor_aggregates_and_purges_personal_data_after_the_retention_period(chat: Chat) -> None:
    pair_up(chat)
    chat.send(COORD, "program edit sponsor helena.varga@example.com")
    chat.send(COORD, "program edit retention-days 30")
    closed = unescape(chat.send(COORD, "program close")[0])
    assert "purged in 30 days" in closed
    sponsor = unescape(chat.received("helena.varga@example.com")[-1].text)
    assert "As sponsor of **Digital 2030**" in sponsor and "Matched: 1 of 1 mentees" in sponsor
    assert {a.filename for a in chat.received("helena.varga@example.com")[-1].attachments} >= {"pulse-trend.png"}
    chat.advance(timedelta(days=29))
    assert chat.person(MENTOR).name == "Arjun Mehta" and chat.person(MENTEE).name == "Gabriela Santos"
    chat.advance(timedelta(days=2))
    assert chat.person(MENTOR).name == "Former participant" and chat.person(MENTEE).email is None
    assert chat.person(COORD).name == "Amara Okafor"  # coordinators are not participants: kept


def test_team_rated_baseline_and_retention_against_the_rest_of_the_organisation(chat: Chat) -> None:
    from bot.directory import parse_directory
    from bot.wording import PROMPTS
    from directory_support import import_directory
    from test_sessions import participants, publish

    chat.send(COORD, "program edit anonymity-threshold 3")
    participants(chat, "kavya.reddy@example.com,mentor,1,ai_tools,,\ntom.harrington@example.com,mentee,,,ai_tools,\n")
    publish(chat)
    chat.advance(timedelta(minutes=5))
    with chat.store.unit_of_work() as uow:
        team = [p.email for p in uow.people.reports(uow.people.by_email(1, "tom.harrington@example.com").id)]
    assert len(team) == 3
    for email, rating in zip(team, ["6", "7", "8"], strict=True):
        asked = unescape(chat.received(email)[-1].text)
        assert "Tom Harrington takes part in" in asked and "never to Tom Harrington" in asked
        chat.send(email, rating)
    # Someone outside the programme leaves: the next directory import no longer lists them.
    text = (PROMPTS / "sample" / "organisation.csv").read_text(encoding="utf-8")
    kept = "\n".join(line for line in text.splitlines() if not line.startswith("ella.murphy@example.com"))
    import_directory(chat.store, 1, parse_directory(kept, {}).rows)
    chat.clock.advance(timedelta(days=1))  # the ratings are released at the start of the term
    report = unescape(chat.send(COORD, "report")[0])
    assert "baseline 7.0 (3 people)" in report and "end not measured yet" in report
    assert "participants 2 of 2 still here, the rest of the organisation 61 of 62" in report


def test_the_end_of_term_evaluation_says_whether_the_goal_was_met_and_what_worked(chat: Chat) -> None:
    pair_up(chat)
    confirm_first(chat)
    programme = programme_id(chat)
    library = load_library()
    topic = next(iter(library.topics.values()))
    framework = next(iter(library.frameworks.values()))
    chat.send(COORD, "program edit baseline 3")
    chat.send(COORD, "program edit target 4")
    with chat.store.unit_of_work() as uow:
        session = uow.sessions.of_programme(programme)[0]
        session.status, session.topic_id, session.framework_id = SessionStatus.HELD, topic.id, framework.id
        uow.sessions.save(session)
        people = uow.people.in_tenant(1)[:6]
        for n, person in enumerate(people):
            uow.feedback.add(
                NewFeedback(
                    programme_id=programme,
                    person_id=person.id,
                    role="mentee",
                    kind="pulse",
                    subject=f"session:e-{n}",
                    session_id=session.id,
                    answers={"session": "4"},
                )
            )
            uow.feedback.add(
                NewFeedback(
                    programme_id=programme,
                    person_id=person.id,
                    role="mentee",
                    kind="final",
                    subject="final",
                    answers={"goal_self": 4 + n % 2},
                )
            )
        cancelled = uow.sessions.of_programme(programme)[1]  # the mentee cancelled the next one
        cancelled.status = SessionStatus.CANCELLED
        uow.sessions.save(cancelled)
        uow.sessions.record(
            NewSessionEvent(
                session_id=cancelled.id,
                circle=cancelled.circle,
                programme_id=programme,
                kind="cancelled",
                side=Side.MENTEE,
            )
        )
    chat.clock.advance(timedelta(days=1))
    text = unescape(chat.send(COORD, "report evaluation")[0])
    assert (
        "Goal (" in text
        and "**met**: 4.5 (mentees' self-assessment, 6 people) against a target of 4 (baseline 3.0, as expected" in text
    )
    assert f"{topic.title} 4.0" in text and f"{framework.name} 4.0" in text
    assert "Mentees (the seniors) cancelled or missed more sessions" in text
    # before the end of term, the plain report has no evaluation; after it, it does
    assert "End-of-term evaluation" not in unescape(chat.send(COORD, "report")[0])
    chat.clock.advance(timedelta(days=100))
    assert "End-of-term evaluation" in unescape(chat.send(COORD, "report")[0])


def test_breakdowns_by_department_and_self_identification_withhold_small_groups(chat: Chat) -> None:
    pair_up(chat)
    programme = programme_id(chat)

    def pulses(department: str, count: int, rating: str) -> None:
        with chat.store.unit_of_work() as uow:
            people = [p for p in uow.people.in_tenant(1) if p.department == department][:count]
            for person in people:
                uow.feedback.add(
                    NewFeedback(
                        programme_id=programme,
                        person_id=person.id,
                        role="mentor",
                        kind="pulse",
                        subject=f"session:{person.id}",
                        answers={"session": rating},
                    )
                )

    pulses("Engineering", 6, "4")
    pulses("Sales", 2, "1")
    chat.clock.advance(timedelta(days=1))
    text = unescape(chat.send(COORD, "report")[0])
    # Sales is too small; Engineering is then withheld too, or Sales could be worked out from the total
    assert "Pulse by department: none shown" in text and "Sales" not in text and "Engineering" not in text
    assert "gender: none released" in text  # the two people taking part did not say: fewer than 5
    pulses("Marketing", 7, "5")
    chat.clock.advance(timedelta(days=31))
    text = unescape(chat.send(COORD, "report")[0])
    # Sales (2) alone would be one small group: Engineering joins it, unnamed, (6 x 4 + 2 x 1) / 8
    assert "Pulse by department: Marketing 5.0 · other departments 3.2." in text
    assert "Sales" not in text and "Engineering" not in text
