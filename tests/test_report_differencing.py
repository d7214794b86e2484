"""Figures that cannot be differenced: released at fixed points over closed sets of answers, and no two released
figures (of one release or of two) differ by the answers of fewer than k people."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import timedelta

from hypothesis import example, given, settings
from hypothesis import strategies as st

from bot.domain import NewParticipant, ParticipantStatus, Role
from bot.reports.aggregate import Cell, StoredCell
from bot.reports.disclosure import Breakdown, Family, disclose
from bot.sessions.model import NewFeedback
from bot.wording import unescape
from chat import Chat
from test_sessions import COORD, MENTEE, pair_up

DEPARTMENTS, TOPICS, GENDERS = ("Eng", "Sales", "Ops"), ("t0", "t1", ""), ("woman", "man", "non_binary", "-")


@dataclass
class Programme:
    """People answering, joining, leaving and being forgotten (their ratings stay, under a new pseudonym), and the
    releases taken: the truth (who gave which answer) kept apart from what disclosure control is given."""

    k: int
    role: dict[int, str]
    department: dict[int, str]
    gender: dict[int, str]
    pulses: list[tuple[str, int, float, str]] = field(default_factory=list)
    token: dict[int, str] = field(default_factory=dict)
    taking: set[int] = field(default_factory=set)
    owner: dict[str, int] = field(default_factory=dict)
    """answer id -> the person who gave it (the truth the test checks against)."""
    released: list[list[StoredCell]] = field(default_factory=list)

    def pseudonym(self, person: int) -> str:
        return self.token.setdefault(person, f"p{person}-{len(self.token)}")

    def families(self) -> list[Family]:
        cells: dict[str, dict[str, tuple[str, float]]] = {}

        def add(names: list[str], answer: str, person: int, value: float) -> None:
            self.owner[answer] = person
            for name in names:
                cells.setdefault(name, {})[answer] = (self.pseudonym(person), value)

        for answer, person, value, topic in self.pulses:
            names = ["pulse", f"pulse:role:{self.role[person]}", f"pulse:department:{self.department[person]}"]
            add(names + ([f"pulse:topic:{topic}"] if topic else []), answer, person, value)
        for person in sorted(self.taking):
            add(["gender", f"gender:{self.gender[person]}"], f"g:{self.pseudonym(person)}", person, 1.0)

        def breakdown(name: str, whole: bool = False) -> Breakdown:
            groups = {c: Cell(c, a) for c, a in sorted(cells.items()) if c.startswith(name + ":")}
            return Breakdown(name, groups, whole)

        pulse = Cell("pulse", cells.get("pulse", {}))
        parts = [breakdown("pulse:role", True), breakdown("pulse:department"), breakdown("pulse:topic")]
        return [Family(pulse, parts), Family(Cell("gender", cells.get("gender", {})), [breakdown("gender")])]

    def release(self) -> None:
        earlier = [cell for cells in self.released for cell in cells]
        self.released.append(disclose(self.families(), earlier, self.k))

    def truth(self, cell: StoredCell) -> dict[int, frozenset[str]]:
        answers: dict[int, set[str]] = {}
        for ids in cell.basis.values():
            for answer in ids:
                answers.setdefault(self.owner[answer], set()).add(answer)
        return {person: frozenset(ids) for person, ids in answers.items()}


def measure(cell: StoredCell) -> str:
    return cell.name.split(":")[0].split("#")[0]


operations = st.lists(
    st.one_of(
        st.tuples(st.just("answer"), st.integers(0, 17), st.integers(1, 5), st.sampled_from(TOPICS)),
        st.tuples(st.just("forget"), st.integers(0, 17), st.just(0), st.just("")),
        st.tuples(st.just("join"), st.integers(0, 17), st.just(0), st.just("")),
        st.tuples(st.just("leave"), st.integers(0, 17), st.just(0), st.just("")),
        st.tuples(st.just("release"), st.just(0), st.just(0), st.just("")),
    ),
    max_size=70,
)
people = st.tuples(
    st.lists(st.sampled_from(("mentor", "mentee")), min_size=18, max_size=18),
    st.lists(st.sampled_from(DEPARTMENTS), min_size=18, max_size=18),
    st.lists(st.sampled_from(GENDERS), min_size=18, max_size=18),
)


@given(operations, people, st.integers(3, 6))
@example(  # the report of issue 16: mentors 5.0 (6) and Engineering 4.6 (7) overlapped in 6 people
    ops=[*[("answer", p, 5, "") for p in range(6)], ("answer", 6, 2, ""), *[("answer", p, 4, "") for p in range(7, 12)]]
    + [("release", 0, 0, "")],
    attributes=(
        ["mentor"] * 6 + ["mentee"] * 12,
        ["Eng"] * 7 + ["Sales"] * 11,
        ["-"] * 18,
    ),
    k=5,
)
@example(  # two reports: the total held at 11 while a breakdown appeared covering 12
    ops=[*[("answer", p, 4 + p % 2, "") for p in range(11)], ("release", 0, 0, ""), ("answer", 11, 1, "")]
    + [("release", 0, 0, "")],
    attributes=(["mentor"] * 18, ["Eng"] * 7 + ["Sales"] * 11, ["-"] * 18),
    k=5,
)
@example(  # a label: one person joins with an answer nobody else gave
    ops=[*[("join", p, 0, "") for p in range(11)], ("release", 0, 0, ""), ("join", 11, 0, ""), ("release", 0, 0, "")],
    attributes=(["mentor"] * 18, ["Eng"] * 18, ["woman"] * 6 + ["man"] * 5 + ["non_binary"] * 7),
    k=5,
)
@settings(max_examples=300, deadline=None)
def test_no_two_released_cells_differ_by_fewer_than_k_people(ops, attributes, k) -> None:  # type: ignore[no-untyped-def]
    """People answer, join, leave and are forgotten, and releases are taken, in any order: every released cell
    rests on at least k people, and any two released cells of one measure (of the same release or of an earlier
    one) have the same people with the same answers, or at least k people whose answers differ. When nobody in
    both gave different answers to them (one answer per person, as a count of self-identification), those are
    the symmetric difference of their respondents: empty, or at least k people."""
    roles, departments, genders = attributes
    run = Programme(k, dict(enumerate(roles)), dict(enumerate(departments)), dict(enumerate(genders)))
    forgotten: set[int] = set()
    for kind, person, value, topic in ops:
        if kind in ("answer", "join") and person in forgotten:
            continue  # someone forgotten is gone for good; their ratings stay, under a new pseudonym
        if kind == "answer":
            run.pulses.append((f"f{len(run.pulses)}", person, float(value), topic))
        elif kind == "forget":
            run.token.pop(person, None)
            run.taking.discard(person)
            forgotten.add(person)
        elif kind == "join":
            run.taking.add(person)
        elif kind == "leave":
            run.taking.discard(person)
        else:
            run.release()
    run.release()
    cells = [(n, cell) for n, release in enumerate(run.released) for cell in release]
    for n, cell in cells:
        truth = run.truth(cell)
        assert len(truth) == cell.figure.respondents >= k, cell.name
        for m, other in cells:
            if (m, other.name) >= (n, cell.name) or measure(other) != measure(cell):
                continue
            theirs = run.truth(other)
            differ = {p for p in truth.keys() | theirs.keys() if truth.get(p) != theirs.get(p)}
            assert len(differ) == 0 or len(differ) >= k, (cell.name, n, other.name, m, sorted(differ))
            if all(truth[p] == theirs[p] for p in truth.keys() & theirs.keys()):  # nobody answered again
                apart = truth.keys() ^ theirs.keys()
                assert len(apart) == 0 or len(apart) >= k, (cell.name, n, other.name, m, sorted(apart))
    shown_labels = {c.name for _, c in cells if c.name.startswith("gender:")}
    assert all(len(run.truth(c)) >= k for _, c in cells if c.name in shown_labels)


def add_pulse(chat: Chat, programme: int, person_id: int, rating: int, n: int) -> None:
    with chat.store.unit_of_work() as uow:
        uow.feedback.add(
            NewFeedback(
                programme_id=programme,
                person_id=person_id,
                role="mentor",
                kind="pulse",
                subject=f"session:test-{n}",
                answers={"session": str(rating)},
            )
        )


def test_figures_move_only_at_releases_and_only_once_k_people_answered_since(chat: Chat) -> None:
    """The programme runs from 2 March to 31 May 2030: releases on 2 March (baseline), 1 April, 23 April (a week
    after the midpoint survey), 1 May, 1 June (final)..."""
    pair_up(chat)
    with chat.store.unit_of_work() as uow:
        programme = uow.programmes.in_tenant(1)[0].id
        people = [p.id for p in uow.people.in_tenant(1)][:12]
    for n, person in enumerate(people[:5]):
        add_pulse(chat, programme, person, 4, n)
    status = unescape(chat.send(COORD, "status")[0])
    assert "Pulse: not released yet: 5 people have answered, to be released on 2030-03-02" in status
    assert "the next release is on **2030-03-02**" in status
    chat.advance(timedelta(days=1))  # 2 March, 12:00: the baseline release took the five answers
    assert "4.0 from 5 people (released 2030-03-02" in unescape(chat.send(COORD, "report")[0])
    add_pulse(chat, programme, people[5], 1, 5)  # one person's answer: subtracting would reveal it
    for command in ("report", "status"):  # between releases, nothing moves
        assert "4.0" in unescape(chat.send(COORD, command)[0]) and "3.5" not in unescape(chat.send(COORD, command)[0])
    chat.advance(timedelta(days=31))  # 2 April: the release of 1 April could not move the pulse
    status = unescape(chat.send(COORD, "status")[0])
    assert (
        "4.0/5 from 5 people (released 2030-03-02; it moves at a release once 5 people have answered since (1 so far)"
        in status
    )
    assert "6 people" not in status and "the next release is on **2030-04-23**" in status
    for n, person in enumerate(people[6:10], start=6):  # five people have now answered since: it moves
        add_pulse(chat, programme, person, 2, n)
    assert "4.0 from 5 people" in unescape(chat.send(COORD, "report")[0])  # not before the release
    chat.advance(timedelta(days=21))
    report = unescape(chat.send(COORD, "report")[0])
    assert "2.9 from 10 people (released 2030-04-23;" in report  # (5 * 4 + 1 + 4 * 2) / 10


def test_a_release_holds_the_answers_given_before_its_day_not_those_given_before_someone_looked(chat: Chat) -> None:
    pair_up(chat)
    chat.send(COORD, "status")  # the releases are scheduled from now on
    with chat.store.unit_of_work() as uow:
        programme = uow.programmes.in_tenant(1)[0].id
        people = [p.id for p in uow.people.in_tenant(1)][:10]
    for n, person in enumerate(people[:5]):
        add_pulse(chat, programme, person, 5, n)
    chat.advance(timedelta(days=1))  # the release job runs on 2 March, 00:00
    for n, person in enumerate(people[5:], start=5):
        add_pulse(chat, programme, person, 1, n)
    assert "5.0 from 5 people (released 2030-03-02" in unescape(chat.send(COORD, "report")[0])


def test_a_department_with_a_long_name_is_still_reported(chat: Chat) -> None:
    """Cells are named after departments; a long name still fits the store of released figures."""
    pair_up(chat)
    with chat.store.unit_of_work() as uow:
        programme = uow.programmes.in_tenant(1)[0].id
        people = uow.people.in_tenant(1)[:5]
        for person in people:
            person.department = "Global Digital Transformation and Customer Experience Excellence Office"
            uow.people.save(person)
    for n, person in enumerate(people):
        add_pulse(chat, programme, person.id, 4, n)
    chat.advance(timedelta(days=1))
    text = unescape(chat.send(COORD, "report")[0])
    assert "Customer Experience Excellence Office 4.0" in text


# -- the attacks of issue 16 ------------------------------------------------------------------------------


def people_of(chat: Chat, department: str, count: int) -> list[int]:
    with chat.store.unit_of_work() as uow:
        found = [p.id for p in uow.people.in_tenant(1) if p.department == department][:count]
    assert len(found) == count
    return found


def pulse(chat: Chat, person_id: int, rating: int, role: str = "mentor") -> None:
    with chat.store.unit_of_work() as uow:
        uow.feedback.add(
            NewFeedback(
                programme_id=uow.programmes.in_tenant(1)[0].id,
                person_id=person_id,
                role=role,
                kind="pulse",
                subject=f"session:attack-{person_id}",
                answers={"session": str(rating)},
            )
        )


def test_two_cells_of_one_report_that_differ_by_one_person_are_never_both_shown(chat: Chat) -> None:
    """ "mentors 5.0 (6 people)" and "Engineering 4.6 (7 people)" overlapped in 6 people: 7 x 4.6 - 6 x 5.0
    gave the seventh person's answer."""
    pair_up(chat)
    engineers, sales = people_of(chat, "Engineering", 7), people_of(chat, "Sales", 5)
    for person in engineers[:6]:
        pulse(chat, person, 5, "mentor")
    pulse(chat, engineers[6], 2, "mentee")
    for person in sales:
        pulse(chat, person, 4, "mentee")
    chat.advance(timedelta(days=1))
    text = unescape(chat.send(COORD, "report")[0])
    assert "from 12 people" in text
    assert not ("mentors: 5.0" in text and "Engineering 4.6" in text)
    assert not ("mentees: 3.7" in text and "Sales 4.0" in text)  # 6 x 3.67 - 5 x 4.0: the same person


def test_a_breakdown_that_covers_one_more_person_than_the_total_is_not_shown_beside_it(chat: Chat) -> None:
    """The total stayed "4.4 from 11" while a department breakdown appeared covering 12."""
    pair_up(chat)
    engineers, sales = people_of(chat, "Engineering", 7), people_of(chat, "Sales", 5)
    for person in engineers:
        pulse(chat, person, 4)
    for person in sales[:4]:
        pulse(chat, person, 5)
    chat.advance(timedelta(days=1))
    assert "4.4 from 11 people" in unescape(chat.send(COORD, "report")[0])
    pulse(chat, sales[4], 1)
    chat.advance(timedelta(days=31))
    text = unescape(chat.send(COORD, "report")[0])
    if "from 11 people" in text:
        assert not re.search(r"(Sales|Engineering) \d\.\d", text), text


def test_a_withheld_self_identification_is_never_named(chat: Chat) -> None:
    """A withheld diversity group still showed its label ("non_binary fewer than 5")."""
    pair_up(chat)
    with chat.store.unit_of_work() as uow:
        programme = uow.programmes.in_tenant(1)[0].id
        taken = {p.person_id for p in uow.participants.in_programme(programme)}
        free = [p.id for p in uow.people.in_tenant(1) if p.id not in taken]

    def join(person_id: int, gender: str) -> None:
        with chat.store.unit_of_work() as uow:
            uow.participants.add(
                NewParticipant(
                    programme_id=programme,
                    person_id=person_id,
                    role=Role.MENTEE,
                    status=ParticipantStatus.ACTIVE,
                    intake={"gender": gender},
                    intake_completed_at=chat.clock.now(),
                )
            )

    with chat.store.unit_of_work() as uow:
        for participant in uow.participants.in_programme(programme):  # the pair: both said
            participant.intake = {**participant.intake, "gender": "woman"}
            uow.participants.save(participant)
    for person in free[:4]:
        join(person, "woman")
    for person in free[4:9]:
        join(person, "man")
    chat.advance(timedelta(days=1))
    first = unescape(chat.send(COORD, "report")[0])
    assert "woman 6" in first and "man 5" in first, first
    join(free[9], "non_binary")
    chat.advance(timedelta(days=31))
    text = unescape(chat.send(COORD, "report")[0])
    assert "non_binary" not in text and "non-binary" not in text.lower()


def test_forget_me_erases_the_pseudonyms_behind_released_figures_and_they_stay_true(chat: Chat) -> None:
    """Released figures keep what they rest on, under pseudonyms; forget-me erases the person's pseudonyms, so
    nothing stored leads from a release to them, while their kept rating still counts as the same answer."""
    from sqlalchemy import text

    pair_up(chat)
    mentee = chat.person(MENTEE).id
    for person in [mentee, *people_of(chat, "Sales", 4)]:
        pulse(chat, person, 4)
    chat.advance(timedelta(days=1))
    assert "4.0 from 5 people (released 2030-03-02" in unescape(chat.send(COORD, "report")[0])

    def pseudonyms() -> int:
        with chat.store.engine.connect() as connection:
            query = text("SELECT count(*) FROM figure_contributor WHERE person_id = :id")
            return int(connection.execute(query, {"id": mentee}).scalar_one())

    assert pseudonyms() == 3  # answers, and each self-identification question of someone taking part
    chat.send(MENTEE, "forget-me")
    chat.press(MENTEE, "Yes, delete my data")
    assert pseudonyms() == 0
    chat.advance(timedelta(days=31))
    report = unescape(chat.send(COORD, "report")[0])
    assert "4.0 from 5 people (released 2030-04-01" in report  # the same answers: nothing moved, nobody new
    assert pseudonyms() == 0
