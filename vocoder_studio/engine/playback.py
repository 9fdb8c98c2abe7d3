"""Playback as a job: stream the renderer's audio into the player while it plays."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vocoder_studio.engine.jobs import CancelToken, Progress
from vocoder_studio.engine.player import Player
from vocoder_studio.engine.render import Renderer
from vocoder_studio.errors import JobCancelled


def play_job(
    renderer: Renderer,
    player: Player,
    mel: np.ndarray,
    version: int | None,
    start_frame: int = 0,
    end_frame: int | None = None,
    loop: bool = False,
    first_chunk_frames: int = 16,
    chunk_frames: int = 256,
) -> Callable[[Progress, CancelToken], int]:
    """A job that plays frames ``[start_frame, end_frame)`` of ``mel``: the output starts at once and the
    streaming vocoder fills it chunk by chunk (cached audio immediately). Returns the samples fed.

    Cancelling stops the vocoder and the sound.
    """
    end = mel.shape[1] if end_frame is None else min(end_frame, mel.shape[1])
    hop = renderer.hop_length

    def job(progress: Progress, cancel: CancelToken) -> int:
        player.start((end - start_frame) * hop, start_frame * hop, loop=loop)
        fed = 0
        try:
            for _, audio in renderer.stream(mel, version, start_frame, end, chunk_frames, first_chunk_frames,
                                            progress, cancel):
                if not player.is_playing:  # stopped by the user or the device
                    break
                player.write(audio)
                fed += audio.size
        except JobCancelled:
            player.stop()
            raise
        player.finish()
        return fed

    return job
