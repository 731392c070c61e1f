"""Progress of a long parse: documents done / total, pages per second and the time left.

The Dagster asset that parses (assets/documents.py) feeds one ``ParseProgress`` and gives it the
run's logger, so the run log in the UI shows the same lines. ``budgetwh ingest`` also turns on the
terminal output (``show_on_terminal``): a bar redrawn in place when stdout is a terminal, a plain
line every few seconds otherwise (a log file, CI)."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable
from typing import TextIO

_terminal: TextIO | None = None


def show_on_terminal(stream: TextIO | None = sys.stdout) -> None:
    """Print progress to ``stream`` (the command line calls this; the UI and the sensor do not)."""
    global _terminal
    _terminal = stream


def _duration(seconds: float) -> str:
    seconds = max(0, round(seconds))
    if seconds < 60:
        return f"{seconds}s"
    minutes, seconds = divmod(seconds, 60)
    if minutes < 60:
        return f"{minutes}m{seconds:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


class ParseProgress:
    """Counts documents as they come back. The time left is estimated from bytes: the largest files
    are parsed first, so a per-document average would overestimate it."""

    def __init__(
        self,
        total: int,
        total_bytes: int,
        log: Callable[[str], None] | None = None,
        *,
        interval: float = 5.0,
        every: int = 25,
    ) -> None:
        self.total, self.total_bytes = total, max(1, total_bytes)
        self.log, self.interval, self.every = log, interval, every
        self.done = self.pages = self.parsed = self.bytes_done = 0
        self.started = self.last_line = time.monotonic()
        self.stream = _terminal
        self.is_tty = bool(self.stream and getattr(self.stream, "isatty", lambda: False)())

    def line(self) -> str:
        elapsed = max(1e-6, time.monotonic() - self.started)
        rate = self.pages / elapsed
        left = ""
        if 0 < self.bytes_done < self.total_bytes:
            left = f", about {_duration(elapsed * (self.total_bytes - self.bytes_done) / self.bytes_done)} left"
        elif self.done == self.total:
            left = f", done in {_duration(elapsed)}"
        return f"parsed {self.done}/{self.total} documents ({self.parsed} new), {self.pages} pages, {rate:.1f} pages/s{left}"

    def advance(self, *, pages: int, size: int, parsed: bool) -> None:
        self.done += 1
        self.bytes_done += size
        if parsed:
            self.parsed += 1
            self.pages += pages
        now = time.monotonic()
        due = now - self.last_line >= self.interval or self.done % self.every == 0 or self.done == self.total
        if self.is_tty:
            self._bar()
        if due:
            self.last_line = now
            if self.log:
                self.log(self.line())
            if self.stream and not self.is_tty:
                self._print(self.line())
        if self.is_tty and self.done == self.total:
            self._print("")

    def _bar(self, width: int = 30) -> None:
        filled = round(width * self.done / max(1, self.total))
        self._print(f"\r[{'#' * filled}{'.' * (width - filled)}] {self.line()}\x1b[K", end="")

    def _print(self, text: str, end: str = "\n") -> None:
        """Progress is a courtesy: a closed or broken stream stops it, never the parse."""
        try:
            print(text, end=end, file=self.stream, flush=True)
        except (ValueError, OSError):
            self.stream = None
            self.is_tty = False
