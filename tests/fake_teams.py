"""A local fake of Teams: the Bot Framework connector service (what Teams runs at an activity's ``serviceUrl``)
and Microsoft's identity side, on a free port in its own thread.

``FakeTeams`` is the fake; use it as a context manager. Its parts: the connector, recording every request the
bot makes and answering like Teams, scriptable and checking Teams' per-conversation limits
(``fake_teams_connector``); Microsoft's identity side: Bot Framework tokens and signing keys, Microsoft Entra ID
and Azure's instance metadata (``fake_teams_identity``); team rosters (``fake_rosters``); and what the connector
records, with the Teams conformance kit (``fake_teams_models``).
"""

from __future__ import annotations

from fake_teams_connector import WINDOWS, FakeTeams
from fake_teams_identity import ISSUER, KEY_ID, LOGIN_URL, NEW_KEY_ID, login_metadata, login_transport, signing_key
from fake_teams_models import SPECS, Post, activity_file

__all__ = [
    "ISSUER",
    "KEY_ID",
    "LOGIN_URL",
    "NEW_KEY_ID",
    "SPECS",
    "WINDOWS",
    "FakeTeams",
    "Post",
    "activity_file",
    "login_metadata",
    "login_transport",
    "signing_key",
]
