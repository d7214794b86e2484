"""The columns of the directory: the CSV import's header, and the rows every directory sync source gives (no
imports, so a command line that only names them loads nothing else)."""

REQUIRED_COLUMNS = ("email", "name", "seniority")
OPTIONAL_COLUMNS = (
    "title",
    "department",
    "division",
    "location",
    "time_zone",
    "working_hours",
    "manager_email",
    "gender",
    "slack_user_id",
    "teams_user_id",
)

__all__ = ["OPTIONAL_COLUMNS", "REQUIRED_COLUMNS"]
