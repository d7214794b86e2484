"""The fakes' common ground: an aiohttp app served on loopback from a thread of its own while a ``with`` block
runs. Each fake platform or directory server builds its routes (:meth:`LocalServer.make_app`) and notes its URLs
once its port is known (:meth:`LocalServer.started`)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any, Self

from aiohttp import web


class LocalServer:
    """Base of a fake server; use as a context manager. ``base`` is its URL once entered."""

    thread_name = "fake-server"
    shutdown_timeout = 60.0
    """Seconds aiohttp gives open requests when the fake stops (aiohttp's own default)."""

    loop: asyncio.AbstractEventLoop | None
    port: int
    base: str
    _runner: web.AppRunner
    _thread: threading.Thread

    def make_app(self) -> web.Application:
        """The fake's application: its routes."""
        raise NotImplementedError

    def started(self) -> None:
        """Called once ``port`` and ``base`` are known, before the ``with`` block starts."""

    async def stopping(self) -> None:
        """Stop serving (in the server's loop)."""
        await self._runner.cleanup()

    def __enter__(self) -> Self:
        ready = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(ready,), name=self.thread_name, daemon=True)
        self._thread.start()
        ready.wait(10)
        return self

    def __exit__(self, *_: object) -> None:
        assert self.loop is not None
        asyncio.run_coroutine_threadsafe(self.stopping(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(10)

    def _run(self, ready: threading.Event) -> None:
        self.loop = asyncio.new_event_loop()
        self._runner = web.AppRunner(self.make_app(), access_log=None, shutdown_timeout=self.shutdown_timeout)
        self.loop.run_until_complete(self._runner.setup())
        site = web.TCPSite(self._runner, "127.0.0.1", getattr(self, "port_wanted", 0))
        self.loop.run_until_complete(site.start())
        server: Any = site._server
        self.port = server.sockets[0].getsockname()[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self.started()
        ready.set()
        self.loop.run_forever()
        self.loop.close()
