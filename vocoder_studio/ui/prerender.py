"""Render ahead: vocode the active document in the background while the user is idle.

Shortly after the last edit (or on opening a file, switching tab or vocoder) the frames whose audio is not
cached are vocoded as a background job, from the play position on; pressing play then finds the audio ready
and an edit is heard at once. Any other job (play, export) cancels it, and every edit restarts it, so it
never holds the user up: the job lets go of the worker at once while the chunk under way finishes on a thread of
its own and is kept (a play with the preview starts at once; one without waits for that chunk). The job itself is
:func:`vocoder_studio.engine.prerender.render_ahead_job`.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

from PySide6.QtCore import QObject, QTimer

from vocoder_studio.document import Document
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.jobs import JobHandle
from vocoder_studio.engine.prerender import render_ahead_job
from vocoder_studio.ui.worker import JobFn, JobRunner
from vocoder_studio.vocoders.choice import VocoderChoice

LABEL = "Render ahead"
#: Quiet time after the last change before rendering starts, in ms.
DELAY_MS = 600


class RenderAhead(QObject):
    """Schedules background renders of ``target()``'s document with ``choice()``.

    Args:
        target: the document to render and the frame to start from (the play position), or None.
        choice: the vocoder the user picked.
    Attributes:
        enabled: off stops scheduling (a menu toggle).
    """

    def __init__(self, runner: JobRunner, cache: RenderCache,
                 target: Callable[[], tuple[Document, int] | None], choice: Callable[[], VocoderChoice],
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.runner, self.cache, self.target, self.choice = runner, cache, target, choice
        self.enabled = True
        self.completed = 0
        self._job: JobHandle | None = None
        self.timer = QTimer(self)
        self.timer.setSingleShot(True)
        self.timer.setInterval(DELAY_MS)
        self.timer.timeout.connect(self._start)

    def set_enabled(self, on: bool) -> None:
        self.enabled = on
        if on:
            self.schedule()
        else:
            self.cancel()

    def schedule(self) -> None:
        """(Re)start the quiet-time countdown; a render under way stops (its mel is out of date)."""
        self.cancel()
        if self.enabled:
            self.timer.start()

    def cancel(self) -> None:
        self.timer.stop()
        if self._job is not None:
            self._job.cancel()
        self._job = None

    def _start(self) -> None:
        if not self.enabled:
            return
        if self.runner.lane_busy():  # playing or exporting: try again when it is done (a long job may run)
            self.timer.start()
            return
        target = self.target()
        if target is None:
            return
        doc, start = target
        job = render_ahead_job(self.cache, doc.uid, self.choice(), doc.mel.copy(), doc.version, start)

        def done(frames: object) -> None:
            self.completed += 1

        self._job = self.runner.submit(LABEL, cast(JobFn, job), on_result=done, on_error=lambda message: None,
                                       background=True)
