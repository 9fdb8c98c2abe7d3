"""Preview-then-replace playback (engine/preview.py) with the real iSTFT preview and a real vocoder made slow.

PortAudio's side is a clock: a thread that calls the player's callback every block at the real rate and keeps
what it played, so these tests run without a sound server and see every sample that would have been heard
(the null-sink recording is tests/engine/test_playback.py's).
"""

from __future__ import annotations

import threading
import time
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest

from vocoder_studio.document import Document, Region
from vocoder_studio.editing import apply_gain
from vocoder_studio.engine import CancelToken, Renderer, run_job
from vocoder_studio.engine.playback import play_job, update_job
from vocoder_studio.engine.player import Player
from vocoder_studio.engine.preview import JOIN_CHUNKS, join_frame, lead_seconds
from vocoder_studio.engine.preview_takes import MIXED, PREVIEW, SLOW, PreviewTakes
from vocoder_studio.vocoders import create_vocoder
from vocoder_studio.vocoders.registry import PREVIEW_PARAMS, PREVIEW_VOCODER, preview_vocoder

from ..conftest import require
from .conftest import Slowed


class _CallbackStop(Exception):
    pass


class ClockedStream:
    """An output stream that plays to nowhere at the real rate: ``played`` holds every block it took."""

    made: list[ClockedStream] = []

    def __init__(self, samplerate: int, channels: int, dtype: str, device: Any, blocksize: int, latency: Any,
                 callback: Any = None, finished_callback: Any = None) -> None:
        self.samplerate, self.blocksize = samplerate, blocksize or 512
        self.callback, self.finished_callback = callback, finished_callback
        self.played: list[np.ndarray] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        ClockedStream.made.append(self)

    def start(self) -> None:
        self._thread.start()

    def _run(self) -> None:
        period = self.blocksize / self.samplerate
        began, k = time.perf_counter(), 0
        while not self._stop.is_set():
            out = np.zeros((self.blocksize, 1), np.float32)
            try:
                self.callback(out, self.blocksize, None, None)
            except _CallbackStop:
                self.played.append(out[:, 0].copy())
                break
            self.played.append(out[:, 0].copy())
            k += 1
            time.sleep(max(0.0, began + k * period - time.perf_counter()))
        if self.finished_callback is not None:
            self.finished_callback()

    def abort(self) -> None:
        self._stop.set()
        if threading.current_thread() is not self._thread and self._thread.is_alive():
            self._thread.join(timeout=5)

    def close(self) -> None:
        pass

    def audio(self) -> np.ndarray:
        return np.concatenate(self.played) if self.played else np.zeros(0, np.float32)


@pytest.fixture
def clocked(monkeypatch: pytest.MonkeyPatch) -> type[ClockedStream]:
    from vocoder_studio.engine import player

    fake = SimpleNamespace(OutputStream=ClockedStream, CallbackStop=_CallbackStop)
    monkeypatch.setattr(player, "sounddevice_module", lambda: fake)
    monkeypatch.setattr(player, "playback_status", lambda: None)
    ClockedStream.made = []
    return ClockedStream


@pytest.fixture(scope="module")
def istft() -> Any:
    require(preview_vocoder() == PREVIEW_VOCODER, "the iSTFT vocoder's model is not installed")
    return create_vocoder(PREVIEW_VOCODER, **PREVIEW_PARAMS)


def _runs(labels: np.ndarray) -> list[tuple[int, int, int]]:
    edges = np.flatnonzero(np.diff(labels)) + 1
    starts, ends = np.concatenate([[0], edges]), np.concatenate([edges, [labels.size]])
    return [(int(a), int(b), int(labels[a])) for a, b in zip(starts, ends, strict=True)]


def _played_from_buffer(stream: ClockedStream, buffer: np.ndarray) -> int:
    """Where the buffer starts in what the stream played (after the blocks held silent); asserts that it
    played the whole buffer, sample for sample, with nothing missing (an underrun would insert silence)."""
    played = stream.audio()
    for k in range(0, played.size - buffer.size + 1, stream.blocksize):
        if np.array_equal(played[k : k + buffer.size], buffer):
            assert not np.any(played[:k]), "sound before the buffer"
            return k
    raise AssertionError("the stream did not play the buffer as written")


def test_a_slow_vocoder_starts_on_the_preview_and_its_take_replaces_it_ahead_of_the_playhead(
        clocked: type[ClockedStream], istft: Any, example_mel: np.ndarray) -> None:
    mel = example_mel[:, :400]  # 4.6 s
    slow = Slowed(create_vocoder("griffin-lim", iterations=4), rtf=0.5)
    renderer, preview = Renderer(slow), Renderer(istft)
    takes = PreviewTakes(preview)
    player = Player(22050, blocksize=512)
    pressed = time.perf_counter()
    fed = run_job(play_job(renderer, player, mel, 1, preview=takes), cancel=CancelToken())
    assert player.wait(timeout=20)
    player.stop()
    assert takes.active and fed == mel.shape[1] * 256
    assert player.first_sound_time is not None and player.underruns == 0
    assert pressed < player.first_sound_time < slow.calls[0][2], "the preview sounds before the first slow chunk"

    buffer = player.snapshot()
    _played_from_buffer(clocked.made[-1], buffer)
    slow_take = renderer.render(mel, 1)  # all cached now: the late chunks and the skipped frames too
    preview_take = preview.render(mel, 1)
    assert len(renderer.timings) and renderer.is_complete()
    labels = takes.labels()
    runs = _runs(labels)
    assert runs[0][2] == PREVIEW and runs[-1][2] == SLOW, "preview first, the slow take once it keeps ahead"
    assert takes.joined_at is not None and takes.spliced
    assert takes.slow_heard_after_s() == takes.joined_at / 22050  # the playback started at sample 0
    assert takes.slow_share() == pytest.approx(np.mean(labels == SLOW)) and 0.0 < takes.slow_share() < 1.0
    for a, b, take in runs:
        if take == SLOW:
            np.testing.assert_array_equal(buffer[a:b], slow_take[a:b])
        elif take == PREVIEW:
            np.testing.assert_array_equal(buffer[a:b], preview_take[a:b])
        else:  # a crossfade: each sample between the two takes, no longer than a fade (two where the playhead
            # was inside a fade back to the preview when the next slow chunk came: it fades in again from there)
            assert take == MIXED and b - a <= 2 * takes.crossfade, (a, b)
            lo, hi = np.minimum(slow_take[a:b], preview_take[a:b]), np.maximum(slow_take[a:b], preview_take[a:b])
            assert np.all(buffer[a:b] >= lo - 1e-6) and np.all(buffer[a:b] <= hi + 1e-6)
    assert any(take == MIXED for _, _, take in runs), "the take changes with a crossfade"

    again = PreviewTakes(Renderer(istft))  # the next press finds the slow take cached: no preview
    run_job(play_job(renderer, player, mel, 1, preview=again), cancel=CancelToken())
    assert player.wait(timeout=20)
    player.stop()
    assert not again.active and again.slow_share() == 1.0  # its own take throughout
    np.testing.assert_array_equal(player.snapshot(), slow_take)


def test_a_fast_vocoder_is_not_previewed_once_timed(clocked: type[ClockedStream], istft: Any,
                                                   example_mel: np.ndarray) -> None:
    mel = example_mel[:, :120]
    renderer = Renderer(create_vocoder("griffin-lim", iterations=2))
    renderer.render(mel[:, :60], 1)  # timed: far faster than 0.5 x real time
    takes = PreviewTakes(Renderer(istft))
    player = Player(22050)
    run_job(play_job(renderer, player, mel, 2, preview=takes), cancel=CancelToken())
    assert player.wait(timeout=10)
    player.stop()
    assert not takes.active and player.underruns == 0
    np.testing.assert_array_equal(player.snapshot(), renderer.render(mel, 2))


def test_an_edit_is_heard_from_the_preview_first_then_the_slow_vocoder(
        clocked: type[ClockedStream], istft: Any, example_mel: np.ndarray) -> None:
    doc = Document(example_mel[:, :200])
    slow = Slowed(create_vocoder("griffin-lim", iterations=4), rtf=0.8)
    fast = Slowed(istft, rtf=0.0)  # logs its calls
    renderer, preview = Renderer(slow), Renderer(fast)
    takes = PreviewTakes(preview)
    player = Player(22050)
    run_job(play_job(renderer, player, doc.mel, doc.version, 40, 140, loop=True, preview=takes),
            cancel=CancelToken())
    try:
        assert takes.active and player.is_playing
        apply_gain(doc, Region(90, 110, 0, 80), -40.0)
        slow_calls, fast_calls = len(slow.calls), len(fast.calls)
        run_job(update_job(renderer, player, doc.mel, doc.version, 40, 140, preview=takes), cancel=CancelToken())
        assert fast_calls < len(fast.calls) and slow_calls < len(slow.calls)
        assert fast.calls[fast_calls][2] < slow.calls[slow_calls][2], "the fast vocoder answers the edit first"
        heard = player.snapshot()
        new = renderer.render(doc.mel, doc.version, 40, 140)
        # the slow take throughout, both passes, but for a fade where the playhead was at a write
        differs = np.flatnonzero(heard != new)
        fades = np.split(differs, np.flatnonzero(np.diff(differs) > takes.crossfade) + 1) if differs.size else []
        assert len(fades) <= 3 and all(f[-1] - f[0] < takes.crossfade for f in fades)
        quiet = heard[(95 - 40) * 256 : (105 - 40) * 256]
        assert np.sqrt(np.mean(quiet**2)) < 0.02
        assert player.underruns == 0
    finally:
        player.stop()


def test_join_frame_is_where_every_chunk_is_predicted_in_time() -> None:
    renderer = Renderer(create_vocoder("griffin-lim", iterations=2))
    assert join_frame(renderer, 10, 300, 24, 256, playhead=50) == (10, 24)  # never timed: in order
    c, frame_s = renderer.vocoder.receptive_field_frames, 256 / 22050
    cold = (24 + 2 * c, (24 + 2 * c) * frame_s * 3.0)  # the first chunk paid the set-up: left out
    renderer.timings = [cold, *[(n + 2 * c, (n + 2 * c) * frame_s * 0.8) for n in (30, 37, 46)]]
    join, size = join_frame(renderer, 10, 10_000, 24, 256, playhead=50, margin=1.0)
    assert size in JOIN_CHUNKS
    lead = lead_seconds(renderer, size, 256, margin=1.0)
    assert 50 + lead / frame_s <= join < 50 + lead / frame_s + 1  # just in time, for every chunk ahead
    # 0.8 x real time per frame computed, with 2c context frames per chunk: each chunk must be big to keep up
    assert lead_seconds(renderer, 24, 256, margin=1.0) > lead > (size + 2 * c) * frame_s * 0.8 - 1e-9
    assert join_frame(renderer, join + 100, 10_000, 24, 256, playhead=50, margin=1.0) == (join + 100, 24)


def test_a_vocoder_not_built_yet_is_built_beside_the_preview_which_never_starves_while_it_waits(
        clocked: type[ClockedStream], istft: Any, example_mel: np.ndarray) -> None:
    """The play job gets a function that builds the slow vocoder (here it takes longer than the preview is fed
    ahead, as WaveNet's first chunk does): the preview sounds first, is fed on meanwhile with no gap, and the
    slow take still replaces it sample-aligned where it comes in time."""
    mel = example_mel[:, :770]  # 8.9 s
    slow = Slowed(create_vocoder("griffin-lim", iterations=4), rtf=0.3)
    built: list[float] = []

    def build() -> Renderer:
        time.sleep(3.2)  # longer than FEED_AHEAD_S
        built.append(time.perf_counter())
        return Renderer(slow)

    takes = PreviewTakes(Renderer(istft))
    player = Player(22050, blocksize=512)
    run_job(play_job(build, player, mel, 1, preview=takes), cancel=CancelToken())
    assert player.wait(timeout=20)
    player.stop()
    assert player.underruns == 0
    assert player.first_sound_time is not None and player.first_sound_time < built[0]
    buffer = player.snapshot()
    _played_from_buffer(clocked.made[-1], buffer)  # every sample as written: no gap
    labels = takes.labels()
    assert labels[0] == PREVIEW and np.any(labels == SLOW)
    slow_take = Renderer(create_vocoder("griffin-lim", iterations=4)).render(mel, 1)
    for a, b, take in _runs(labels):
        if take == SLOW:
            np.testing.assert_allclose(buffer[a:b], slow_take[a:b], atol=1e-5)


def test_an_edit_posted_while_the_play_job_runs_is_heard_from_the_preview_at_once_then_the_slow_take(
        clocked: type[ClockedStream], istft: Any, example_mel: np.ndarray) -> None:
    doc = Document(example_mel[:, :400])
    slow = Slowed(create_vocoder("griffin-lim", iterations=4), rtf=0.3)
    fast = Slowed(istft, rtf=0.0)  # logs its calls
    renderer, preview = Renderer(slow), Renderer(fast)
    takes = PreviewTakes(preview)
    player = Player(22050)
    job = threading.Thread(target=run_job, args=(play_job(renderer, player, doc.mel.copy(), doc.version,
                                                          preview=takes),))
    job.start()
    try:
        deadline = time.perf_counter() + 10
        while player.position < 22050 // 2 and time.perf_counter() < deadline:
            time.sleep(0.002)
        at = player.position // 256 + 150  # 1.7 s ahead: heard after the edit is answered, however loaded the CPU
        apply_gain(doc, Region(at, at + 40, 0, 80), -40.0)
        fast_calls, slow_calls = len(fast.calls), len(slow.calls)
        assert takes.post_edit(doc.mel.copy(), doc.version)
        job.join(30)
        assert not job.is_alive() and player.wait(timeout=10)
        edit_fast = [c for c in fast.calls[fast_calls:] if c[0] < at + 40 and c[1] > at]
        edit_slow = [c for c in slow.calls[slow_calls:] if c[0] < at + 40 and c[1] > at]
        assert edit_fast and edit_slow and edit_fast[0][2] < edit_slow[0][2], "the preview answers first"
        assert player.underruns == 0
        heard = player.snapshot()
        quiet = heard[(at + 5) * 256 : (at + 35) * 256]
        assert np.sqrt(np.mean(quiet**2)) < 0.02, "the edit is in the sound"
        np.testing.assert_allclose(renderer.render(doc.mel, doc.version)[at * 256 : (at + 40) * 256],
                                   Renderer(create_vocoder("griffin-lim", iterations=4)).render(doc.mel)[
                                       at * 256 : (at + 40) * 256], atol=1e-5)  # the cache holds the edit
    finally:
        player.stop()
        job.join(10)
