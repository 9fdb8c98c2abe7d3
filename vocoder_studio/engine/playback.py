"""Playback as a job: stream the renderer's audio into the player while it plays, without gaps.

The output opens at once and holds (silence) until the audio buffered and the vocoder's measured speed
(:meth:`Renderer.predict_seconds`) say that every later chunk will be ready before the playhead reaches it;
a fast vocoder or cached audio starts after the first small chunk, a slow one buffers a little longer
instead of stuttering. With a :class:`~vocoder_studio.engine.preview_takes.PreviewTakes` (the window's default) a
slow vocoder starts at once on a fast vocoder's preview take instead, which its own audio replaces as it comes
(:mod:`vocoder_studio.engine.preview`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vocoder_studio.engine.jobs import CancelToken, Progress
from vocoder_studio.engine.player import Player
from vocoder_studio.engine.preview import preview_play_job, preview_update_job, wants_preview
from vocoder_studio.engine.preview_takes import PreviewTakes
from vocoder_studio.engine.render import Renderer, can_start_playback
from vocoder_studio.engine.slow_take import RendererSource
from vocoder_studio.errors import JobCancelled

#: Predicted vocoding times are stretched by this much (the GUI thread and other work share the CPU).
SPEED_MARGIN = 1.3

#: Frames of the first chunk played. Its measured time is all the speed prediction has to decide whether
#: playback may start after it, and a chunk's fixed costs (a call, oneDNN's set-up for a new shape) weigh
#: less on 24 frames than on 16: HiFi-GAN (bfloat16, one free core, nothing cached) then started after the
#: first chunk every time (0.10-0.15 s of compute), where 16 frames often needed a second (0.09-0.25 s).
FIRST_CHUNK_FRAMES = 24


def play_job(
    renderer: RendererSource,
    player: Player,
    mel: np.ndarray,
    version: int | None,
    start_frame: int = 0,
    end_frame: int | None = None,
    loop: bool = False,
    first_chunk_frames: int = FIRST_CHUNK_FRAMES,
    chunk_frames: int = 256,
    preview: PreviewTakes | None = None,
    open_end: bool = False,
) -> Callable[[Progress, CancelToken], int]:
    """A job that plays frames ``[start_frame, end_frame)`` of ``mel`` (looping if asked) and returns the
    samples fed. Cancelling stops the vocoder and the sound.

    Args:
        renderer: the vocoder's renderer, or a function that makes it (builds the vocoder): with ``preview``
            that happens beside the preview's first sound, not before it (a vocoder not built yet is not timed
            either: it starts on the preview).
        open_end: the playback goes on past ``end_frame`` with audio that others write after this job's
            (live continuation, :mod:`vocoder_studio.engine.continuation`): the player starts open-ended and
            is not told that the feed is complete.
        preview: where the audio is not all cached and the vocoder is predicted slower than
            ``preview.threshold`` (or was never timed), play ``preview.renderer``'s take at once and let this
            vocoder's replace it (``preview.active`` says whether it did); None: hold until gapless.
    """
    end = mel.shape[1] if end_frame is None else min(end_frame, mel.shape[1])

    def job(progress: Progress, cancel: CancelToken) -> int:
        built = renderer if isinstance(renderer, Renderer) else None
        if built is not None:
            built.update(mel, version)
        if preview is not None:
            preview.active = False
            if preview.renderer is not None and preview.threshold is not None and (
                    built is None or (not built.is_complete(start_frame, end)
                                      and wants_preview(built, preview.threshold))):
                return preview_play_job(renderer, preview, player, mel, version, start_frame, end, loop,
                                        first_chunk_frames, chunk_frames, open_end)(progress, cancel)
        if built is None:
            assert not isinstance(renderer, Renderer)
            built = renderer()
        return held_play(built, progress, cancel)

    def held_play(renderer: Renderer, progress: Progress, cancel: CancelToken) -> int:
        renderer.update(mel, version)
        hop = renderer.hop_length
        frame_seconds = hop / player.sample_rate
        blocks = renderer.plan(start_frame, end, chunk_frames, first_chunk_frames)
        player.start((end - start_frame) * hop, start_frame * hop, loop=loop, hold=True, open_end=open_end)
        fed = 0
        try:
            for index, (_, audio) in enumerate(
                renderer.stream(mel, version, start_frame, end, chunk_frames, first_chunk_frames, progress, cancel)
            ):
                if not player.is_playing:  # stopped by the user or the device
                    break
                player.write(audio)
                fed += audio.size
                if player.held:
                    rest = blocks[index + 1 :]
                    costs = [0.0 if cached else SPEED_MARGIN * (renderer.predict_seconds(renderer.cost_frames(a, b))
                                                                 or 0.0)
                             for a, b, cached in rest]
                    durations = [(b - a) * frame_seconds for a, b, _ in rest]
                    if can_start_playback(fed / player.sample_rate, costs, durations):
                        player.release()
        except JobCancelled:
            player.stop()
            raise
        player.release()
        if not open_end:
            player.finish()
        return fed

    return job


def update_job(
    renderer: Renderer,
    player: Player,
    mel: np.ndarray,
    version: int | None,
    start_frame: int,
    end_frame: int,
    preview: PreviewTakes | None = None,
) -> Callable[[Progress, CancelToken], int]:
    """A job that brings the audio of a playback under way up to date after an edit: the renderer re-vocodes
    only the frames the edit reaches, and the player's audio for ``[start_frame, end_frame)`` is replaced, so
    the rest of the pass (or the next pass of a loop) sounds the new way. Returns the frames re-vocoded.

    ``preview``: the playback's takes; if it started on a preview, the preview vocoder re-vocodes the edit
    first and this one second (:func:`vocoder_studio.engine.preview.preview_update_job`)."""
    if preview is not None and preview.active and preview.renderer is not None:
        return preview_update_job(renderer, preview, mel, version, start_frame, end_frame)

    def job(progress: Progress, cancel: CancelToken) -> int:
        before = renderer.vocoded_frames
        hop = renderer.hop_length
        for frame, audio in renderer.stream(mel, version, start_frame, end_frame, progress=progress, cancel=cancel):
            player.overwrite(frame * hop, audio)
        return renderer.vocoded_frames - before

    return job
