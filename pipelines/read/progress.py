"""How far the parse of the current document got, for whoever supervises it: the parse pool's
watchdog quotes it when a document runs over its time or memory budget ("after reading 37 of 400
pages"). Without a listener (a parse in the main process) reporting costs a function call."""

from __future__ import annotations

from collections.abc import Callable

Listener = Callable[[str, int, int], None]
_listener: Listener | None = None


def set_listener(listener: Listener | None) -> None:
    global _listener
    _listener = listener


def report(stage: str, done: int = 0, total: int = 0) -> None:
    """``stage`` ('reading pages', 'recognizing tables'), ``done`` of ``total`` pages."""
    if _listener is not None:
        _listener(stage, done, total)
