"""``rmbot tenant purge``: delete everything a tenant has, in one transaction, and nothing of any other tenant.

What belongs to a tenant is found from the tables themselves: its ``tenant`` row, every row that refers to it
by a foreign key, every row that refers to those, and so on (people, programmes, participants, pairs,
sessions, feedback, released figures, conversation states, the inbox's handled events by their tenant key,
outbox messages, scheduled jobs, the audit log, the platform adapters' own rows), so a table added later is
covered without being named here. Rows that name the tenant without a foreign key are listed in
:func:`_keyed`: the inbox (platform and tenant key), coordinator grants (the tenant key), the Teams records
(the tenant key), Slack's installations and bots (the team id, or the enterprise id of an org-wide install)
and Slack's uninstall mark. Self-references (a person's manager, the programme a programme was cloned from)
are cleared first, so the deletes never trip over them.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

from sqlalchemy import Column, ColumnElement, Select, Table, and_, delete, or_, select, update
from sqlalchemy.engine import Engine
from sqlmodel import SQLModel

from bot.model import Platform
from bot.tenancy import tenant_key
from storage.slack_installations import slack_bots, slack_installations
from storage.slack_workspaces import SlackUninstallRow
from storage.sql import table
from storage.tables import CoordinatorGrantRow, InboxEventRow, OutboxMessageRow, TenantRow
from storage.teams_records import PLATFORM as TEAMS
from storage.teams_references import TeamsAccountRow, TeamsConversationRow, TeamsSendRow

ROOT = "tenant"
BATCH = 500
"""Ids per statement where ids must be listed (clearing self-references)."""


def _references(tables: list[Table]) -> dict[str, list[tuple[Column[Any], str]]]:
    """Table name -> its foreign-key columns, each with the table it refers to (by ``id``)."""
    found: dict[str, list[tuple[Column[Any], str]]] = {}
    for each in tables:
        for key in each.foreign_keys:
            if key.column.name == "id":
                found.setdefault(each.name, []).append((key.parent, key.column.table.name))
    return found


def _doomed(tables: list[Table], tenant_id: int) -> dict[str, Select[Any]]:
    """Table name -> a query of the ids of its rows that belong to the tenant (tables with an ``id``). Queries, not
    lists: a large tenant's ids would exceed the parameters a statement may bind."""
    references = _references(tables)
    root = table(TenantRow)
    doomed: dict[str, Select[Any]] = {ROOT: select(root.c.id).where(root.c.id == tenant_id)}
    for each in tables:  # sorted: every table after the tables it refers to
        if each.name == ROOT or "id" not in each.c:
            continue
        conditions = [fk.in_(doomed[parent]) for fk, parent in references.get(each.name, []) if parent in doomed]
        if conditions:
            doomed[each.name] = select(each.c.id).where(or_(*conditions))
    return doomed


def _keyed(tenant: TenantRow) -> list[tuple[Table, Any]]:
    """Rows that name the tenant without a foreign key: (table, condition)."""
    key = tenant.external_id
    inbox, grants = table(InboxEventRow), table(CoordinatorGrantRow)
    found: list[tuple[Table, Any]] = [
        (inbox, and_(inbox.c.platform == tenant.platform, inbox.c.tenant_key == key)),
        (grants, grants.c.tenant_key == tenant_key(tenant.platform, key)),
    ]
    if tenant.platform == Platform.SLACK.value:
        for rows in (slack_bots, slack_installations):
            org_wide = and_(rows.c.enterprise_id == key, rows.c.is_enterprise_install.is_(True))
            found.append((rows, or_(rows.c.team_id == key, org_wide)))
        marks = table(SlackUninstallRow)
        found.append((marks, marks.c.tenant_key == key))
    if tenant.platform == TEAMS:
        for model in (TeamsConversationRow, TeamsAccountRow):
            rows = table(model)
            found.append((rows, rows.c.tenant_key == key))
        sends, outbox = table(TeamsSendRow), table(OutboxMessageRow)
        found.append((sends, sends.c.outbox_id.in_(select(outbox.c.id).where(outbox.c.tenant_id == tenant.id))))
    return found


def purge_tenant(engine: Engine, tenant_id: int) -> dict[str, int]:
    """Delete the tenant and everything that belongs to it; returns rows deleted per table (empty when there is no
    such tenant). One transaction: all of it, or nothing."""
    deleted: Counter[str] = Counter()
    with engine.begin() as connection:
        tenant_row = connection.execute(select(table(TenantRow)).where(table(TenantRow).c.id == tenant_id)).first()
        if tenant_row is None:
            return {}
        tenant = TenantRow(**tenant_row._mapping)
        tables = [t for t in SQLModel.metadata.sorted_tables if t.name != "alembic_version"]
        doomed = _doomed(tables, tenant_id)
        references = _references(tables)
        for each in tables:  # a person's manager, a programme's source: cleared before anything is deleted
            for fk, parent in references.get(each.name, []):
                if parent == each.name and each.name in doomed and fk.nullable:
                    ids = [row_id for (row_id,) in connection.execute(doomed[each.name]).all()]
                    for start in range(0, len(ids), BATCH):
                        chunk = ids[start : start + BATCH]
                        connection.execute(update(each).where(each.c.id.in_(chunk)).values({fk.name: None}))
        for rows, condition in _keyed(tenant):
            deleted[rows.name] += connection.execute(delete(rows).where(condition)).rowcount
        for each in reversed(tables):  # children before parents
            conditions: list[ColumnElement[bool]] = [
                fk.in_(doomed[parent]) for fk, parent in references.get(each.name, []) if parent in doomed
            ]
            if each.name == ROOT:
                conditions.append(each.c.id == tenant_id)
            if conditions:
                deleted[each.name] += connection.execute(delete(each).where(or_(*conditions))).rowcount
    return {name: count for name, count in sorted(deleted.items()) if count}
