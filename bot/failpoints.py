"""Named crash points for fault tests: ``RMBOT_FAILPOINT=after_accept`` kills the process there.

A failpoint does nothing unless the environment names it, so production behaviour is unchanged.
"""

from __future__ import annotations

import os
import signal


def failpoint(name: str) -> None:
    """Kill this process with SIGKILL when ``RMBOT_FAILPOINT`` names this point."""
    if os.environ.get("RMBOT_FAILPOINT") == name:
        os.kill(os.getpid(), signal.SIGKILL)
