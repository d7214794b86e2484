"""The small interfaces the engine depends on. ``storage/`` and ``adapters/`` implement them.

``records``: the unit of work (one database transaction) and the repositories it opens (declared in
``people``, ``programmes`` and ``privacy``), which the handlers and services use. ``runtime``: the inbox,
outbox, schedule, the store and each platform's deliverer, which the runtime and the adapters use.
``platforms``: what the Slack and Teams adapters keep. Nothing here is platform- or ORM-shaped.
"""

from bot.ports.calendars import *  # noqa: F403
from bot.ports.calendars import __all__ as _calendars
from bot.ports.directory_sync import *  # noqa: F403
from bot.ports.directory_sync import __all__ as _directory_sync
from bot.ports.platforms import *  # noqa: F403
from bot.ports.platforms import __all__ as _platforms
from bot.ports.records import *  # noqa: F403
from bot.ports.records import __all__ as _records
from bot.ports.runtime import *  # noqa: F403
from bot.ports.runtime import __all__ as _runtime

__all__ = [*_records, *_runtime, *_platforms, *_calendars, *_directory_sync]
