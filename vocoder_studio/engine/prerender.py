"""Render ahead as a job: vocode the frames whose audio is not cached yet, from the play position on.

The UI (:mod:`vocoder_studio.ui.prerender`) schedules it when the user is idle; here is the work itself.
No Qt.

The chunks are vocoded on a thread of the job's own, to which the job lends the renderer
(:meth:`Renderer.lend <vocoder_studio.engine.render.Renderer.lend>`); the job itself only waits for that thread
and looks at its cancel token meanwhile. Cancelled (Space pressed, an export started), it lets go of the worker
at once instead of after the chunk under way (a 96-frame HiFi-GAN chunk takes about 1 s on a 2-core AVX2 CPU):
the press is served by the preview vocoder at once (:mod:`vocoder_studio.engine.preview`) while that chunk
finishes on its own thread, and the renderer's next user (the slow take) waits for it and finds it cached, so
no vocoding is thrown away or done twice.
"""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.jobs import CancelToken, Progress
from vocoder_studio.engine.render import Renderer
from vocoder_studio.errors import JobCancelled
from vocoder_studio.vocoders.choice import VocoderChoice

#: Frames per background chunk: a play without the preview, or an export, waits for at most one (about 1 s
#: with HiFi-GAN on a 2-core CPU, and that chunk is usually the one it needs); smaller chunks waste more on
#: their context frames.
CHUNK_FRAMES = 96

#: Seconds between two looks of the job at its cancel token while its thread vocodes.
POLL_S = 0.005


def render_ahead_job(
    cache: RenderCache,
    doc_id: int,
    choice: VocoderChoice,
    mel: np.ndarray,
    version: int | None,
    start: int,
    chunk_frames: int = CHUNK_FRAMES,
) -> Callable[[Progress, CancelToken], int]:
    """A job that fills the render cache of document ``doc_id`` for ``choice``: frames ``[start, end)`` first
    (where play starts), then ``[0, start)``. Cached frames are skipped. Returns the frames vocoded.

    The chunks are vocoded on a thread of their own (see the module's docstring): cancelled, the job returns at
    once and the chunk under way is finished and kept there.

    Args:
        mel: a copy of the document's ln-mel ``(n_mels, frames)``; ``version`` its version.
        start: the play position in frames (clipped to the document).
    Raises:
        JobCancelled: cancelled (what was vocoded stays cached, the chunk under way included).
    """
    frames = mel.shape[1]
    start = min(max(int(start), 0), frames)

    def job(progress: Progress, cancel: CancelToken) -> int:
        renderer = cache.renderer(doc_id, choice)
        renderer.update(mel, version)
        before = renderer.vocoded_frames
        stop = threading.Event()
        failure: list[BaseException] = []

        def report(fraction: float, message: str) -> None:
            if not stop.is_set():  # nothing once the job let go
                progress(fraction, message)

        def work() -> None:
            try:
                vocode_ahead(renderer, mel, version, ((start, frames), (0, start)), chunk_frames, report, cancel,
                             stop)
            except JobCancelled:
                pass
            except BaseException as exc:  # re-raised by the job, on the worker's thread
                failure.append(exc)

        thread = threading.Thread(target=work, name="vocoder-studio-render-ahead", daemon=True)
        thread.start()
        renderer.lend(thread, stop)
        while thread.is_alive():
            if cancel.cancelled:
                stop.set()
                raise JobCancelled("render ahead cancelled")
            thread.join(POLL_S)
        renderer.settle()
        if failure:
            raise failure[0]
        cancel.check()
        return renderer.vocoded_frames - before

    return job


def vocode_ahead(renderer: Renderer, mel: np.ndarray, version: int | None, ranges: tuple[tuple[int, int], ...],
                 chunk_frames: int, progress: Progress, cancel: CancelToken, stop: threading.Event) -> None:
    """Vocode the frames of ``ranges`` (``[a, b)`` each, in order) that are not cached, chunk by chunk, into
    ``renderer``; stops before the next chunk once ``stop`` or ``cancel`` is set (each chunk made is kept).

    Raises:
        JobCancelled: ``cancel`` was set.
    """
    for a, b in ranges:
        if b <= a or renderer.is_complete(a, b):
            continue
        for _ in renderer.stream(mel, version, a, b, chunk_frames, chunk_frames, progress, cancel):
            if stop.is_set():
                return
