"""Render ahead as a job: vocode the frames whose audio is not cached yet, from the play position on.

The UI (:mod:`vocoder_studio.ui.prerender`) schedules it when the user is idle; here is the work itself.
No Qt.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.jobs import CancelToken, Progress
from vocoder_studio.vocoders.choice import VocoderChoice

#: Frames per background chunk: a play or export waits for at most one (about 1 s with HiFi-GAN on a 2-core
#: CPU, and that chunk is usually the one it needs); smaller chunks waste more on their context frames.
CHUNK_FRAMES = 96


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

    Args:
        mel: a copy of the document's ln-mel ``(n_mels, frames)``; ``version`` its version.
        start: the play position in frames (clipped to the document).
    Raises:
        JobCancelled: cancelled between chunks (what was vocoded so far stays cached).
    """
    frames = mel.shape[1]
    start = min(max(int(start), 0), frames)

    def job(progress: Progress, cancel: CancelToken) -> int:
        renderer = cache.renderer(doc_id, choice)
        renderer.update(mel, version)
        before = renderer.vocoded_frames
        for a, b in ((start, frames), (0, start)):
            if b > a and not renderer.is_complete(a, b):
                renderer.render(mel, version, a, b, progress, cancel, chunk_frames=chunk_frames)
        return renderer.vocoded_frames - before

    return job
