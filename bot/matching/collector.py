"""Pausing Python's cyclic garbage collector while a matching builds or reads many small objects."""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for the block: reading a large programme or explaining its pairs
    makes tens of thousands of short-lived objects without cycles (candidates, pairs, reasons), and each of
    the collector's full passes walks the whole heap, which cost more than the work itself. Reference
    counting still frees everything; the collector resumes afterwards if it was running before."""
    running = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if running:
            gc.enable()
