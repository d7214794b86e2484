"""The goal is compared like with like: a team-rated baseline against the team rating at the end of the
term, never against the mentees' own view of themselves."""

from __future__ import annotations

from datetime import timedelta

from bot.reports.evaluation import evaluate
from bot.reports.health import programme_health
from bot.wording import unescape
from chat import Chat
from test_report_counts import add_feedback, pair_up, programme_id
from test_sessions import COORD


def health(chat: Chat):  # type: ignore[no-untyped-def]
    with chat.store.unit_of_work() as uow:
        programme = uow.programmes.get(programme_id(chat))
        assert programme is not None
        return programme_health(uow, programme, chat.clock.now())


def test_a_self_assessment_is_not_measured_against_the_team_rated_baseline(chat: Chat) -> None:
    pair_up(chat)  # the goal: team-rated digital confidence from 5 to 7
    add_feedback(chat, "team_baseline", [4, 4, 4, 4, 4], key="rating")
    add_feedback(chat, "final", [8, 8, 8, 8, 8], key="goal_self")  # the mentees think highly of themselves
    chat.clock.advance(timedelta(days=1))  # past the first release (the start of the term)
    figures = health(chat)
    assert figures.goal_progress is None and evaluate(figures).verdict == "not_measured"
    report = unescape(chat.send(COORD, "report")[0])
    assert "now 8.0 (mentees' self-assessment, 5 people)" in report  # still shown, and named for what it is
    assert "of the way" not in report
    assert "measured by the end-of-term team rating, not the self-assessment" in report
    evaluation = unescape(chat.send(COORD, "report evaluation")[0])
    assert "**met**" not in evaluation and "waits for the end-of-term team rating" in evaluation


def test_the_team_rating_at_the_end_is_compared_with_the_team_rated_baseline(chat: Chat) -> None:
    pair_up(chat)
    add_feedback(chat, "team_baseline", [4, 4, 4, 4, 4], key="rating")
    add_feedback(chat, "final", [8, 8, 8, 8, 8], key="goal_self")
    add_feedback(chat, "team_end", [5, 6, 5, 6, 5], key="rating")
    chat.clock.advance(timedelta(days=1))
    figures = health(chat)
    assert figures.goal_basis == "team" and figures.goal_progress is not None
    assert round(figures.goal_progress, 2) == round((5.4 - 4) / (7 - 4), 2)
    assert evaluate(figures).verdict == "not_met"  # 5.4 against a target of 7, whatever the mentees think
    report = unescape(chat.send(COORD, "report")[0])
    assert "47% of the way (end-of-term team rating 5.4 against the team-rated baseline)" in report
    chat.clock.advance(timedelta(days=120))
    evaluation = unescape(chat.send(COORD, "report")[0])
    assert "**not met**: 5.4 (end-of-term team rating, 5 people) against a target of 7" in evaluation


def test_without_a_measured_baseline_the_self_assessment_is_labelled_as_such(chat: Chat) -> None:
    pair_up(chat)
    add_feedback(chat, "final", [8, 8, 8, 8, 8], key="goal_self")
    chat.clock.advance(timedelta(days=1))
    figures = health(chat)
    assert figures.goal_basis == "self" and evaluate(figures).verdict == "met"
    report = unescape(chat.send(COORD, "report evaluation")[0])
    assert "(mentees' self-assessment against the baseline expected at set-up)" in report
    assert "**met**: 8.0 (mentees' self-assessment, 5 people) against a target of 7" in report
