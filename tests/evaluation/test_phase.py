"""The Phase view's figures: instantaneous frequency of a known tone, and Griffin-Lim's convergence curve."""

from __future__ import annotations

import numpy as np
import pytest

from vocoder_studio.audio.mel import DEFAULT_CONFIG as C
from vocoder_studio.evaluation.phase import instantaneous_frequency, phase_coherence
from vocoder_studio.vocoders.griffin_lim import GriffinLim


def test_a_tone_off_its_bin_centre_shows_its_offset_in_hz() -> None:
    centre = 40 * C.sample_rate / C.n_fft  # bin 40: 861.3 Hz
    t = np.arange(C.sample_rate) / C.sample_rate
    deviation = instantaneous_frequency((0.5 * np.sin(2 * np.pi * (centre + 10.0) * t)).astype(np.float32))
    assert deviation.shape == (C.n_fft // 2 + 1, C.sample_rate // C.hop_length)
    assert np.nanmedian(deviation[40, 5:-5]) == pytest.approx(10.0, abs=0.5)
    assert np.isnan(deviation[400]).all()  # nothing at 8.6 kHz: blank, not noise
    assert phase_coherence(deviation, deviation) == 0.0


def test_griffin_lim_convergence_falls_and_pghi_starts_lower(speech_mel: np.ndarray) -> None:
    mel = speech_mel[:, :200]
    random = GriffinLim(iterations=8, init="random").spectral_convergence(mel)
    pghi = GriffinLim(iterations=8, init="pghi").spectral_convergence(mel)
    assert random.shape == pghi.shape == (9,)
    assert random[-1] < 0.8 * random[0] and pghi[0] < 0.8 * random[0] and pghi[-1] < random[-1]


def test_eval_and_bench_score_griffin_lim_32_beside_the_defaults() -> None:
    from vocoder_studio.evaluation.evaluate import ready_vocoders

    labels = [spec.label for spec in ready_vocoders()]
    assert "griffin-lim" in labels and "griffin-lim:init=random:iterations=32" in labels
    assert labels.index("griffin-lim") < labels.index("griffin-lim:init=random:iterations=32")
