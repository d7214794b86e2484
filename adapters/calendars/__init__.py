"""Calendar integration (issue #21): Microsoft 365 through Microsoft Graph, Google Workspace through the Calendar
API, and the worker that performs the calendar requests the engine records (see ``bot/ports/calendars.py`` and
docs/integrations.md)."""
