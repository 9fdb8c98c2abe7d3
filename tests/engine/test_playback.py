"""Real playback through the app's Player into a PulseAudio null sink, recorded from its monitor."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from vocoder_studio.document import Document
from vocoder_studio.engine import CancelToken, Renderer, run_job
from vocoder_studio.engine.playback import play_job
from vocoder_studio.engine.player import Player

from ..conftest import require
from .conftest import Slowed, record_sink, stop_recording

pytestmark = pytest.mark.playback


def _best_lag(sent: np.ndarray, recorded: np.ndarray) -> int:
    """Where ``sent`` starts in ``recorded`` (samples): the peak of their cross-correlation."""
    n = len(sent) + len(recorded)
    size = 1 << (n - 1).bit_length()
    corr = np.fft.irfft(np.fft.rfft(recorded, size) * np.conj(np.fft.rfft(sent, size)), size)
    return int(np.argmax(np.abs(corr[: len(recorded)])))


def _peak_correlation(sent: np.ndarray, recorded: np.ndarray) -> float:
    best = _best_lag(sent, recorded)
    segment = recorded[best : best + len(sent)]
    m = min(len(segment), len(sent))
    a, b = sent[:m], segment[:m]
    return float(np.dot(a, b) / (np.linalg.norm(a) * np.linalg.norm(b) + 1e-12))


def test_vocoded_clip_plays_through_the_sink(null_sink: None, example_mel: np.ndarray, tmp_path: Path) -> None:
    from vocoder_studio.vocoders import create_vocoder

    doc = Document(example_mel[:, :260])  # 3 s of the example
    renderer = Renderer(create_vocoder("griffin-lim", iterations=16))
    sent = renderer.render(doc.mel, doc.version)  # cached: playing it streams from the cache
    recording = tmp_path / "monitor.raw"
    recorder = record_sink(recording)
    time.sleep(0.3)
    player = Player(sample_rate=22050)
    job = play_job(renderer, player, doc.mel, doc.version)
    fed = run_job(job, cancel=CancelToken())
    assert fed == len(sent)
    assert player.wait(timeout=10), "playback did not finish"
    recorded = stop_recording(recorder, recording, 0.4)
    assert player.position == len(sent), "the playhead did not reach the end"
    assert player.first_sound_time is not None and player.underruns == 0  # cached audio: no gap
    assert len(recorded) > len(sent)
    assert _peak_correlation(sent, recorded) > 0.9


def test_stop_while_streaming_and_underruns_do_not_crash(null_sink: None, example_mel: np.ndarray) -> None:
    from vocoder_studio.vocoders import create_vocoder

    renderer = Renderer(create_vocoder("griffin-lim", iterations=64))
    player = Player(sample_rate=22050, blocksize=256)
    token = CancelToken()
    job = play_job(renderer, player, example_mel, None, first_chunk_frames=8, chunk_frames=128)

    def cancel_soon(fraction: float, message: str) -> None:
        if fraction > 0.3:
            token.cancel()

    with pytest.raises(Exception, match="cancelled"):
        job(cancel_soon, token)
    assert not player.is_playing
    assert player.position < example_mel.shape[1] * 256


def test_loop_plays_the_selection_again_until_stopped(null_sink: None, example_mel: np.ndarray) -> None:
    from vocoder_studio.vocoders import create_vocoder

    renderer = Renderer(create_vocoder("griffin-lim", iterations=4))
    player = Player(sample_rate=22050)
    job = play_job(renderer, player, example_mel, None, start_frame=100, end_frame=130, loop=True)  # 0.35 s
    run_job(job, cancel=CancelToken())
    deadline = time.time() + 5
    while player.loops < 2 and time.time() < deadline:
        time.sleep(0.05)
    assert player.loops >= 2 and player.is_playing
    assert 100 * 256 <= player.position <= 130 * 256
    player.stop()
    assert not player.is_playing


def test_an_edit_during_a_loop_is_heard_on_the_next_pass(null_sink: None, example_mel: np.ndarray) -> None:
    from vocoder_studio.document import Region
    from vocoder_studio.editing import apply_gain
    from vocoder_studio.engine.playback import update_job
    from vocoder_studio.vocoders import create_vocoder

    doc = Document(example_mel[:, :300])
    renderer = Renderer(create_vocoder("griffin-lim", iterations=4))
    player = Player(sample_rate=22050)
    run_job(play_job(renderer, player, doc.mel, doc.version, 100, 160, loop=True), cancel=CancelToken())
    try:
        apply_gain(doc, Region(120, 140, 0, 80), -40.0)
        revocoded = run_job(update_job(renderer, player, doc.mel, doc.version, 100, 160), cancel=CancelToken())
        assert revocoded == 20 + 2 * renderer.vocoder.receptive_field_frames
        assert player.is_playing, "the loop goes on while the edit is re-vocoded"
        np.testing.assert_array_equal(player.snapshot(), renderer.render(doc.mel, doc.version, 100, 160))
        quiet = player.snapshot()[(125 - 100) * 256 : (135 - 100) * 256]
        assert np.sqrt(np.mean(quiet**2)) < 0.02
    finally:
        player.stop()


def test_preview_then_replace_plays_without_a_gap_and_the_slow_take_sample_aligned(
        null_sink: None, example_mel: np.ndarray, tmp_path: Path) -> None:
    """A slow vocoder's playback starts on the iSTFT preview and the slow take replaces it: the sink hears the
    player's buffer exactly (no dropout anywhere in its envelope), and where the slow take was spliced in, the
    recording is the slow vocoder's audio sample for sample."""
    from vocoder_studio.engine.preview_takes import SLOW, PreviewTakes
    from vocoder_studio.vocoders import create_vocoder
    from vocoder_studio.vocoders.registry import PREVIEW_PARAMS, PREVIEW_VOCODER, preview_vocoder

    require(preview_vocoder() == PREVIEW_VOCODER, "the iSTFT vocoder's model is not installed")
    mel = example_mel[:, :400]  # 4.6 s
    renderer = Renderer(Slowed(create_vocoder("griffin-lim", iterations=4), rtf=0.5))
    takes = PreviewTakes(Renderer(create_vocoder(PREVIEW_VOCODER, **PREVIEW_PARAMS)))
    recording = tmp_path / "monitor.raw"
    recorder = record_sink(recording)
    time.sleep(0.3)
    # a large device buffer: on a loaded 2-core machine PortAudio's thread itself can miss a low-latency
    # deadline (ALSA reports an xrun), which is not the schedule's gap (that is ``underruns``, asserted 0)
    player = Player(sample_rate=22050, blocksize=1024, latency="high")
    run_job(play_job(renderer, player, mel, 1, preview=takes), cancel=CancelToken())
    assert player.wait(timeout=20), "playback did not finish"
    recorded = stop_recording(recorder, recording, 0.4)
    sent = player.snapshot()
    assert takes.active and player.underruns == 0 and sent.size == mel.shape[1] * 256
    labels = takes.labels()
    assert labels[0] != SLOW and labels[-1] == SLOW, "the preview first, then the slow take"

    lag = _best_lag(sent, recorded)
    heard = recorded[lag : lag + sent.size]
    assert heard.size == sent.size, "the recording stopped early"
    # the stream's last blocks never reach the sink when it stops (0.1-0.13 s, also before this change)
    heard, sent, labels = heard[: -22050 // 4], sent[: -22050 // 4], labels[: -22050 // 4]
    gain = float(np.dot(heard, sent) / np.dot(sent, sent))
    assert 0.9 < gain < 1.1
    np.testing.assert_allclose(heard, gain * sent, atol=2e-3)  # the buffer as written: no gap, no jump
    window = 220  # 10 ms envelopes: wherever the buffer has sound, so has the recording
    env_sent = np.sqrt(np.mean(sent[: sent.size // window * window].reshape(-1, window) ** 2, axis=1))
    env_heard = np.sqrt(np.mean(heard[: heard.size // window * window].reshape(-1, window) ** 2, axis=1))
    loud = env_sent > 1e-3
    assert np.all(env_heard[loud] > 0.5 * env_sent[loud]), "a dropout"
    slow_take = renderer.render(mel, 1)[: sent.size]
    replaced = labels == SLOW
    assert replaced.sum() > 22050 // 2
    np.testing.assert_allclose(heard[replaced], gain * slow_take[replaced], atol=2e-3)
