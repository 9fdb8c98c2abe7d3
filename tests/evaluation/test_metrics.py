"""The scores on pairs whose answer is known: identical, delayed, noise, a pitch-shifted harmonic tone."""

from __future__ import annotations

import numpy as np
import pytest

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.evaluation import metrics

SR = DEFAULT_CONFIG.sample_rate


def harmonic_tone(f0: float, seconds: float = 1.5, harmonics: int = 8) -> np.ndarray:
    """A voiced-like tone: ``harmonics`` partials of ``f0`` with 1/k amplitudes, faded in and out."""
    t = np.arange(int(seconds * SR)) / SR
    tone = sum(np.sin(2 * np.pi * k * f0 * t) / k for k in range(1, harmonics + 1))
    fade = np.minimum(1.0, np.minimum(t, t[-1] - t) / 0.05)
    return (0.3 * tone * fade).astype(np.float32)


@pytest.fixture(scope="module")
def clip(speech: np.ndarray) -> np.ndarray:
    return speech[: 3 * SR]


def test_identical_signals_score_perfectly(clip: np.ndarray) -> None:
    assert metrics.pesq_wb(clip, clip) > 4.5
    assert metrics.stoi(clip, clip) > 0.999
    assert metrics.log_mel_l1(clip, clip) == pytest.approx(0.0, abs=1e-6)
    sc, mag = metrics.mrstft_distances(clip, clip)
    assert sc == pytest.approx(0.0, abs=1e-6) and mag == pytest.approx(0.0, abs=1e-6)
    rmse, f1 = metrics.f0_scores(clip, clip)
    assert rmse == pytest.approx(0.0, abs=1e-6) and f1 == 1.0


def test_a_delayed_copy_is_aligned_and_scores_as_identical(clip: np.ndarray) -> None:
    delay = 300
    late = np.concatenate([np.zeros(delay, np.float32), clip])[: clip.size]
    _, _, lag = metrics.align(clip, late)
    assert lag == delay
    sc, _ = metrics.mrstft_distances(clip, late)
    assert sc < 0.01
    assert metrics.log_mel_l1(clip, late) < 0.01
    assert metrics.pesq_wb(clip, late) > 4.4


def test_white_noise_scores_low(clip: np.ndarray) -> None:
    noise = np.random.default_rng(0).normal(0, 0.1, clip.size).astype(np.float32)
    assert metrics.pesq_wb(clip, noise) < 1.5
    assert metrics.stoi(clip, noise) < 0.6  # STOI clips the noise to the speech envelope: ~0.5, not 0
    sc, mag = metrics.mrstft_distances(clip, noise)
    assert sc > 0.9 and mag > 1.0
    assert metrics.log_mel_l1(clip, noise) > 1.0
    _, f1 = metrics.f0_scores(clip, noise)
    assert f1 < 0.5


def test_f0_of_a_pitch_shifted_tone_is_off_by_the_shift_in_cents() -> None:
    shift = 50.0  # cents
    low = harmonic_tone(200.0)
    high = harmonic_tone(200.0 * 2 ** (shift / 1200))
    f0, voiced = metrics.f0_track(low)
    assert voiced.mean() > 0.8 and np.nanmedian(f0) == pytest.approx(200.0, rel=0.01)
    rmse, f1 = metrics.f0_scores(low, high)
    assert rmse == pytest.approx(shift, abs=8.0)
    assert f1 > 0.95
    assert metrics.f0_scores(low, low)[0] < 2.0


def test_voicing_hears_a_voice_in_speech_and_none_in_noise(clip: np.ndarray) -> None:
    voiced, median = metrics.voicing(clip)
    assert 0.3 < voiced < 0.95 and 60.0 < median < 400.0  # three seconds of spoken channel names
    noise = np.random.default_rng(0).normal(0, 0.1, clip.size).astype(np.float32)
    voiced, median = metrics.voicing(noise)
    assert voiced < 0.05


def test_voicing_pools_two_second_windows_and_finds_the_pitch() -> None:
    tone = np.concatenate([harmonic_tone(150.0, 2.0), harmonic_tone(150.0, 1.6)])  # a last window of 1.6 s
    voiced, median = metrics.voicing(tone)
    assert voiced > 0.8 and median == pytest.approx(150.0, rel=0.02)
    assert metrics.voicing(np.zeros(SR, np.float32)) == (0.0, pytest.approx(float("nan"), nan_ok=True))
