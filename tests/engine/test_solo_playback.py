"""Solo the selected band, heard: the transport's play source streamed through the Player into a PulseAudio
null sink, and its monitor recorded; the recording holds the band and little else."""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pytest

from vocoder_studio.audio.mel import wav_to_mel
from vocoder_studio.document import Document, Region
from vocoder_studio.engine import CancelToken, run_job
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.playback import play_job
from vocoder_studio.engine.player import Player
from vocoder_studio.engine.solo import PlaySource
from vocoder_studio.vocoders.choice import VocoderChoice

from .conftest import record_sink, stop_recording

pytestmark = pytest.mark.playback


def _band_ratio_db(mel: np.ndarray, band0: int, band1: int) -> float:
    power = np.exp(mel.astype(np.float64)) ** 2
    inside = power[band0:band1].sum()
    return float(10 * np.log10(inside / (power.sum() - inside)))


def test_a_solo_band_is_what_the_sink_hears(null_sink: None, example_mel: np.ndarray,  # noqa: F811
                                            tmp_path: Path) -> None:
    doc = Document(example_mel)
    doc.selection = Region(100, 360, 20, 40)  # 3 s × about 700–1700 Hz
    source = PlaySource(RenderCache())
    mel, version, renderer_of = source.prepare(doc, VocoderChoice.make("griffin-lim", "cpu", iterations=16))
    renderer = renderer_of()
    renderer.render(mel, version, 100, 360)  # cached: the sink hears it without gaps
    recording = tmp_path / "monitor.raw"
    recorder = record_sink(recording)
    time.sleep(0.3)
    player = Player(sample_rate=22050)
    run_job(play_job(renderer, player, mel, version, 100, 360), cancel=CancelToken())
    assert player.wait(timeout=15), "playback did not finish"
    recorded = stop_recording(recorder, recording, 0.4)
    loud = np.flatnonzero(np.abs(recorded) > 1e-3)
    assert loud.size > 22050, "the sink heard almost nothing"
    heard = wav_to_mel(recorded[loud[0] : loud[-1]].copy())
    ratio = _band_ratio_db(heard, 20, 40)
    print(f"solo band heard on the sink: {ratio:.1f} dB more energy inside the band than outside")
    assert ratio > 20.0
    assert _band_ratio_db(doc.mel[:, 100:360], 20, 40) < 0.0  # the whole spectrum would not pass
