"""A model that ``train --export`` (or ``train melnet --merge-tiers RUN... --export DIR``) writes loads through the
commands that use it (issue 19: the shipped card once had a score the reader refused, so ``generate`` exited 2):
the card is checked by the reader when it is written, and a card that would not load stops the export before
anything is written."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.cli import main
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.melnet import MelNetConfig, load_model
from vocoder_studio.training import run
from vocoder_studio.training.corpus import Pack
from vocoder_studio.training.melnet_trainer import MelNetTrainer
from vocoder_studio.training.recipes import MelNetRecipe
from vocoder_studio.training.trainer import TrainSettings
from vocoder_studio.vocoders.checkpoints import ModelCard

CONFIG = MelNetConfig(n_tiers=2, layers=(1, 1), hidden=8, mixtures=2)
SETTINGS = TrainSettings(batch_size=2, segment_samples=32 * DEFAULT_CONFIG.hop_length, learning_rate=3e-3,
                         validate_every=0, valid_clips=2, grad_clip=1.0)


@pytest.fixture(autouse=True)
def _one_thread() -> Any:
    before = torch.get_num_threads()
    torch.set_num_threads(1)  # MelNet's tiny ops (tests/melnet/conftest.py)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="module")
def packs(speech: np.ndarray) -> tuple[Pack, Pack]:
    audio = np.round(speech * 32767).astype(np.int16)
    half = audio.size // 2
    return (Pack(audio[:half], np.array([0, half // 3, half]), DEFAULT_CONFIG.sample_rate),
            Pack(audio[half:], np.array([0, audio.size - half]), DEFAULT_CONFIG.sample_rate))


def _trainer(packs: tuple[Pack, Pack], folder: Path, tier: int | None = None) -> MelNetTrainer:
    trainer = MelNetTrainer(MelNetRecipe(model_config=CONFIG, tier=tier), *packs, folder, SETTINGS)
    trainer.run(steps=2)
    return trainer


def _generate_with_the_models_in(folder: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                 capsys: pytest.CaptureFixture[str]) -> np.ndarray:
    """``generate`` without ``--model``: melnet.pt is looked up in ``folder`` and its card checked, as a user's."""
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(folder))
    out = tmp_path / "new.npy"
    status = main(["generate", "-o", str(out), "--seconds", "0.1", "--seed", "1"])
    assert status == 0, capsys.readouterr().err
    return np.load(out)


def test_an_exported_melnet_loads_through_generate(packs: tuple[Pack, Pack], tmp_path: Path,
                                                   monkeypatch: pytest.MonkeyPatch,
                                                   capsys: pytest.CaptureFixture[str]) -> None:
    models = tmp_path / "models"
    models.mkdir()
    trainer = _trainer(packs, tmp_path / "run")
    checkpoint, card = run.export("melnet", trainer, torch.device("cpu"), models)
    assert ModelCard.load(card).name == "melnet" and load_model(checkpoint).config == CONFIG
    mel = _generate_with_the_models_in(models, tmp_path, monkeypatch, capsys)
    assert mel.shape == (DEFAULT_CONFIG.n_mels, round(0.1 / DEFAULT_CONFIG.frame_seconds)) and np.isfinite(mel).all()


def test_merged_tiers_load_through_generate(packs: tuple[Pack, Pack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
                                            capsys: pytest.CaptureFixture[str]) -> None:
    runs = [tmp_path / f"tier{t}" for t in (1, 2)]
    for tier, folder in enumerate(runs, start=1):
        _trainer(packs, folder, tier)
    models = tmp_path / "models"
    models.mkdir()
    assert main(["train", "melnet", "--merge-tiers", *map(str, runs), "--export", str(models)]) == 0
    card = json.loads((models / "melnet.json").read_text())
    assert card["tier_steps"] == [2, 2] and set(card["scores"]) == {"nll_tier1", "nll_tier2"}
    mel = _generate_with_the_models_in(models, tmp_path, monkeypatch, capsys)
    assert np.isfinite(mel).all()


def test_a_card_that_would_not_load_stops_the_export_before_anything_is_written(
        packs: tuple[Pack, Pack], tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    trainer = _trainer(packs, tmp_path / "run")
    models = tmp_path / "models"
    models.mkdir()
    real = run.card_fields

    def with_a_text_score(trainer: Any, device: torch.device) -> dict[str, Any]:
        fields = real(trainer, device)
        return {**fields, "scores": {**fields["scores"], "note": "a text is not a score"}}

    monkeypatch.setattr(run, "card_fields", with_a_text_score)
    with pytest.raises(VocoderStudioError, match=r"melnet\.json: model card field 'scores'"):
        run.export("melnet", trainer, torch.device("cpu"), models)
    assert list(models.iterdir()) == []  # neither the checkpoint nor the card
