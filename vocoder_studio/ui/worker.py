"""Runs engine jobs (``fn(progress, cancel)``) on worker ``QThread`` lanes, one after another in each lane.

Two lanes: ``"default"`` for what the user waits for (playback, live updates, render-ahead, a single export)
and ``"long"`` for long jobs (MelNet generation, batch export) that must not hold playback up; the lanes run
at the same time on their own threads. Results, errors, progress, partial results and cancellation come back
as Qt signals, received by slots in the GUI thread.

Jobs on different lanes run concurrently: they must not share a :class:`~vocoder_studio.engine.render.Renderer`
(it is not thread-safe); a long job that vocodes makes its own ``Renderer`` over the shared vocoder.
"""

from __future__ import annotations

import itertools
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, QThread, Signal, Slot

from vocoder_studio.engine.jobs import CancelToken, JobHandle
from vocoder_studio.errors import JobCancelled, VocoderStudioError

JobFn = Callable[[Callable[[float, str], None], CancelToken], Any]

#: The lane of playback, live updates, render-ahead and anything the user waits for (the default).
DEFAULT_LANE = "default"
#: The lane of long jobs (generation, batch export): runs beside the default lane, never in front of it.
LONG_LANE = "long"
LANES = (DEFAULT_LANE, LONG_LANE)


class _Runner(QObject):
    """Lives in a lane's worker thread; runs each job it is handed, in order."""

    started = Signal(int, str)
    progress = Signal(int, float, str)
    partial = Signal(int, object)
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


class _Lane(QObject):
    """One worker thread and its runner; ``submit`` (emitted in the GUI thread) queues a job on it."""

    submit = Signal(int, str, object, object)

    def __init__(self, name: str, parent: QObject) -> None:
        super().__init__(parent)
        self.name = name
        self.worker_thread = QThread()
        self.worker_thread.setObjectName(f"vocoder-studio-{name}")
        self.runner = _Runner()
        self.runner.moveToThread(self.worker_thread)
        self.submit.connect(self.runner.run)
        self.worker_thread.start()


@dataclass
class _Job:
    handle: JobHandle
    lane: str
    background: bool

    @property
    def label(self) -> str:
        return self.handle.label

    @property
    def token(self) -> CancelToken:
        return self.handle.token


class JobRunner(QObject):
    """The GUI side of the worker lanes.

    Signals:
        jobStarted(label), jobProgress(label, fraction, message), jobFinished(label, result),
        jobFailed(label, message), jobCancelled(label), idle() when no job is queued or running in any lane.
    """

    jobStarted = Signal(str)
    jobProgress = Signal(str, float, str)
    jobFinished = Signal(str, object)
    jobFailed = Signal(str, str)
    jobCancelled = Signal(str)
    idle = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self._ids = itertools.count(1)
        self._jobs: dict[int, _Job] = {}
        self._lanes: dict[str, _Lane] = {}
        self._running = True
        self._lane(DEFAULT_LANE)

    def _lane(self, name: str) -> _Lane:
        """The lane ``name``, its thread started on first use."""
        lane = self._lanes.get(name)
        if lane is None:
            lane = _Lane(name, self)
            runner = lane.runner
            runner.started.connect(self._on_started)
            runner.progress.connect(self._on_progress)
            runner.partial.connect(self._on_partial)
            runner.done.connect(self._on_done)
            runner.failed.connect(self._on_failed)
            runner.cancelled.connect(self._on_cancelled)
            self._lanes[name] = lane
        return lane

    # ----- API -------------------------------------------------------------------------------------------
    def submit(self, label: str, fn: JobFn, on_result: Callable[[Any], None] | None = None,
               on_error: Callable[[str], None] | None = None, background: bool = False,
               on_partial: Callable[[Any], None] | None = None, lane: str = DEFAULT_LANE) -> JobHandle:
        """Queue ``fn(progress, cancel)`` on ``lane``; ``on_result``/``on_error``/``on_partial`` run in the
        GUI thread (they are connected to the handle's events).

        Args:
            label: names the job in signals and for :meth:`cancel`.
            on_result: called with the job's return value (never after the handle was cancelled).
            on_error: called with a one-line message when the job fails (never after the handle was cancelled).
            background: a job that gives way (rendering ahead): any other job submitted later on the same lane
                cancels it; its failure goes only to its own ``on_error`` and its cancellation is silent (never
                ``jobFailed``/``jobCancelled``).
            on_partial: called with each piece the job hands to ``cancel.partial(piece)``, in order, always
                before ``on_result`` and the job's finished / failed / cancelled signal; none comes once the
                job's token is cancelled (so none arrives after :meth:`cancel` returns).
            lane: :data:`DEFAULT_LANE` (jobs the user waits for, in order) or :data:`LONG_LANE` (long jobs that
                run beside them on a second thread, in order among themselves).
        Returns:
            The job's :class:`~vocoder_studio.engine.jobs.JobHandle`: its own progress / partial / result /
            error / cancelled events and ``cancel()`` (already cancelled when the runner is shut down).
        Raises:
            ValueError: an unknown lane.
        """
        if lane not in LANES:
            raise ValueError(f"unknown job lane {lane!r}; the lanes are {', '.join(LANES)}")
        handle = JobHandle(label)
        token = handle.token
        for callback, event in ((on_result, handle.events.result), (on_error, handle.events.error),
                                (on_partial, handle.events.partial)):
            if callback is not None:
                event.connect(callback)
        if not self._running:
            handle.cancel()
            return handle
        if not background:
            for job in self._jobs.values():
                if job.background and job.lane == lane:
                    job.token.cancel()
        job_id = next(self._ids)
        worker = self._lane(lane)
        if on_partial is not None:
            emit = worker.runner.partial.emit
            token.set_partial_listener(lambda value: emit(job_id, value))
        self._jobs[job_id] = _Job(handle, lane, background)
        worker.submit.emit(job_id, label, fn, token)
        return handle

    @property
    def busy(self) -> bool:
        """Whether a job is queued or running in any lane."""
        return bool(self._jobs)

    def lane_busy(self, lane: str = DEFAULT_LANE) -> bool:
        """Whether a job is queued or running in ``lane`` (render-ahead waits only for the default lane)."""
        return any(job.lane == lane for job in self._jobs.values())

    @property
    def foreground_busy(self) -> bool:
        """Whether a job other than a background one is queued or running in any lane."""
        return any(not job.background for job in self._jobs.values())

    def pending_labels(self, lane: str | None = None) -> list[str]:
        """Labels of the jobs queued or running (in ``lane``, or in all lanes)."""
        return [job.label for job in self._jobs.values() if lane is None or job.lane == lane]

    def cancel(self, label_prefix: str = "") -> None:
        """Cancel every queued or running job, in any lane, whose label starts with ``label_prefix`` (all by
        default). A caller that holds a job's handle cancels that one with ``handle.cancel()``."""
        for job in self._jobs.values():
            if job.label.startswith(label_prefix):
                job.token.cancel()

    def shutdown(self, timeout_ms: int = 30000) -> None:
        """Cancel everything, stop every lane's thread and wait for them (call on window close)."""
        if not self._running:
            return
        self._running = False
        self.cancel()
        for lane in self._lanes.values():
            lane.worker_thread.quit()
        for lane in self._lanes.values():
            lane.worker_thread.wait(timeout_ms)

    @property
    def threads(self) -> list[QThread]:
        """The lanes' worker threads started so far (for tests and diagnostics)."""
        return [lane.worker_thread for lane in self._lanes.values()]

    # ----- slots (GUI thread) ------------------------------------------------------------------------------
    @Slot(int, str)
    def _on_started(self, job_id: int, label: str) -> None:
        self.jobStarted.emit(label)

    @Slot(int, float, str)
    def _on_progress(self, job_id: int, fraction: float, message: str) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            job.handle.deliver_progress(fraction, message)
            self.jobProgress.emit(job.label, fraction, message)

    @Slot(int, object)
    def _on_partial(self, job_id: int, value: object) -> None:
        job = self._jobs.get(job_id)
        if job is not None:
            job.handle.deliver_partial(value)

    @Slot(int, object)
    def _on_done(self, job_id: int, result: object) -> None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return
        job.handle.deliver_result(result)
        self.jobFinished.emit(job.label, result)
        self._maybe_idle()

    @Slot(int, str)
    def _on_failed(self, job_id: int, message: str) -> None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return
        job.handle.deliver_error(message)
        if not job.background:
            self.jobFailed.emit(job.label, message)
        self._maybe_idle()

    @Slot(int)
    def _on_cancelled(self, job_id: int) -> None:
        job = self._jobs.pop(job_id, None)
        if job is None:
            return
        job.handle.deliver_cancelled()
        if not job.background:
            self.jobCancelled.emit(job.label)
        self._maybe_idle()

    def _maybe_idle(self) -> None:
        if not self._jobs:
            self.idle.emit()
