"""Render-ahead (engine/prerender.py) let go at once when Play is pressed in the middle of its chunk: the preview
sounds while that chunk finishes on render-ahead's own thread, and the chunk is kept and heard, never vocoded twice.

The chunk in flight is held at a gate (a real vocoder whose calls wait until the test opens it), so what happens
while it is in flight is asserted by order, not by timing. The player's side is tests/engine/test_preview.py's
clock.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from vocoder_studio.document import Document
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.jobs import CancelToken, run_job
from vocoder_studio.engine.playback import play_job
from vocoder_studio.engine.player import Player
from vocoder_studio.engine.prerender import render_ahead_job
from vocoder_studio.engine.preview_takes import PREVIEW, SLOW, PreviewTakes
from vocoder_studio.engine.render import Renderer
from vocoder_studio.errors import JobCancelled
from vocoder_studio.vocoders.choice import VocoderChoice

from .test_preview import ClockedStream, _played_from_buffer, _runs, clocked, istft  # noqa: F401 (fixtures)

CHOICE = VocoderChoice.make("griffin-lim", "cpu", iterations=4)


class Gated:
    """A real vocoder whose calls wait until ``gate`` opens; ``entered`` is set by the first call, ``calls`` logs
    ``(start, end)`` of each."""

    def __init__(self, inner: Any) -> None:
        self._inner = inner
        self.gate, self.entered = threading.Event(), threading.Event()
        self.calls: list[tuple[int, int]] = []

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)

    def vocode_range(self, mel: Any, start: int, end: int, context_frames: int | None = None) -> Any:
        self.calls.append((start, end))
        self.entered.set()
        assert self.gate.wait(timeout=120), "the test never opened the gate"
        return self._inner.vocode_range(mel, start, end, context_frames)


def _ahead_in_flight(cache: RenderCache, doc: Document, chunk_frames: int) -> tuple[Gated, list[Any]]:
    """Render-ahead started on a thread of its own (the worker lane), its first chunk held at the gate, then
    cancelled as pressing Play does; returns once the job has ended (what it raised in the list)."""
    renderer = cache.renderer(doc.uid, CHOICE)
    gated = Gated(renderer.vocoder)
    renderer.vocoder = gated
    token, ended = CancelToken(), []

    def lane() -> None:
        try:
            ended.append(run_job(render_ahead_job(cache, doc.uid, CHOICE, doc.mel.copy(), doc.version, 0,
                                                  chunk_frames=chunk_frames), cancel=token))
        except JobCancelled as exc:
            ended.append(exc)

    worker = threading.Thread(target=lane)
    worker.start()
    assert gated.entered.wait(timeout=60)
    token.cancel()
    worker.join(timeout=60)
    assert not worker.is_alive() and not gated.gate.is_set(), "the job let go while its chunk was in flight"
    assert len(ended) == 1 and isinstance(ended[0], JobCancelled)
    return gated, ended


def test_play_pressed_during_a_render_ahead_chunk_starts_on_the_preview_and_keeps_that_chunk(
        clocked: type[ClockedStream], istft: Any, example_mel: np.ndarray) -> None:  # noqa: F811
    doc = Document(example_mel[:, :400])  # 4.6 s
    cache = RenderCache()
    gated, _ = _ahead_in_flight(cache, doc, chunk_frames=256)  # frames [0, 256) in flight: 3 s of audio
    renderer = cache.renderer(doc.uid, CHOICE)

    takes = PreviewTakes(Renderer(istft))
    player = Player(22050, blocksize=512)
    job = threading.Thread(target=run_job, args=(play_job(lambda: cache.renderer(doc.uid, CHOICE), player,
                                                          doc.mel.copy(), doc.version, preview=takes),))
    job.start()  # the lane's next job, as Space submits it
    try:
        deadline = time.perf_counter() + 60
        while player.first_sound_time is None and time.perf_counter() < deadline:
            time.sleep(0.002)
        assert player.first_sound_time is not None, "no sound while the render-ahead chunk was in flight"
        # heard while the chunk is still at the gate, and the slow take waits for it instead of vocoding beside it
        assert not gated.gate.is_set() and gated.calls == [(0, 256)]
        gated.gate.set()
        job.join(60)
        assert not job.is_alive() and player.wait(timeout=30)
    finally:
        gated.gate.set()
        player.stop()
        job.join(10)

    assert player.underruns == 0  # (the preview may have stood down: Griffin-Lim keeps up once the gate opens)
    buffer = player.snapshot()
    assert buffer.size == doc.frames * 256
    _played_from_buffer(clocked.made[-1], buffer)  # every sample as written: nothing dropped, no gap
    labels = takes.labels()
    assert labels[0] == PREVIEW, "the preview is heard first"
    assert takes.renderer is not None
    first = _runs(labels)[0]
    np.testing.assert_array_equal(buffer[: first[1]], takes.renderer.render(doc.mel, doc.version)[: first[1]])
    # nothing vocoded twice: the chunk in flight is the only call over its frames and every frame was made once
    assert [c for c in gated.calls if c[0] < 256] == [(0, 256)]
    assert renderer.vocoded_frames == doc.frames and renderer.is_complete()
    slow_take = renderer.render(doc.mel, doc.version)
    reference = Renderer(gated._inner).render(doc.mel, doc.version)
    np.testing.assert_allclose(slow_take, reference, atol=1e-5)  # the kept chunk is the vocoder's own audio
    # and it is heard, sample-aligned, where it replaced the preview ahead of the playhead
    slow_runs = [(a, b) for a, b, take in _runs(labels) if take == SLOW]
    assert slow_runs and slow_runs[0][0] < 256 * 256, "the chunk vocoded ahead is heard"
    for a, b in slow_runs:
        np.testing.assert_array_equal(buffer[a:b], slow_take[a:b])


def test_the_renderers_next_user_waits_for_the_chunk_in_flight_and_finds_it_cached(example_mel: np.ndarray) -> None:
    """Without the preview (an export, a play of a fast vocoder), the renderer's next user takes it back from
    render-ahead's thread: it gets the chunk in flight from the cache instead of vocoding it again."""
    doc = Document(example_mel[:, :200])
    cache = RenderCache()
    gated, _ = _ahead_in_flight(cache, doc, chunk_frames=64)
    opener = threading.Thread(target=gated.gate.set)
    opener.start()  # whenever: before or while the render below waits for the chunk
    audio = cache.renderer(doc.uid, CHOICE).render(doc.mel, doc.version)
    opener.join()
    assert [c for c in gated.calls if c[0] < 64] == [(0, 64)]
    assert cache.renderer(doc.uid, CHOICE).vocoded_frames == doc.frames
    np.testing.assert_allclose(audio, Renderer(gated._inner).render(doc.mel, doc.version), atol=1e-5)
