"""Long work as jobs: a function ``job(progress, cancel)`` that reports progress through a callback, hands
over partial results as it makes them, and stops when cancelled.

The UI runs jobs on worker QThreads and relays the callbacks as signals; tests and the CLI call them directly
(:func:`run_job`). Nothing here knows about Qt.

Whoever submits a job to a runner gets a :class:`JobHandle`: that job's own events (progress, partial, result,
error, cancelled) and ``cancel()``. Staleness is the handle's: once cancelled, its result and pieces are never
delivered, so a caller that replaces a job by a newer one needs no request counter of its own.

A job that makes its result piece by piece (a model sampling frames) calls ``cancel.partial(piece)`` for
each piece: whoever started the job hears the pieces in order, before the final result, through the
``on_partial`` callback of :func:`run_job` or of the UI's ``JobRunner.submit``; nobody listening costs nothing.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any, Protocol, TypeVar

from vocoder_studio.engine.events import Event
from vocoder_studio.errors import JobCancelled

T = TypeVar("T")


class Progress(Protocol):
    """``progress(fraction, message)``: fraction in [0, 1], a short message for the status bar."""

    def __call__(self, fraction: float, message: str) -> None: ...


def no_progress(fraction: float, message: str) -> None:
    """A progress callback that ignores everything."""


class CancelToken:
    """A flag the UI sets and a job checks between steps (thread-safe), and the channel for the job's partial
    results (:meth:`partial`).

    Args:
        on_partial: called with each partial result, in the job's thread; None ignores them.
    """

    def __init__(self, on_partial: Callable[[Any], None] | None = None) -> None:
        self._event = threading.Event()
        self._on_partial = on_partial

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()

    def check(self) -> None:
        """Raise :class:`JobCancelled` if cancellation was asked for."""
        if self._event.is_set():
            raise JobCancelled("cancelled")

    @property
    def wants_partial(self) -> bool:
        """Whether anybody listens to :meth:`partial` (a job may skip preparing pieces nobody hears)."""
        return self._on_partial is not None

    def partial(self, value: Any) -> None:
        """Hand over a piece of the result (e.g. an ln-mel block ``(n_mels, k)`` of generated frames).

        Called from the job; the listener hears the pieces in the order given and before the job's result.
        Once the job is cancelled the pieces are dropped.
        """
        if self._on_partial is not None and not self._event.is_set():
            self._on_partial(value)

    def set_partial_listener(self, on_partial: Callable[[Any], None] | None) -> None:
        """Send :meth:`partial` pieces to ``on_partial`` (set before the job starts; the UI's worker does)."""
        self._on_partial = on_partial


Job = Callable[[Progress, CancelToken], T]


class JobEvents:
    """A job's events; each callback receives the arguments listed.

    Attributes:
        progress: (fraction in [0, 1], message) as the job reports it.
        partial: (piece,) each piece the job hands to ``cancel.partial``, in order, before the result.
        result: (value,) the job's return value.
        error: (message,) a one-line message: the job failed.
        cancelled: () the job stopped because it was cancelled (or was cancelled before its result came).
    """

    def __init__(self) -> None:
        self.progress: Event[float, str] = Event()
        self.partial: Event[Any] = Event()
        self.result: Event[Any] = Event()
        self.error: Event[str] = Event()
        self.cancelled: Event[()] = Event[()]()


class JobHandle:
    """One submitted job: its label, its events (:class:`JobEvents`) and :meth:`cancel`.

    Exactly one of ``result``, ``error`` and ``cancelled`` fires, once. A handle cancelled before its result
    reached it fires ``cancelled`` instead of ``result`` or ``error``, and no ``partial`` or ``progress`` after
    :meth:`cancel` returns: a result is never stale. The runner that ran the job calls the ``deliver_*``
    methods on the thread its listeners live on (the GUI thread in the window).

    Args:
        label: names the job in the status bar.
        token: the job's cancel token (a new one by default).
    """

    def __init__(self, label: str, token: CancelToken | None = None) -> None:
        self.label = label
        self.token = token or CancelToken()
        self.events = JobEvents()
        self._done = False

    def cancel(self) -> None:
        """Ask the job to stop; from now on it delivers nothing but ``cancelled``."""
        self.token.cancel()

    @property
    def cancelled(self) -> bool:
        """Whether :meth:`cancel` was called."""
        return self.token.cancelled

    @property
    def done(self) -> bool:
        """Whether the job ended (result, error or cancelled delivered)."""
        return self._done

    def deliver_progress(self, fraction: float, message: str) -> None:
        if not self._done and not self.cancelled:
            self.events.progress.emit(fraction, message)

    def deliver_partial(self, piece: Any) -> None:
        if not self._done and not self.cancelled:
            self.events.partial.emit(piece)

    def deliver_result(self, value: Any) -> None:
        if self._end():
            self.events.result.emit(value)

    def deliver_error(self, message: str) -> None:
        if self._end():
            self.events.error.emit(message)

    def deliver_cancelled(self) -> None:
        if not self._done:
            self._done = True
            self.events.cancelled.emit()

    def _end(self) -> bool:
        """Mark the job ended; False when it was cancelled (``cancelled`` fired instead) or already ended."""
        if self._done:
            return False
        if self.cancelled:
            self.deliver_cancelled()
            return False
        self._done = True
        return True


def run_job(job: Callable[[Progress, CancelToken], T], progress: Progress = no_progress,
            cancel: CancelToken | None = None, on_partial: Callable[[Any], None] | None = None) -> T:
    """Run ``job(progress, cancel)`` in this thread and return its result.

    Args:
        on_partial: called in this thread with each piece the job hands to ``cancel.partial``, in order
            (replaces the token's listener when given).
    Raises:
        JobCancelled: the token was cancelled before or during the job.
    """
    token = cancel or CancelToken()
    if on_partial is not None:
        token.set_partial_listener(on_partial)
    token.check()
    return job(progress, token)
