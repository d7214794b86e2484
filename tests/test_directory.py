"""Directory import from an HR CSV: validation a coordinator would see, and what lands in the store."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select
from typer.testing import CliRunner

from adapters.cli.directory import app
from bot.directory import DirectoryRow, parse_directory
from bot.services.directory import ImportSummary
from directory_support import existing_managers, import_directory
from storage.store import SqlStore
from storage.tables import PersonIdentityRow, PersonRow

ROOT = Path(__file__).resolve().parent.parent
SAMPLE = ROOT / "prompts" / "sample" / "organisation.csv"
HEADER = (
    "email,name,title,seniority,department,time_zone,working_hours,manager_email,gender,slack_user_id,teams_user_id"
)


def csv(*lines: str, header: str = HEADER) -> str:
    return "\n".join((header, *lines)) + "\n"


def tenant_id(store: SqlStore, key: str = "console") -> int:
    with store.unit_of_work() as uow:
        return uow.tenants.ensure(key, key).id


def people(store: SqlStore, tenant: int) -> dict[str, PersonRow]:
    with store.unit_of_work() as uow:
        rows = uow.session.execute(select(PersonRow).where(PersonRow.tenant_id == tenant)).scalars().all()
        return {row.email: row for row in rows}


def identities(store: SqlStore, tenant: int) -> set[tuple[str, str, str]]:
    with store.unit_of_work() as uow:
        rows = uow.session.execute(
            select(PersonIdentityRow, PersonRow.email)
            .join(PersonRow, PersonRow.id == PersonIdentityRow.person_id)
            .where(PersonIdentityRow.tenant_id == tenant)
        ).all()
        return {(email, identity.platform, identity.external_id) for identity, email in rows}


def load(store: SqlStore, tenant: int, text: str) -> ImportSummary:
    parsed = parse_directory(text, existing_managers(store, tenant))
    assert parsed.errors == []
    return import_directory(store, tenant, parsed.rows)


def only_error(text: str, existing: dict[str, str | None] | None = None):
    errors = parse_directory(text, existing or {}).errors
    assert len(errors) == 1, errors
    return errors[0]


# --- the sample organisation -------------------------------------------------------------------


def test_sample_organisation_imports_cleanly(store: SqlStore) -> None:
    tenant = tenant_id(store)
    parsed = parse_directory(SAMPLE.read_text(encoding="utf-8"), {})
    assert parsed.errors == []
    assert len(parsed.rows) == 64

    seen: list[int] = []
    summary = import_directory(store, tenant, parsed.rows, progress=seen.append)

    assert summary == ImportSummary(created=64, updated=0, unchanged=0)
    assert seen and seen[-1] == 64
    everyone = people(store, tenant)
    assert len(everyone) == 64
    by_id = {person.id: person for person in everyone.values()}
    amara = everyone["amara.okafor@example.com"]
    assert (amara.name, amara.title, amara.seniority, amara.department) == (
        "Amara Okafor",
        "Head of People Programmes",
        6,
        "People",
    )
    assert by_id[amara.manager_id].email == "nomvula.dlamini@example.com"
    tops = [person for person in everyone.values() if person.manager_id is None]
    assert [person.email for person in tops] == ["helena.varga@example.com"]
    assert tops[0].seniority == 9
    kavya = everyone["kavya.reddy@example.com"]
    chain = []
    while kavya.manager_id is not None:
        kavya = by_id[kavya.manager_id]
        chain.append(kavya.email)
    assert chain == [
        "priya.nair@example.com",
        "daniel.okonkwo@example.com",
        "rajesh.iyer@example.com",
        "helena.varga@example.com",
    ]
    assert everyone["andres.castillo@example.com"].name == "Andrés Castillo"
    assert amara.created_at is not None and amara.created_at.utcoffset() is not None


def test_sample_has_juniors_and_seniors_in_every_region() -> None:
    rows = parse_directory(SAMPLE.read_text(encoding="utf-8"), {}).rows
    juniors = [row for row in rows if row.seniority <= 3]
    seniors = [row for row in rows if 5 <= row.seniority <= 8]
    assert len(juniors) >= 20 and len(seniors) >= 15
    assert {
        "Europe/London",
        "Europe/Berlin",
        "America/New_York",
        "America/Los_Angeles",
        "Asia/Kolkata",
        "Asia/Singapore",
        "Australia/Sydney",
    } <= {row.time_zone for row in rows}
    assert any(row.gender is None for row in rows) and any(row.gender for row in rows)


# --- each kind of bad row ------------------------------------------------------------------------


def test_missing_required_field_names_the_field() -> None:
    error = only_error(csv("ana@example.com,,Analyst,2"))
    assert (error.line, error.email) == (2, "ana@example.com")
    assert "name is empty" in error.reason
    error = only_error(csv("ana@example.com,Ana,Analyst,"))
    assert "seniority is empty" in error.reason
    error = only_error(csv(",Ana,Analyst,2"))
    assert (error.line, error.email) == (2, "") and "email is empty" in error.reason


def test_missing_required_column_is_one_error_on_the_header() -> None:
    error = only_error("email,name,title\nana@example.com,Ana,Analyst\n")
    assert error.line == 1 and "no seniority column" in error.reason


def test_empty_file_and_header_only() -> None:
    assert "empty" in only_error("").reason
    assert "no people" in only_error("email,name,seniority\n\n").reason


def test_malformed_email() -> None:
    error = only_error(csv("ana@example.com,Ana,,2", "not-an-email,Bo,,2"))
    assert (error.line, error.email) == (3, "not-an-email")
    assert "'not-an-email' is not an email address" in error.reason


def test_duplicate_email_reports_the_later_line_naming_the_first() -> None:
    error = only_error(csv("ana@example.com,Ana,,2", "bo@example.com,Bo,,2", "ANA@example.com ,Ana Again,,3"))
    assert (error.line, error.email) == (4, "ana@example.com")
    assert "already on line 2" in error.reason


def test_unknown_manager() -> None:
    error = only_error(csv("ana@example.com,Ana,,2,,UTC,,ghost@example.com"))
    assert error.line == 2 and "manager ghost@example.com is neither in this file" in error.reason


def test_manager_may_already_be_in_the_directory() -> None:
    parsed = parse_directory(csv("ana@example.com,Ana,,2,,UTC,,Boss@Example.com"), {"boss@example.com": None})
    assert parsed.errors == [] and parsed.rows[0].manager_email == "boss@example.com"


def test_manager_is_the_person_themself() -> None:
    error = only_error(csv("ana@example.com,Ana,,2,,UTC,,ana@example.com"))
    assert error.line == 2 and "the manager is the person themself" in error.reason


def test_cycle_in_the_file_reports_each_row_with_the_chain() -> None:
    parsed = parse_directory(
        csv(
            "a@example.com,A,,5,,UTC,,b@example.com",
            "ok@example.com,Ok,,1,,UTC,,a@example.com",
            "b@example.com,B,,6,,UTC,,a@example.com",
        ),
        {},
    )
    assert [(error.line, error.email) for error in parsed.errors] == [(2, "a@example.com"), (4, "b@example.com")]
    assert parsed.errors[0].reason.endswith("a@example.com -> b@example.com -> a@example.com")
    assert parsed.errors[1].reason.endswith("b@example.com -> a@example.com -> b@example.com")


def test_cycle_through_people_already_in_the_directory() -> None:
    existing = {"boss@example.com": "a@example.com", "a@example.com": None}
    error = only_error(csv("a@example.com,A,,5,,UTC,,boss@example.com"), existing)
    assert error.line == 2 and "a@example.com -> boss@example.com -> a@example.com" in error.reason
    # the file overrides the existing manager, so moving boss under someone else breaks the circle
    assert (
        parse_directory(
            csv("a@example.com,A,,5,,UTC,,boss@example.com", "boss@example.com,Boss,,8,,UTC,,"), existing
        ).errors
        == []
    )


def test_unknown_time_zone_suggests_one() -> None:
    error = only_error(csv("ana@example.com,Ana,,2,,Mars/Base"))
    assert error.reason == "unknown time zone 'Mars/Base' (try Europe/London)"
    assert "try Europe/Berlin" in only_error(csv("ana@example.com,Ana,,2,,Europe/Berlinn")).reason


def test_time_zone_case_is_forgiven() -> None:
    assert parse_directory(csv("ana@example.com,Ana,,2,,europe/london"), {}).rows[0].time_zone == "Europe/London"


@pytest.mark.parametrize(
    "value, words",
    [("senior", "'senior' is not a whole number"), ("2.5", "not a whole number"), ("-1", "seniority -1 is negative")],
)
def test_bad_seniority(value: str, words: str) -> None:
    error = only_error(csv(f"ana@example.com,Ana,,{value}"))
    assert error.line == 2 and words in error.reason


@pytest.mark.parametrize(
    "value, words",
    [
        ("9 to 5", "end before they start"),
        ("nine to five", "not in the form HH:MM-HH:MM"),
        ("25:00-26:00", "not in the form"),
        ("17:00-09:00", "end before they start"),
    ],
)
def test_bad_working_hours(value: str, words: str) -> None:
    error = only_error(csv(f"ana@example.com,Ana,,2,,UTC,{value}"))
    assert error.line == 2 and words in error.reason


def test_duplicate_chat_identity_in_the_file() -> None:
    error = only_error(csv("a@example.com,A,,2,,,,,,U1", "b@example.com,B,,2,,,,,,U1"))
    assert error.line == 3 and "slack user id U1 is already given to a@example.com on line 2" in error.reason


def test_every_problem_is_reported_in_line_order() -> None:
    parsed = parse_directory(csv("ok@example.com,Ok,,3", "bad,Bad,,x,,Nowhere/City", "ok2@example.com,,,-2"), {})
    assert [error.line for error in parsed.errors] == [3, 3, 3, 4, 4]
    assert [row.email for row in parsed.rows] == ["ok@example.com"]


def test_line_numbers_are_physical_with_blank_lines_and_multiline_cells() -> None:
    text = csv("", 'a@example.com,A,"Head of\nThings",5', "", "bad,B,,2")
    error = only_error(text)
    assert error.line == 6


def test_bom_blank_lines_whitespace_defaults_and_unknown_columns() -> None:
    text = "\ufeff Email , Name ,Seniority,Favourite Colour\r\n\r\n  Ana@Example.COM , Ana Silva , 2 ,teal\r\n\r\n"
    parsed = parse_directory(text, {})
    assert parsed.errors == []
    assert parsed.rows == [DirectoryRow(email="ana@example.com", name="Ana Silva", seniority=2, line=3)]
    row = parsed.rows[0]
    assert (row.time_zone, row.working_hours, row.gender, row.manager_email) == ("UTC", "09:00-17:00", None, None)


def test_semicolon_separated_export_is_read() -> None:
    parsed = parse_directory("email;name;seniority;title\nana@example.com;Ana;2;Analyst, Data\n", {})
    assert parsed.errors == [] and parsed.rows[0].title == "Analyst, Data"


def test_working_hours_are_normalised() -> None:
    assert parse_directory(csv("ana@example.com,Ana,,2,,UTC,9:00 - 17:30"), {}).rows[0].working_hours == "09:00-17:30"


# --- writing -------------------------------------------------------------------------------------


def test_a_file_with_any_bad_row_imports_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "people.csv"
    path.write_text(csv("ana@example.com,Ana,,2", "bo@example.com,Bo,,2,,Mars/Base"), encoding="utf-8")
    database = tmp_path / "cli.db"
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{database}")

    result = CliRunner().invoke(app, [str(path)])

    assert result.exit_code == 1
    assert "line 3: bo@example.com: unknown time zone 'Mars/Base' (try Europe/London)" in result.stderr
    assert "nothing was imported" in result.stderr
    opened = SqlStore.open(f"sqlite:///{database}")
    try:
        with opened.unit_of_work() as uow:
            assert uow.session.execute(select(func.count()).select_from(PersonRow)).scalar_one() == 0
    finally:
        opened.close()


def test_cli_imports_and_summarises(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    first = CliRunner().invoke(app, [str(SAMPLE), "--tenant", "console"])
    again = CliRunner().invoke(app, [str(SAMPLE)])
    assert first.exit_code == 0, first.output
    assert "64 new, 0 updated, 0 unchanged" in first.stdout
    assert again.exit_code == 0 and "0 new, 0 updated, 64 unchanged" in again.stdout


def test_cli_missing_file_is_one_line_exit_2(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DATABASE_URL", f"sqlite:///{tmp_path / 'cli.db'}")
    result = CliRunner().invoke(app, [str(tmp_path / "missing.csv")])
    assert result.exit_code == 2
    assert result.stderr.strip().count("\n") == 0 and "cannot read" in result.stderr

    latin1 = tmp_path / "latin1.csv"
    latin1.write_bytes("email,name,seniority\nandres@example.com,Andr\u00e9s,2\n".encode("latin-1"))
    result = CliRunner().invoke(app, [str(latin1)])
    assert result.exit_code == 2 and "is not UTF-8 text" in result.stderr


def test_reimport_updates_in_place(store: SqlStore) -> None:
    tenant = tenant_id(store)
    load(
        store,
        tenant,
        csv(
            "boss@example.com,Boss,CEO,9",
            "vp@example.com,Vi,VP,7,,,,boss@example.com",
            "ana@example.com,Ana,Analyst,2,,,,vp@example.com",
        ),
    )
    before = people(store, tenant)

    summary = load(
        store,
        tenant,
        csv(
            "boss@example.com,Boss,CEO,9",
            "vp@example.com,Vi,VP,7,,,,boss@example.com",
            "ana@example.com,Ana,Senior Analyst,3,,,,boss@example.com",
            "new@example.com,New,Intern,1,,,,ana@example.com",
        ),
    )

    assert summary == ImportSummary(created=1, updated=1, unchanged=2)
    after = people(store, tenant)
    assert len(after) == 4
    ana = after["ana@example.com"]
    assert ana.id == before["ana@example.com"].id
    assert (ana.title, ana.seniority, ana.manager_id) == ("Senior Analyst", 3, after["boss@example.com"].id)
    assert after["new@example.com"].manager_id == ana.id
    assert ana.updated_at >= before["ana@example.com"].updated_at


def test_other_tenants_are_untouched(store: SqlStore) -> None:
    console, other = tenant_id(store), tenant_id(store, "slack")
    load(store, console, csv("ana@example.com,Ana,,2"))
    load(store, other, csv("ana@example.com,Ana Elsewhere,,4"))
    assert people(store, console)["ana@example.com"].name == "Ana"
    assert people(store, other)["ana@example.com"].seniority == 4


def test_identities_are_linked_and_moved(store: SqlStore) -> None:
    tenant = tenant_id(store)
    load(store, tenant, csv("a@example.com,A,,2,,,,,,U1,t-1", "b@example.com,B,,5,,,,,,U2"))
    assert identities(store, tenant) == {
        ("a@example.com", "slack", "U1"),
        ("a@example.com", "teams", "t-1"),
        ("b@example.com", "slack", "U2"),
    }

    # A changes Slack account; B takes A's old one; a blank Teams id leaves A's link alone.
    summary = load(store, tenant, csv("a@example.com,A,,2,,,,,,U3", "b@example.com,B,,5,,,,,,U1"))

    assert summary == ImportSummary(created=0, updated=2, unchanged=0)
    assert identities(store, tenant) == {
        ("a@example.com", "slack", "U3"),
        ("a@example.com", "teams", "t-1"),
        ("b@example.com", "slack", "U1"),
    }


def test_existing_managers_feeds_the_parser(store: SqlStore) -> None:
    tenant = tenant_id(store)
    load(store, tenant, csv("boss@example.com,Boss,,9", "ana@example.com,Ana,,2,,,,boss@example.com"))
    assert existing_managers(store, tenant) == {"boss@example.com": None, "ana@example.com": "boss@example.com"}
    # a later file may name a manager imported earlier
    assert load(store, tenant, csv("new@example.com,New,,1,,,,ana@example.com")).created == 1


def test_rows_naming_a_manager_nobody_has_are_refused_before_anything_is_written(store: SqlStore) -> None:
    tenant = tenant_id(store)
    load(store, tenant, csv("boss@example.com,Boss,CEO,9"))
    rows = [DirectoryRow(email="new@example.com", name="New", seniority=1, manager_email="ghost@example.com")]
    with pytest.raises(LookupError, match="ghost@example.com"):
        import_directory(store, tenant, rows)
    after = people(store, tenant)
    assert set(after) == {"boss@example.com"} and after["boss@example.com"].left_at is None
