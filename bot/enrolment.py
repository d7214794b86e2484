"""Enrolment started by an import: the consent message for people invited by file, and the onboarding
for people whose consent was recorded elsewhere. Both run as scheduled jobs through the inbox, so an
operator's import reaches people the same way everything else does: exactly once."""

from __future__ import annotations

IMPORT_INVITE = "import_invite"
IMPORT_ONBOARDING = "import_onboarding"
