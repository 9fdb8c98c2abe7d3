"""The shipped MelNet's 0.5 s fills against linear interpolation (fixed data, fixed seeds; a fill at temperature 0
is deterministic): on the Czech/Dutch test levels when the corpus is prepared, and on unseen English speech (the
alsa-utils clips)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.melnet import evaluate_inpainting, load_model, sample
from vocoder_studio.melnet.sampling import FILL_TEMPERATURE

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "melnet.pt"
GAP = round(0.5 / DEFAULT_CONFIG.frame_seconds)


def _fills(mels: list[np.ndarray]) -> dict[str, float]:
    model = load_model(SHIPPED)
    assert model.fill is not None
    return evaluate_inpainting(model, mels, GAP, temperature=FILL_TEMPERATURE, seed=0, floor=DEFAULT_CONFIG.floor_ln)


def _test_pack_mels(count: int = 40, max_seconds: float = 6.0) -> list[np.ndarray]:
    """Mels of ``count`` clips spread evenly over the corpus's test pack, each cut to ``max_seconds`` (the clips
    scripts/melnet_inpaint.py measures); skips when the corpus is not prepared."""
    from vocoder_studio.training import corpus

    path = corpus.pack_path("test")
    if not path.is_file():
        pytest.skip(f"{path}: no corpus test pack (vocoder-studio data prepare)")
    pack = corpus.Pack.load(path)
    picks = np.linspace(0, len(pack) - 1, num=min(count, len(pack))).astype(int)
    return [wav_to_mel(pack.clip(int(i))[: int(max_seconds * pack.sample_rate)]) for i in picks]


def test_the_shipped_fill_beats_linear_interpolation_on_the_test_levels() -> None:
    """Measured 0.740 against 0.758, edges 0.15x the natural frame-to-frame change (the tiers' fill of the same
    weights: 0.964, edges 1.40x)."""
    mels = _test_pack_mels()
    result = _fills(mels)
    assert result["clips"] == 40
    assert result["fill_l1"] < result["linear_l1"], result
    assert result["fill_edge_l1"] < 1.5 * result["natural_l1"], result


def test_the_shipped_fill_beats_linear_interpolation_on_unseen_english(speech_files: list[Path]) -> None:
    """Measured 3.242 against 3.257, edges 0.12x (the tiers' fill of the same weights: 2.92, edges 1.56x: these
    clips hold a pause between two words in the gap, and the tiers drift into silence)."""
    mels = [wav_to_mel(load_audio(p)) for p in speech_files]
    result = _fills(mels)
    assert result["clips"] == len(mels) >= 8
    assert result["fill_edge_l1"] < 1.5 * result["natural_l1"], result
    assert result["fill_l1"] < result["linear_l1"], result


@pytest.mark.parametrize("seed", [0, 5])
def test_a_shipped_fill_at_temperature_zero_is_the_same_whatever_the_seed(speech_mel: np.ndarray, seed: int) -> None:
    model = load_model(SHIPPED)
    a = sample(model, source=speech_mel[:, :200], inpaint=(80, 123), temperature=FILL_TEMPERATURE, seed=seed)
    b = sample(model, source=speech_mel[:, :200], inpaint=(80, 123), temperature=FILL_TEMPERATURE, seed=seed + 1)
    assert np.array_equal(a, b)
