"""The engine through the in-process chat harness: programmes, invitations, consent, refusals."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from bot.clock import OffsetClock
from bot.model import Action
from chat import Chat

COORD = "amara@example.com"
JUNIOR = "sam@example.com"
SENIOR = "lee@example.com"
OTHER = "kim@example.com"

PROGRAMME_ANSWERS = [
    "Digital 2027",
    "1",
    "team-rated digital confidence",
    "5.2",
    "6.5",
    "2030-12-31",
    "2030-01-15",
    "2030-07-15",
    "every 2 weeks",
    "45",
    "skip",
    "yes",
]


@pytest.fixture
def chat(store) -> Chat:  # type: ignore[no-untyped-def]
    # A fixed Tuesday noon (UTC): reminders that wait for working hours fall due at known times.
    chat = Chat(store, OffsetClock(start=datetime(2029, 11, 13, 12, 0, tzinfo=UTC)))
    chat.add_person(COORD, "Amara Okafor", 6)
    chat.add_person(JUNIOR, "Sam Lee", 2)
    chat.add_person(SENIOR, "Lee Chen", 7)
    chat.add_person(OTHER, "Kim Park", 3)
    chat.make_tenant_coordinator(COORD)
    return chat


def create_programme(chat: Chat, answers: list[str] = PROGRAMME_ANSWERS) -> list[str]:
    replies = chat.send(COORD, "program new")
    for answer in answers:
        replies = chat.send(COORD, answer)
    return replies


def snapshot(chat: Chat) -> dict:
    """Everything a refused command must leave untouched."""
    with chat.store.unit_of_work() as uow:
        tenant = uow.tenants.find("console", "console")
        programmes = [p.model_dump() for p in uow.programmes.in_tenant(tenant.id)]
        participants = [pa.model_dump() for p in programmes for pa in uow.participants.in_programme(p["id"])]
        coordinators = [uow.coordinators.of_programme(p["id"]) for p in programmes]
        return {"programmes": programmes, "participants": participants, "coordinators": coordinators}


def test_guided_setup_creates_a_programme_with_its_creator_as_coordinator(chat: Chat) -> None:
    replies = create_programme(chat)
    assert "Created **Digital 2027**" in replies[0]
    shown = chat.send(COORD, "program show")[0]
    assert "team-rated digital confidence, from 5.2 to 6.5 by 2030-12-31" in shown
    assert "2030-01-15 to 2030-07-15, every 2 weeks, 45-minute sessions" in shown
    assert "Coordinators: Amara Okafor" in shown
    assert "not a promotion track" in shown  # the standard expectations text when skipped


def test_invalid_answers_get_a_specific_reprompt_and_the_question_again(chat: Chat) -> None:
    chat.send(COORD, "program new")
    assert "at least 3 characters" in chat.send(COORD, "ab")[0]
    chat.send(COORD, "Digital 2027")
    assert "'9' is not one of the options" in chat.send(COORD, "9")[0]
    chat.send(COORD, "social media")  # by label
    chat.send(COORD, "team-rated confidence")
    assert "'lots' is not a number" in chat.send(COORD, "lots")[0]
    chat.send(COORD, "5")
    chat.send(COORD, "7")
    assert "'next year' is not a date I can read" in chat.send(COORD, "next year")[0]
    assert "is not in the future" in chat.send(COORD, "2001-01-01")[0]
    chat.send(COORD, "2030-12-31")
    chat.send(COORD, "2030-03-01")
    assert "must come after 2030-03-01" in chat.send(COORD, "2030-02-01")[0]
    chat.send(COORD, "2030-09-01")
    assert "'sometimes' is not a cadence" in chat.send(COORD, "sometimes")[0]
    chat.send(COORD, "monthly")
    assert "between 15 and 180" in chat.send(COORD, "500")[0]


def test_back_review_cancel_and_resume_keep_answers(chat: Chat) -> None:
    chat.send(COORD, "program new")
    chat.send(COORD, "Digital 2027")
    chat.send(COORD, "2")
    assert "What is its focus?" in chat.send(COORD, "back")[0]
    chat.send(COORD, "1")
    review = chat.last[COORD]
    chat.send(COORD, "review")
    review = chat.last[COORD][0]
    assert ("Name", "Digital 2027") in review.sections[0].fields
    assert ("Focus", "Digital tools and technology") in review.sections[0].fields
    assert "**New programme**: stopped" in chat.send(COORD, "cancel")[0]
    assert "not a command" not in chat.send(COORD, "status")[0]  # after cancel, text is a command again
    resumed = chat.send(COORD, "program new")
    assert "2 answers kept" in resumed[0]
    assert "what will you measure?" in resumed[1]


def test_a_required_question_cannot_be_skipped(chat: Chat) -> None:
    chat.send(COORD, "program new")
    replies = chat.send(COORD, "skip")
    assert "can't be skipped" in replies[0]
    assert "What is the programme called?" in replies[1]


def test_programme_names_are_unique_in_a_tenant(chat: Chat) -> None:
    create_programme(chat)
    chat.send(COORD, "program new")
    assert "already exists" in chat.send(COORD, "digital 2027")[0]


def test_invite_accept_and_decline(chat: Chat) -> None:
    create_programme(chat)
    replies = chat.send(COORD, f"invite @{JUNIOR} {OTHER} as mentor")
    assert "Sam Lee, Kim Park" in replies[0]
    consent = chat.received(JUNIOR)[-1]
    assert "invited you to **Digital 2027**" in consent.text and "as a **mentor**" in consent.text
    assert [c.label for c in consent.choices] == ["Yes, I'm in", "No, thanks"]
    assert "you're in **Digital 2027**" in chat.press(JUNIOR, "Yes, I'm in")[0]
    assert "you won't get messages about it" in chat.press(OTHER, "No, thanks")[0]
    status = chat.send(COORD, "status")[0]
    assert "Mentors: 1 in, 0 invited, 1 declined" in status


def test_invitations_follow_the_seniority_rule(chat: Chat) -> None:
    create_programme(chat)
    reply = chat.send(COORD, f"invite {SENIOR} as mentor")[0]
    assert "Lee Chen: not invited: too senior to be a mentor" in reply
    reply = chat.send(COORD, f"invite {JUNIOR} as mentee")[0]
    assert "Sam Lee: not invited: too junior to be a mentee" in reply  # nobody is junior enough to mentor Sam
    assert snapshot(chat)["participants"] == []
    chat.send(COORD, "program edit mentor-max-seniority 7")
    assert "Invited" in chat.send(COORD, f"invite {SENIOR} as mentor")[0]


def test_a_volunteer_who_picks_a_role_they_cannot_take_is_told_kindly(chat: Chat) -> None:
    create_programme(chat)
    reply = chat.send(SENIOR, "join as mentor")
    assert "among the most senior people here" in reply[0]
    assert "You asked to join" in chat.press(SENIOR, "Join as a mentee instead")[0]


def test_inviting_an_unknown_person_invites_nobody(chat: Chat) -> None:
    create_programme(chat)
    before = snapshot(chat)
    reply = chat.send(COORD, f"invite {JUNIOR} nobody@example.com as mentee")[0]
    assert "couldn't find nobody@example.com" in reply and "Nobody was changed" in reply
    assert snapshot(chat) == before
    assert "not a role" in chat.send(COORD, f"invite {JUNIOR} as boss")[0]
    assert "Usage: `invite" in chat.send(COORD, f"invite {JUNIOR}")[0]


def test_invitation_reminder_comes_once_and_never_after_a_decline(chat: Chat) -> None:
    create_programme(chat)
    chat.send(COORD, f"invite {JUNIOR} {OTHER} as mentor")
    chat.press(OTHER, "No, thanks")
    before_sam, before_kim = len(chat.received(JUNIOR)), len(chat.received(OTHER))
    chat.advance(timedelta(days=3, minutes=1))
    assert len(chat.received(JUNIOR)) == before_sam + 1
    assert "gentle reminder" in chat.received(JUNIOR)[-1].text
    assert len(chat.received(OTHER)) == before_kim  # declined: nothing more
    chat.advance(timedelta(days=10))
    assert len(chat.received(JUNIOR)) == before_sam + 1


def test_declining_suppresses_messages_already_queued_for_the_programme(chat: Chat) -> None:
    create_programme(chat)
    chat.send(COORD, f"invite {SENIOR} as mentee")
    # Lee declines before the queued consent message was delivered anywhere else.
    message = chat.received(SENIOR)[-1]
    participant_action = message.choices[1]
    chat.send(SENIOR, action=Action(id=participant_action.action, value=participant_action.value))
    with chat.store.unit_of_work() as uow:
        tenant = uow.tenants.find("console", "console")
        programme = uow.programmes.in_tenant(tenant.id)[0]
        lee = uow.people.by_email(tenant.id, SENIOR)
        from bot.model import Address, OutgoingMessage

        uow.outbox.add(
            OutgoingMessage(
                tenant_id=tenant.id,
                to=Address.person(lee.id),
                idempotency_key="late",
                text="programme news",
                programme_id=programme.id,
            ),
            platform="console",
        )
    chat.pump()
    assert all(m.text != "programme news" for m in chat.received(SENIOR))


def test_non_coordinator_commands_are_refused_and_change_nothing(chat: Chat) -> None:
    create_programme(chat)
    chat.send(COORD, f"invite {JUNIOR} as mentor")
    before = snapshot(chat)
    for command in [
        "program new",
        "program list",
        "program show",
        "program edit cadence 3w",
        f"invite {OTHER} as mentee",
        f"coordinators add {OTHER}",
        "status",
        "match preview",
    ]:
        reply = chat.send(JUNIOR, command)
        assert len(reply) == 1 and "for programme coordinators" in reply[0], command
    assert snapshot(chat) == before


def test_a_coordinator_of_one_programme_cannot_touch_another(chat: Chat) -> None:
    create_programme(chat)
    chat.send(COORD, f"coordinators add {OTHER}")
    chat.send(OTHER, "program new")
    for answer in ["Inclusion 2030", *PROGRAMME_ANSWERS[1:]]:
        chat.send(OTHER, answer)
    before = snapshot(chat)
    reply = chat.send(JUNIOR, "status --program inclusion-2030")[0]
    assert "for programme coordinators" in reply
    chat.add_person("new@example.com", "Noor Ali", 4)
    chat.make_tenant_coordinator("new@example.com")
    reply = chat.send("new@example.com", "status --program digital-2027")[0]
    assert "for programme coordinators" in reply
    assert snapshot(chat) == before


def test_several_programmes_need_a_choice(chat: Chat) -> None:
    create_programme(chat)
    chat.send(COORD, "program new")
    for answer in ["Leadership 2030", *PROGRAMME_ANSWERS[1:]]:
        chat.send(COORD, answer)
    chat.send(COORD, "program show digital-2027")  # choosing makes it current
    assert "**Digital 2027**" in chat.send(COORD, "status")[0]
    assert "Leadership 2030" in chat.send(COORD, "status --program leadership-2030")[0]
    listing = chat.send(COORD, "program list")[0]
    assert "Digital 2027" in listing and "Leadership 2030" in listing


def test_program_edit_validates_each_field(chat: Chat) -> None:
    create_programme(chat)
    assert "every 3 weeks" in chat.send(COORD, "program edit cadence 3w")[0]
    assert "never below" not in chat.send(COORD, "program edit anonymity-threshold 2")[0]
    assert "out of range" in chat.send(COORD, "program edit anonymity-threshold 2")[0]
    assert "is now 6" in chat.send(COORD, "program edit anonymity-threshold 6")[0]
    assert "end (2030-01-01) before it starts" in chat.send(COORD, "program edit ends 2030-01-01")[0]
    assert "not a field" in chat.send(COORD, "program edit colour blue")[0]
    assert "Digital Reloaded" in chat.send(COORD, 'program edit name "Digital Reloaded"')[0]
    assert "every 3 weeks" in chat.send(COORD, "program show")[0]


def test_join_as_a_volunteer_asks_for_consent(chat: Chat) -> None:
    assert "no programme open" in chat.send(OTHER, "join")[0]
    create_programme(chat)
    replies = chat.send(OTHER, "join")
    assert "How would you like to take part" in replies[0]
    replies = chat.press(OTHER, "As a mentee")
    assert "You asked to join **Digital 2027**" in replies[0]
    chat.press(OTHER, "Yes, I'm in")
    assert "already part of" in chat.send(OTHER, "mentoring join as mentor")[0]  # inside the intake


def test_the_same_event_delivered_twice_has_one_effect(chat: Chat) -> None:
    create_programme(chat)
    first = chat.send(COORD, f"invite {JUNIOR} as mentor", event_id="slack-retry-1")
    again = chat.send(COORD, f"invite {JUNIOR} as mentor", event_id="slack-retry-1")
    assert len(first) == 1 and again == []
    assert len([m for m in chat.received(JUNIOR) if m.choices]) == 1
    assert len(set(chat.deliverer.keys)) == len(chat.deliverer.keys)


def test_unknown_and_incomplete_commands_get_a_one_line_correction(chat: Chat) -> None:
    assert chat.send(JUNIOR, "hlep") == ["I don't know `hlep`. Did you mean `help`? Type `help` for the list."]
    assert "needs one more word" in chat.send(JUNIOR, "program")[0]
    assert "`program frobnicate` is not a command" in chat.send(JUNIOR, "program frobnicate")[0]
    assert "quote is not closed" in chat.send(COORD, 'program edit name "Digital')[0]
    assert "don't have a mentoring partner yet" in chat.send(JUNIOR, "next")[0]


def test_help_explains_every_verb(chat: Chat) -> None:
    for verb in chat.runtime.engine.registry.verbs.values():
        reply = chat.send(COORD, f"help {verb.name}")[0]
        assert verb.usage in reply, verb.name
    assert "For coordinators" not in chat.send(JUNIOR, "help")[0]
    assert "For coordinators" in chat.send(COORD, "help")[0]


def test_my_data_lists_what_is_stored_and_attaches_it(chat: Chat) -> None:
    create_programme(chat)
    chat.send(COORD, f"invite {JUNIOR} as mentor")
    reply = chat.send(JUNIOR, "my-data")[0]
    assert "Sam Lee" in reply and "Digital 2027 (mentor, invited)" in reply
    attachment = chat.last[JUNIOR][0].attachments[0]
    import base64
    import json

    record = json.loads(base64.b64decode(attachment.content_b64))
    assert record["person"]["email"] == JUNIOR
    assert record["programmes"][0]["role"] == "mentor"


def test_text_people_type_is_shown_as_typed_not_as_markup(chat: Chat) -> None:
    from bot.markup import spans

    create_programme(chat, ["<!channel> **Digital**", *PROGRAMME_ANSWERS[1:]])
    created = chat.received(COORD)[-1]
    bold = [s.text for s in spans(created.text) if s.kind == "bold"]
    assert bold[0] == "<!channel> **Digital**"  # the name, whole and literal, inside the product's own bold
