"""The directory source protocol and the registry of sources by name.

A source lists everyone in the organisation as rows in the CSV import's columns; the rows then go
through the same validation, import and leaver handling as ``rmbot directory import``.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from importlib import import_module
from typing import TYPE_CHECKING, Protocol, runtime_checkable

from bot.directory_columns import OPTIONAL_COLUMNS, REQUIRED_COLUMNS

if TYPE_CHECKING:
    from adapters.settings import Settings

ROW_COLUMNS = REQUIRED_COLUMNS + OPTIONAL_COLUMNS
"""The columns every row of a source carries (the CSV import's columns); missing values are ``""``."""


class SourceError(Exception):
    """The listing could not be completed; ``str(error)`` is a one-line message for the operator."""


class DirectorySource(Protocol):
    """Where a directory sync reads the organisation from."""

    name: str

    def rows(self) -> Iterator[dict[str, str]]:
        """Everyone in the organisation as rows in the CSV import's columns (email, name, seniority, title,
        department, division, location, time_zone, working_hours, manager_email, gender, slack_user_id,
        teams_user_id); missing values are empty strings. Raises SourceError (defined in sources.py, with a
        one-line operator message) when the listing cannot be completed."""
        ...


@runtime_checkable
class IncrementalSource(Protocol):
    """A source that can read only what changed since its last sync (Microsoft Graph's delta queries).

    Before :meth:`rows`, the sync hands it what the last sync read (:meth:`resume`); after, it takes ``kept``
    and ``delta_link`` back to store with the import, in the same unit of work."""

    kept: dict[str, dict[str, str]]
    """After ``rows()``: everyone as read, by the source's id for the person (the source's raw values, and the
    person's ``email`` as the rows give it, which links what is kept to the person so ``forget-me`` finds it)."""
    delta_link: str
    """After ``rows()``: where the next sync starts reading changes (empty: it reads everything)."""
    notes: list[str]
    """After ``rows()``: one-line notes for the operator (a permission missing, a delta token expired)."""

    def resume(self, delta_link: str, kept: dict[str, dict[str, str]]) -> None:
        """Start from the last sync's delta link and the rows it read."""
        ...


SourceFactory = Callable[["Settings"], DirectorySource]

_FACTORIES: dict[str, tuple[str, str]] = {
    "microsoft": ("adapters.directory_sync.microsoft", "microsoft_source"),
    "google": ("adapters.directory_sync.google", "google_source"),
    "slack": ("adapters.directory_sync.slack", "slack_source"),
}
"""Source name -> (module, factory function), imported only when that source is used."""

SOURCE_NAMES = tuple(_FACTORIES)
"""The names `rmbot directory sync NAME` and RMBOT_DIRECTORY_SYNC accept."""


def source_factory(name: str) -> SourceFactory:
    """The factory of the source called ``name``; KeyError for an unknown name."""
    module_name, function = _FACTORIES[name]
    factory: SourceFactory = getattr(import_module(module_name), function)
    return factory


def make_source(name: str, settings: Settings) -> DirectorySource:
    """Build the source called ``name`` from the settings; KeyError for an unknown name."""
    return source_factory(name)(settings)


def blank_row() -> dict[str, str]:
    """A row with every column present and empty."""
    return dict.fromkeys(ROW_COLUMNS, "")
