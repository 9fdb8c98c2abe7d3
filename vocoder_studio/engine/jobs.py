"""Long work as jobs: a function that reports progress through a callback and stops when cancelled.

The UI runs jobs on a worker QThread and relays the callback as a signal; tests and the CLI call them
directly. Nothing here knows about Qt.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Protocol, TypeVar

from vocoder_studio.errors import JobCancelled

T = TypeVar("T")


class Progress(Protocol):
    """``progress(fraction, message)``: fraction in [0, 1], a short message for the status bar."""

    def __call__(self, fraction: float, message: str) -> None: ...


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores everything."""


class CancelToken:
    """A flag the UI sets and a job checks between steps (thread-safe)."""

    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`JobCancelled` if cancellation was asked for."""
        if self._event.is_set():
            raise JobCancelled("cancelled")


Job = Callable[[Progress, CancelToken], T]


def run_job(job: Callable[[Progress, CancelToken], T], progress: Progress = no_progress,
            cancel: CancelToken | None = None) -> T:
    """Run ``job(progress, cancel)`` in this thread and return its result.

    Raises:
        JobCancelled: the token was cancelled before or during the job.
    """
    token = cancel or CancelToken()
    token.check()
    return job(progress, token)
