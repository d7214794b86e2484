"""SQLModel tables. Column names follow the domain records in ``bot.domain`` so rows map across directly.

Importing this module registers every table on ``SQLModel.metadata``; the tables live in the modules by domain
imported below, the column types and field helpers they share in ``storage.columns``. Every change to a table
needs an Alembic revision in ``storage/migrations/versions``.
"""

from __future__ import annotations

from storage.columns import UTCDateTime, _Empty, _ts, empty_dict, empty_list
from storage.match_tables import MatchPairRow, MatchRuleRow, MatchRunRow
from storage.people_tables import (
    ConversationStateRow,
    CoordinatorGrantRow,
    PersonIdentityRow,
    PersonRow,
    TenantCoordinatorRow,
    TenantRow,
)
from storage.programme_tables import ParticipantRow, ProgrammeCoordinatorRow, ProgrammeRow, ResourceRow
from storage.queue_tables import (
    LANES,
    UNSETTLED,
    CalendarRequestRow,
    InboxEventRow,
    NudgeCountRow,
    OutboxMessageRow,
    ScheduledJobRow,
)
from storage.report_tables import AuditRow, FigureContributorRow, FigureReleaseRow, ReleasedCellRow
from storage.session_tables import FeedbackRow, SessionEventRow, SessionRow

__all__ = [
    "LANES",
    "UNSETTLED",
    "AuditRow",
    "CalendarRequestRow",
    "ConversationStateRow",
    "CoordinatorGrantRow",
    "FeedbackRow",
    "FigureContributorRow",
    "FigureReleaseRow",
    "InboxEventRow",
    "MatchPairRow",
    "MatchRuleRow",
    "MatchRunRow",
    "NudgeCountRow",
    "OutboxMessageRow",
    "ParticipantRow",
    "PersonIdentityRow",
    "PersonRow",
    "ProgrammeCoordinatorRow",
    "ProgrammeRow",
    "ReleasedCellRow",
    "ResourceRow",
    "ScheduledJobRow",
    "SessionEventRow",
    "SessionRow",
    "TenantCoordinatorRow",
    "TenantRow",
    "UTCDateTime",
    "_Empty",
    "_ts",
    "empty_dict",
    "empty_list",
]
