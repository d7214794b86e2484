"""Every figure of ``status``, ``report`` and the CSV reconciles with the records of a programme built with
known sessions, cancellations, a pause and answers; small programmes are told what each figure needs."""

from __future__ import annotations

import base64
import csv
import io
from datetime import timedelta

from bot.sessions.model import NewFeedback, SessionStatus
from bot.wording import unescape
from chat import Chat
from test_commitment import answer, sessions, to_followup
from test_sessions import COORD, MENTEE, MENTOR, confirm_first, participants, publish

PNG = b"\x89PNG\r\n\x1a\n"


def programme_id(chat: Chat) -> int:
    with chat.store.unit_of_work() as uow:
        return uow.programmes.in_tenant(1)[0].id


def add_feedback(chat: Chat, kind: str, ratings: list[int], key: str = "session") -> None:
    programme = programme_id(chat)
    with chat.store.unit_of_work() as uow:
        people = uow.people.in_tenant(1)[: len(ratings)]
        for n, (person, rating) in enumerate(zip(people, ratings, strict=True)):
            uow.feedback.add(
                NewFeedback(
                    programme_id=programme,
                    person_id=person.id,
                    role="mentee" if kind != "team_baseline" else "team",
                    kind=kind,
                    subject=f"{kind}:known-{n}",
                    answers={key: str(rating)},
                )
            )


def ready(chat: Chat) -> None:
    """Everyone imported has finished onboarding (matching takes only people who are ready)."""
    with chat.store.unit_of_work() as uow:
        for participant in uow.participants.in_programme(uow.programmes.in_tenant(1)[0].id):
            participant.onboarded_at = participant.onboarded_at or chat.clock.now()
            uow.participants.save(participant)


def pair_up(chat: Chat) -> None:
    """Arjun Mehta (mentor, Kolkata) and Gabriela Santos (mentee, Los Angeles), published as a pair."""
    participants(chat, f"{MENTOR},mentor,1,ai_tools;remote_work,,18:00-23:00\n{MENTEE},mentee,,,ai_tools,07:00-15:00\n")
    ready(chat)
    publish(chat)


def known_term(chat: Chat) -> None:
    """Session 1 held, session 2 cancelled by the mentee, session 3 unanswered, then the pair is paused:
    every later session is cancelled by the system."""
    pair_up(chat)
    confirm_first(chat)
    to_followup(chat, 1)
    answer(chat, MENTOR, "It happened")
    to_followup(chat, 2)
    answer(chat, MENTEE, "I had to cancel")
    to_followup(chat, 3)
    chat.send(COORD, f"pair pause {MENTOR}")
    chat.advance(timedelta(days=120))  # well after the term's end


def test_system_cancellations_are_not_due_and_every_figure_reconciles_with_the_records(chat: Chat) -> None:
    known_term(chat)
    stored = sessions(chat)
    assert [s.status for s in stored[:3]] == [SessionStatus.HELD, SessionStatus.CANCELLED, SessionStatus.SCHEDULED]
    assert len(stored) > 4 and all(s.status == SessionStatus.CANCELLED for s in stored[3:])
    status = unescape(chat.send(COORD, "status")[0])
    assert "Sessions: 1 held of 3 due (33%)" in status
    assert "cancelled or missed by mentees 1, by mentors 0" in status
    assert f"{len(stored) - 3} cancelled by the system" in status
    replies = chat.send(COORD, "report")
    report = unescape(replies[0])
    assert "Sessions: 1 held of 3 due" in report
    csv_reply = chat.send(COORD, "report csv")
    [attachment] = chat.last[COORD][0].attachments
    rows = list(csv.DictReader(io.StringIO(base64.b64decode(attachment.content_b64).decode())))
    assert csv_reply and len(rows) == 1
    row = rows[0]
    assert (row["sessions_due"], row["sessions_held"], row["cancelled_by_mentee"], row["cancelled_by_mentor"]) == (
        "3",
        "1",
        "1",
        "0",
    )
    assert row["cancelled_by_system"] == str(len(stored) - 3)


def test_a_small_programme_is_told_how_many_more_answers_each_figure_needs(chat: Chat) -> None:
    pair_up(chat)
    add_feedback(chat, "pulse", [4, 5])
    report = unescape(chat.send(COORD, "report")[0])
    # Two people take part: the pulse (and the goal, with one mentee) can never reach five answers.
    assert "Pulse (session usefulness, 1-5): not enough responses to show: only 2 people taking part can" in report
    assert "no measurement yet: only 1 mentee(s) can answer, fewer than the 5 needed" in report
    assert "program edit anonymity-threshold" in report
    participants(
        chat,
        "felix.braun@example.com,mentee,,,ai_tools,\n"
        "kavya.reddy@example.com,mentor,1,ai_tools,,\n"
        "lena.schmidt@example.com,mentor,1,ai_tools,,\n",
    )
    status = unescape(chat.send(COORD, "status")[0])
    assert "Pulse: not enough responses to show: 2 of the 5 answers needed so far (3 more)" in status


def test_the_baseline_is_measured_by_the_baseline_survey_and_the_typed_one_is_shown_as_expected(chat: Chat) -> None:
    pair_up(chat)
    add_feedback(chat, "team_baseline", [3, 4, 4, 3, 4], key="rating")
    chat.clock.advance(timedelta(days=1))  # past the baseline release, at the start of the term
    report = unescape(chat.send(COORD, "report")[0])
    assert "baseline 3.6 (measured: baseline survey, 5 people; expected at set-up: 5)" in report


def test_status_names_at_risk_pairs_and_unmatched_people(chat: Chat) -> None:
    pair_up(chat)
    with chat.store.unit_of_work() as uow:
        [pair] = uow.matching.pairs(programme_id(chat))
        pair.at_risk, pair.risk_reason = True, "gap"
        uow.matching.save_pair(pair)
    participants(chat, "felix.braun@example.com,mentee,,,ai_tools,\n")
    status = unescape(chat.send(COORD, "status")[0])
    assert "At risk: Arjun Mehta and Gabriela Santos (no session for a while)" in status
    assert "Not in a pair: Felix Braun (mentee)" in status
    assert "At risk" not in chat.send(MENTOR, "status")[0]  # coordinators only


def test_charts_show_empty_weeks_as_zero_with_integer_ticks_and_a_single_point_readably(chat: Chat) -> None:
    from bot.reports.charts import all_charts
    from bot.reports.health import programme_health

    known_term(chat)
    add_feedback(chat, "pulse", [4, 5, 4, 3, 5])
    chat.advance(timedelta(days=31))  # the next release (the first of the month) takes them
    with chat.store.unit_of_work() as uow:
        programme = uow.programmes.get(programme_id(chat))
        assert programme is not None
        health = programme_health(uow, programme, chat.clock.now())
    weeks = dict(health.held_weeks)
    assert sum(weeks.values()) == 1 and 0 in weeks.values()
    assert len(weeks) >= 13  # every week of the term, the empty ones as zero
    assert len([f for _, f in health.pulse_weeks if f is not None]) == 1  # one point
    for name, png in all_charts(health).items():
        assert png.startswith(PNG), name


def test_a_pulse_held_back_by_the_differencing_rule_says_how_many_more_answers_move_it(chat: Chat) -> None:
    pair_up(chat)
    add_feedback(chat, "pulse", [4, 4, 4, 4, 4])
    chat.clock.advance(timedelta(days=1))  # released at the start of the term
    assert "Pulse: 4.0/5 from 5 people (released 2030-03-02;" in unescape(chat.send(COORD, "status")[0])
    chat.clock.advance(timedelta(days=14))
    programme = programme_id(chat)
    with chat.store.unit_of_work() as uow:
        for n, person in enumerate(uow.people.in_tenant(1)[:2]):
            uow.feedback.add(
                NewFeedback(
                    programme_id=programme,
                    person_id=person.id,
                    role="mentor",
                    kind="pulse",
                    subject=f"session:later-{n}",
                    answers={"session": "1"},
                )
            )
    chat.clock.advance(timedelta(days=31))  # the release of 1 April cannot move it
    status = unescape(chat.send(COORD, "status")[0])
    assert "4.0/5 from 5 people (released 2030-03-02; it moves at a release once 5 people have answered since" in status
    assert "(2 so far)" in status and "the next release is on **2030-04-23**" in status


def test_status_of_a_large_programme_names_the_first_25_of_a_list_and_counts_the_rest(chat: Chat) -> None:
    emails = [f"invitee{n:02}@example.com" for n in range(40)]
    for n, email in enumerate(emails):
        chat.add_person(email, f"Invitee {n:02}", seniority=7)
    chat.send(COORD, "invite " + " ".join(emails) + " as mentee")
    [line] = [line for line in unescape(chat.send(COORD, "status")[0]).splitlines() if line.startswith("Waiting for")]
    shown, more = line.removeprefix("Waiting for an answer: ").rsplit(" and ", 1)
    assert len(shown.split(", ")) == 25
    assert "Invitee 00" in shown and "Invitee 39" not in line
    waiting = int(more.removesuffix(" more")) + 25
    assert waiting >= 40  # everyone invited is counted, if not named
