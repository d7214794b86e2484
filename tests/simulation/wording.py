"""Fragments of the engine's own wording the simulator looks for, rendered from prompts/ at run time."""

from __future__ import annotations

from functools import cache

from bot.wording import say, unescape

MARK = "QQQ"


def _fragment(key: str, **values: object) -> str:
    """The longest literal piece of a template around the marked values ("" if the key is gone)."""
    try:
        text = unescape(say(key, **values))
    except Exception:  # noqa: BLE001 - the wording was removed: nothing to look for
        return ""
    return max(text.replace("*", "").split(MARK), key=len).strip()


@cache
def apology() -> str:
    """The message the engine sends when it had to give up on someone's message."""
    return _fragment("errors.gave_up")


@cache
def lost_notice() -> str:
    """The "put aside, run its command again" notice: a questionnaire dropped (issue 15, defect 3)."""
    return _fragment("flow.put_aside", title=MARK)


@cache
def closed_notice() -> str:
    """The notice that a waiting questionnaire expired and was closed."""
    return _fragment("flow.expired", label=MARK, started=False)


@cache
def team_rating_label() -> str:
    """How notices name an anonymous team rating ("a rating of <manager>"): asked of team members."""
    return _fragment("flow.waiting_label", flow="team_rating", context={"manager": MARK}, title="")


@cache
def not_a_command() -> str:
    """The answer to typed text that is no command (and, with no questionnaire open, no answer either)."""
    return _fragment("commands.unknown", given=MARK, suggestion="")
