"""Runs engine jobs (``fn(progress, cancel)``) one after another on a single worker ``QThread``.

Results, errors, progress and cancellation come back as Qt signals, received by slots in the GUI thread.
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from vocoder_studio.engine.jobs import CancelToken
from vocoder_studio.errors import JobCancelled, VocoderStudioError

JobFn = Callable[[Callable[[float, str], None], CancelToken], Any]


class _Runner(QObject):
    """Lives in the worker thread; runs each job it is handed, in order."""

    started = Signal(int, str)
    progress = Signal(int, float, str)
    done = Signal(int, object)
    failed = Signal(int, str)
    cancelled = Signal(int)

    @Slot(int, str, object, object)
    def run(self, job_id: int, label: str, fn: JobFn, token: CancelToken) -> None:
        if token.cancelled:
            self.cancelled.emit(job_id)
            return
        self.started.emit(job_id, label)

        def progress(fraction: float, message: str) -> None:
            self.progress.emit(job_id, float(fraction), str(message))

        try:
            result = fn(progress, token)
        except JobCancelled:
            self.cancelled.emit(job_id)
        except VocoderStudioError as exc:
            self.failed.emit(job_id, str(exc))
        except Exception as exc:  # a bug: report it rather than kill the thread
            traceback.print_exc()
            self.failed.emit(job_id, f"{label} failed: {type(exc).__name__}: {exc}")
        else:
            self.done.emit(job_id, result)


class JobRunner(QObject):
    """The GUI side of the worker thread.

    Signals:
        jobStarted(label), jobProgress(label, fraction, message), jobFinished(label, result),
        jobFailed(label, message), jobCancelled(label), idle() when the queue is empty.
    """

    jobStarted = Signal(str)
    jobProgress = Signal(str, float, str)
    jobFinished = Signal(str, object)
    jobFailed = Signal(str, str)
    jobCancelled = Signal(str)
    idle = Signal()
    _submit = Signal(int, str, object, object)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._jobs: dict[int, tuple[str, CancelToken, Callable[[Any], None] | None,
                                    Callable[[str], None] | None]] = {}
        self._background: set[int] = set()
        self._thread = QThread()
        self._thread.setObjectName("vocoder-studio-worker")
        self._runner = _Runner()
        self._runner.moveToThread(self._thread)
        self._submit.connect(self._runner.run)
        self._runner.started.connect(self._on_started)
        self._runner.progress.connect(self._on_progress)
        self._runner.done.connect(self._on_done)
        self._runner.failed.connect(self._on_failed)
        self._runner.cancelled.connect(self._on_cancelled)
        self._thread.start()
        self._running = True

    # ----- API -------------------------------------------------------------------------------------------
    def submit(self, label: str, fn: JobFn, on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None, background: bool = False) -> CancelToken:
        """Queue ``fn(progress, cancel)``; ``on_result``/``on_error`` run in the GUI thread.

        A ``background`` job (rendering ahead) gives way: any other job submitted later cancels it, and its
        failure or cancellation goes only to its own ``on_error``, never to ``jobFailed``/``jobCancelled``.
        """
        token = CancelToken()
        if not self._running:
            token.cancel()
            return token
        if not background:
            for other in self._background:
                if other in self._jobs:
                    self._jobs[other][1].cancel()
        job_id = next(self._ids)
        if background:
            self._background.add(job_id)
        self._jobs[job_id] = (label, token, on_result, on_error)
        self._submit.emit(job_id, label, fn, token)
        return token

    @property
    def busy(self) -> bool:
        """Whether a job is queued or running."""
        return bool(self._jobs)

    def pending_labels(self) -> list[str]:
        return [job[0] for job in self._jobs.values()]

    def cancel(self, label_prefix: str = "") -> None:
        """Cancel every queued or running job whose label starts with ``label_prefix`` (all by default)."""
        for label, token, _, _ in self._jobs.values():
            if label.startswith(label_prefix):
                token.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel everything, stop the thread and wait for it (call on window close)."""
        if not self._running:
            return
        self._running = False
        self.cancel()
        self._thread.quit()
        self._thread.wait(timeout_ms)

    # ----- slots (GUI thread) ------------------------------------------------------------------------------
    def _label(self, job_id: int) -> str:
        job = self._jobs.get(job_id)
        return job[0] if job else ""

    @Slot(int, str)
    def _on_started(self, job_id: int, label: str) -> None:
        self.jobStarted.emit(label)

    @Slot(int, float, str)
    def _on_progress(self, job_id: int, fraction: float, message: str) -> None:
        if job_id in self._jobs:
            self.jobProgress.emit(self._label(job_id), fraction, message)

    def _pop(self, job_id: int) -> tuple[tuple[str, CancelToken, Any, Any] | None, bool]:
        """Forget a finished job: its entry (None if already gone) and whether it ran in the background."""
        background = job_id in self._background
        self._background.discard(job_id)
        return self._jobs.pop(job_id, None), background

    @property
    def foreground_busy(self) -> bool:
        """Whether a job other than a background one is queued or running."""
        return any(job_id not in self._background for job_id in self._jobs)

    @Slot(int, object)
    def _on_done(self, job_id: int, result: object) -> None:
        job, _ = self._pop(job_id)
        if job is None:
            return
        label, _, on_result, _ = job
        if on_result is not None:
            on_result(result)
        self.jobFinished.emit(label, result)
        self._maybe_idle()

    @Slot(int, str)
    def _on_failed(self, job_id: int, message: str) -> None:
        job, background = self._pop(job_id)
        if job is None:
            return
        label, _, _, on_error = job
        if on_error is not None:
            on_error(message)
        if not background:
            self.jobFailed.emit(label, message)
        self._maybe_idle()

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        job, background = self._pop(job_id)
        if job is None:
            return
        if not background:
            self.jobCancelled.emit(job[0])
        self._maybe_idle()

    def _maybe_idle(self) -> None:
        if not self._jobs:
            self.idle.emit()
