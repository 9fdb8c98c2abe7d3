"""Solo the selected band: the rendered audio holds the band and little else (Griffin-Lim, real speech)."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, wav_to_mel
from vocoder_studio.document import Region, open_document
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.solo import PlaySource, is_band_selection, solo_band
from vocoder_studio.paths import example_path
from vocoder_studio.vocoders.choice import VocoderChoice
from vocoder_studio.vocoders.registry import create_vocoder


def _band_energy_ratio_db(mel: np.ndarray, band0: int, band1: int) -> float:
    """Energy of the mel's bands [band0, band1) over that of all the others, in dB."""
    power = np.exp(mel.astype(np.float64)) ** 2
    inside = power[band0:band1].sum()
    return float(10 * np.log10(inside / (power.sum() - inside)))


def test_a_solo_band_renders_far_louder_inside_the_band_than_outside() -> None:
    doc = open_document(example_path())
    sel = Region(100, 400, 20, 40)  # 2.3 s × about 700–1700 Hz of speech
    original = _band_energy_ratio_db(doc.mel[:, 100:400], 20, 40)
    mel = solo_band(doc.mel.copy(), sel, DEFAULT_CONFIG.floor_ln)
    torch.set_num_threads(1)
    audio = create_vocoder("griffin-lim", iterations=32).vocode(torch.from_numpy(mel[:, 80:420])).numpy()
    heard = wav_to_mel(audio)[:, 20:320]  # the selection's frames
    soloed = _band_energy_ratio_db(heard, 20, 40)
    assert original < 0.0  # in the speech itself the rest of the spectrum is louder than this band
    assert soloed > 25.0  # measured 36.6 dB


def test_the_edges_fade_and_full_band_selections_are_not_solos() -> None:
    mel = np.zeros((80, 50), np.float32)
    out = solo_band(mel, Region(10, 40, 20, 40), DEFAULT_CONFIG.floor_ln)
    assert out[30, 25] == pytest.approx(0.0, abs=1e-6)  # inside: unchanged
    assert out[10, 25] == pytest.approx(DEFAULT_CONFIG.floor_ln)  # outside: silence
    assert DEFAULT_CONFIG.floor_ln < out[20, 25] < out[21, 25] < 0.0  # a ramp at the band's edge
    assert DEFAULT_CONFIG.floor_ln < out[30, 10] < out[30, 11] < 0.0  # and at the start in time
    assert not is_band_selection(Region(10, 40, 0, 80), 80) and is_band_selection(Region(10, 40, 0, 79), 80)


def test_the_play_source_solos_only_when_asked() -> None:
    doc = open_document(example_path())
    source, choice = PlaySource(RenderCache()), VocoderChoice.make("griffin-lim", "cpu", iterations=2)
    doc.selection = Region(100, 200, 10, 30)
    mel, version, _ = source.prepare(doc, choice)
    assert version is None and mel[5, 150] == pytest.approx(DEFAULT_CONFIG.floor_ln)
    source.solo = False  # the old behaviour: the whole spectrum over the selected time
    mel, version, _ = source.prepare(doc, choice)
    assert version == doc.version and np.array_equal(mel, doc.mel)
