"""The values of the questionnaires' buttons (see :mod:`bot.payloads`)."""

from __future__ import annotations

from dataclasses import dataclass

from bot.payloads import ActionPayload


@dataclass(frozen=True)
class AnswerValue(ActionPayload):
    """An answer button: the questionnaire instance (``flow@instance``), the step, the answer."""

    flow: str
    step: str
    answer: str


@dataclass(frozen=True)
class EditValue(ActionPayload):
    """A "change this answer" button of ``review``: the questionnaire instance and the step to ask again."""

    flow: str
    step: str


@dataclass(frozen=True)
class OpenValue(ActionPayload):
    """An "answer now" button of ``todo``: the questionnaire instance to open."""

    instance: str
