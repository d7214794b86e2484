"""A press shown in the message that was pressed.

When the platform can change the message a button was pressed in (:attr:`bot.model.InboundEvent.pressed`:
a Slack DM, a Teams personal chat), the engine answers the press with an outgoing message that ``replaces``
it: the adapter shows that message's text in place of the buttons, so the pressed message reads "✓ the
choice" and cannot be pressed twice by mistake. The update is queued in the same transaction as the press's
effect, so it is as durable and exactly-once as any outgoing message, and it shows what the engine decided:

* the press was taken: the choice, as its button showed it;
* the button no longer applied (:class:`~bot.errors.Outdated`, or a question that has moved on): nothing
  changed, the person got one sentence saying so, and the old message says it no longer applies;
* it was refused for another reason (a time that does not fit, someone else's button, a malformed value),
  or it opened a form (which may be closed unanswered): the buttons stay, so that the person can choose again.
"""

from __future__ import annotations

from bot.context import Turn
from bot.model import Address
from bot.wording import say


def show_press(turn: Turn, refused: bool = False) -> None:
    """Queue the update of the message pressed in ``turn``'s event, if the platform gave one (see above);
    ``refused``: the press was refused for a reason other than being outdated (the buttons stay)."""
    pressed = turn.event.pressed
    if pressed is None or turn.person is None or (refused and not turn.outdated):
        return
    if not turn.outdated and any(m.form is not None for m in turn.sent):
        return  # the press opened a form, which may be closed unanswered: the message keeps its buttons
    note = say("pressed.closed") if turn.outdated else say("pressed.chosen", label=pressed.label)
    turn.message(Address.person(turn.person.id), note, replaces=pressed.ref, outdated=turn.outdated)
