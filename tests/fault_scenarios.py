"""Every inbound event type delivered four times (the original and three retries) against once.

Two bots on two fresh stores play the same scenario, step by step: the "once" bot gets each event
once; the "four times" bot gets the original, a retry before the worker has run, and then two
retries at the same moment after it has run (``X-Slack-Retry-Num`` 1 to 3 on Slack, the same activity
id on Teams, the same ``due:<job id>`` for scheduled work). After every step both stores must hold the
same state (every table's row count and content, without ids and timestamps) and both fakes must
have received the same messages. The steps build on each other: a coordinator's command, a consent
button, intake answers typed, picked and submitted in a modal, so a double effect would show.

Views are not messages: Slack's App Home is published again on every delivery of ``app_home_opened``
(the same view, replacing itself), so views are compared as the distinct views published or opened.
"""

from __future__ import annotations

import asyncio
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from fault_due_steps import DUE_STEPS, DueSide
from fault_slack_steps import SLACK_STEPS, SlackSide
from fault_state import differences, dump, plain
from fault_steps import Send
from fault_teams_steps import TEAMS_STEPS, TeamsSide
from storage.store import SqlStore

__all__ = ["DUE_STEPS", "SLACK_STEPS", "TEAMS_STEPS", "StepResult", "four_times"]


@dataclass
class StepResult:
    name: str
    messages: int
    """Messages the platform received for this step (the same on both sides when it passed)."""
    problems: list[str] = field(default_factory=list)


async def _play(side: Any, send: Send, times: int) -> list[tuple[int, Any]]:
    answers = [await send(None)]
    if times > 1:
        answers.append(await send(1))  # a retry before the worker has handled the original
    await side.settle()
    if times > 1:
        answers += await asyncio.gather(send(2), send(3))  # two more, together, after it was handled
        await side.settle()
    return answers


async def four_times(platform: str, once_store: SqlStore, four_store: SqlStore) -> list[StepResult]:
    """Play ``platform``'s scenario (slack, teams or due) once and four times over; one result per step."""
    from fault_runs import working_moment

    shift, zone = working_moment(datetime.now(UTC))
    make, steps = {
        "slack": (SlackSide, SLACK_STEPS),
        "teams": (TeamsSide, TEAMS_STEPS),
        "due": (lambda store: DueSide(store, shift, zone), DUE_STEPS),
    }[platform]
    results = []
    async with AsyncExitStack() as stack:
        once = await stack.enter_async_context(make(once_store))
        four = await stack.enter_async_context(make(four_store))
        for name, step in steps:
            before = len(once.messages())
            answers_once = await _play(once, await step(once), 1)
            try:
                answers_four = await _play(four, await step(four), 4)
            except Exception as exc:  # noqa: BLE001 - the four-times side went elsewhere: stop there
                results.append(
                    StepResult(
                        name,
                        len(once.messages()) - before,
                        [
                            f"the step cannot be played after four deliveries ({type(exc).__name__}: {exc}); "
                            f"the messages so far differ by {len(four.messages()) - len(once.messages())}"
                        ],
                    )
                )
                break
            result = StepResult(name, len(once.messages()) - before)
            if once.messages() != four.messages():
                result.problems.append(
                    f"messages differ:\n  once: {once.messages()[before:]}\n  four: {four.messages()[before:]}"
                )
            if any(status != 200 for status, _ in answers_once + answers_four):
                result.problems.append(f"not acknowledged with 200: {answers_once + answers_four}")
            if any(plain(answer) != plain(answers_once[0][1]) for _, answer in answers_four):
                result.problems.append(f"a retry was answered differently: {answers_four}")
            result.problems += differences(dump(once_store), dump(four_store))
            results.append(result)
    return results
