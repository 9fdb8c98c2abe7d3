"""Noise injection on MelNet's teacher-forced inputs (`train melnet --input-noise STD`) and warm starts from a
trained model (`train melnet --init CHECKPOINT`)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.cli import main
from vocoder_studio.melnet import MelNet, MelNetConfig, MelNetError, load_model, save_model
from vocoder_studio.melnet import tiers as tiering
from vocoder_studio.melnet.model import gmm_draw, gmm_nll
from vocoder_studio.training.recipes import MelNetRecipe

from .test_tiers_and_ddp import _packs, _weights

CONFIG = MelNetConfig(n_tiers=3, layers=(1, 1, 1), hidden=8, mixtures=2)


@pytest.fixture()
def model(speech_mel: np.ndarray) -> MelNet:
    torch.manual_seed(0)
    net = MelNet(CONFIG)
    net.set_normalisation(torch.from_numpy(speech_mel))
    return net


@torch.no_grad()
def test_noise_reaches_the_inputs_and_the_targets_stay_clean(model: MelNet, speech_mel: np.ndarray) -> None:
    mel = torch.from_numpy(speech_mel[:, :40]).unsqueeze(0)
    clean, _ = model.nll(mel)
    torch.manual_seed(5)
    noisy, _ = model.nll(mel, input_noise=0.5)
    assert float(noisy) != pytest.approx(float(clean), abs=1e-3)
    # the same loss by hand: parameters from the noisy cells, scored on the clean ones
    torch.manual_seed(5)
    x = model.normalise(mel)
    inputs = x + 0.5 * torch.randn_like(x)
    parts, params = model.tier_params(x, inputs=inputs)
    jacobians = tiering.split(torch.log(model.band_std).expand(x.shape[1], -1), CONFIG.n_tiers)
    total = sum(float((gmm_nll(p, t, CONFIG.mixtures, CONFIG.log_scale_min) + j).sum())
                for p, t, j in zip(params, parts, jacobians, strict=True) if p is not None)
    assert float(noisy) == pytest.approx(total / mel.numel(), rel=1e-5)
    assert torch.equal(model.nll(mel, input_noise=0.0)[0], clean)
    for bad in (-0.1, float("nan")):
        with pytest.raises(MelNetError, match="input_noise"):
            model.nll(mel, input_noise=bad)


def test_the_recipe_injects_noise_in_training_only(model: MelNet, speech: np.ndarray) -> None:
    """Validation (eval mode) scores the clean density; training mode draws new noise each call."""
    audio = torch.from_numpy(speech[: 40 * DEFAULT_CONFIG.hop_length]).float().unsqueeze(0)
    recipe = MelNetRecipe(model_config=CONFIG, input_noise=0.3)
    plain = MelNetRecipe(model_config=CONFIG)
    model.eval()
    assert recipe.loss(model, audio)[0] == plain.loss(model, audio)[0]
    model.train()
    a, b = recipe.loss(model, audio)[0], recipe.loss(model, audio)[0]
    assert a != b and a != plain.loss(model, audio)[0]
    assert recipe.hyperparameters()["input_noise"] == 0.3 and "input_noise" not in plain.hyperparameters()
    assert "noise injection of std 0.3" in recipe.describe(model)


@pytest.fixture()
def data_dir(tmp_path: Path, speech: np.ndarray, model: MelNet, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Train/valid packs of real speech, the small config as a file and a "trained" model of that config."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name, pack in zip(("train", "valid"), _packs(speech), strict=True):
        np.savez(folder / f"{name}.npz", audio=pack.audio, offsets=pack.offsets, sample_rate=pack.sample_rate)
    (folder / "small.json").write_text(json.dumps(CONFIG.to_dict()))
    with torch.no_grad():  # weights no fresh run starts from
        for p in model.parameters():
            p.add_(0.01)
    save_model(folder / "trained.pt", model)
    monkeypatch.setenv("VOCODER_STUDIO_DATA", str(folder))
    return folder


def test_a_warm_started_noisy_tier_run_resumes_exactly_and_merges(data_dir: Path) -> None:
    trained = load_model(data_dir / "trained.pt").state_dict()
    args = ["train", "melnet", "--tier", "1", "--config", str(data_dir / "small.json"), "--device", "cpu",
            "--input-noise", "0.3", "--init", str(data_dir / "trained.pt")]
    assert main([*args, "--steps", "0", "--run", str(data_dir / "zero")]) == 0
    start = _weights(data_dir / "zero")
    assert all(torch.equal(start[k], trained[k]) for k in trained)  # every weight and the normalisation
    assert main([*args, "--steps", "2", "--run", str(data_dir / "a")]) == 0
    assert main([*args, "--steps", "1", "--run", str(data_dir / "a")]) == 0  # resumes (--init is ignored)
    assert main([*args, "--steps", "3", "--run", str(data_dir / "b")]) == 0
    resumed, straight = _weights(data_dir / "a"), _weights(data_dir / "b")
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)
    changed = {k.split(".")[1] for k in straight if k.startswith("tiers.") and not torch.equal(straight[k], trained[k])}
    assert changed == {"0"}
    identity = torch.load(data_dir / "b" / "checkpoint.pt", weights_only=False)["identity"]
    assert identity["hyperparameters"]["input_noise"] == 0.3
    # the other tiers as the trained model has them, then one model
    for tier in ("2", "3"):
        assert main(["train", "melnet", "--tier", tier, "--config", str(data_dir / "small.json"), "--device", "cpu",
                     "--init", str(data_dir / "trained.pt"), "--steps", "0", "--run", str(data_dir / tier)]) == 0
    models = data_dir / "models"
    models.mkdir()
    assert main(["train", "melnet", "--merge-tiers", str(data_dir / "b"), str(data_dir / "2"), str(data_dir / "3"),
                 "--export", str(models)]) == 0
    merged = load_model(models / "melnet.pt").state_dict()
    assert all(torch.equal(merged[k], straight[k] if k.startswith("tiers.0.") else trained[k]) for k in merged)
    card = json.loads((models / "melnet.json").read_text())
    assert card["tier_input_noise"] == [0.3, 0.0, 0.0] and "noise injection" in card["architecture"]
    # what was measured after training goes onto the card through --card; the card is checked before writing
    fields = data_dir / "card.json"
    fields.write_text(json.dumps({"summary": "measured", "scores": {"voiced": 0.4}, "known_weaknesses": "few"}))
    runs = [str(data_dir / "b"), str(data_dir / "2"), str(data_dir / "3")]
    assert main(["train", "melnet", "--merge-tiers", *runs, "--export", str(models), "--card", str(fields)]) == 0
    card = json.loads((models / "melnet.json").read_text())
    assert card["summary"] == "measured" and card["known_weaknesses"] == "few"
    assert card["scores"]["voiced"] == 0.4 and "nll_tier1" in card["scores"]
    fields.write_text(json.dumps({"scores": {"voiced": "loud"}}))
    (models / "melnet.pt").unlink()
    assert main(["train", "melnet", "--merge-tiers", *runs, "--export", str(models), "--card", str(fields)]) == 2
    assert not (models / "melnet.pt").exists()


def test_a_run_refuses_another_noise_on_resume(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    args = ["train", "melnet", "--tier", "2", "--config", str(data_dir / "small.json"), "--device", "cpu",
            "--steps", "1", "--run", str(data_dir / "r")]
    assert main([*args, "--input-noise", "0.2"]) == 0
    capsys.readouterr()
    assert main([*args, "--input-noise", "0.4"]) == 2
    err = capsys.readouterr().err.strip()
    assert "other settings" in err and "\n" not in err


@pytest.mark.parametrize("args, message", [
    (["istft", "--input-noise", "0.2"], "--input-noise applies to melnet only"),
    (["wavenet", "--init", "x.pt"], "--init applies to melnet and istft only"),
    (["melgan", "--phase-weight", "1"], "--phase-weight applies to istft only"),
    (["istft", "--phase-weight", "-1"], "--phase-weight -1.0: must be a finite number >= 0"),
    (["wavenet", "--magnitude-weight", "1"], "--magnitude-weight applies to istft only"),
    (["istft", "--magnitude-weight", "inf"], "--magnitude-weight inf: must be a finite number >= 0"),
    (["istft", "--learning-rate", "0"], "--learning-rate 0.0: must be a finite number > 0"),
    (["melnet", "--input-noise", "-1"], "--input-noise -1.0: must be a finite number >= 0"),
    (["melnet", "--input-noise", "nan"], "must be a finite number >= 0"),
    (["melnet", "--own-draws", "1.5"], "--own-draws 1.5: must be a finite number in [0, 1]"),
    (["melnet", "--own-draws", "-0.1"], "--own-draws -0.1: must be a finite number in [0, 1]"),
    (["melnet", "--own-draws", "nan"], "--own-draws nan: must be a finite number in [0, 1]"),
    (["istft", "--own-draws", "0.2"], "--own-draws applies to melnet only"),
    (["melnet", "--init", "MISSING"], "missing.pt"),
])
def test_noise_and_init_errors_are_one_line(data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                            message: str) -> None:
    args = [str(data_dir / "missing.pt") if a == "MISSING" else a for a in args]
    assert main(["train", *args, "--steps", "1", "--device", "cpu", "--run", str(data_dir / "e")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


@torch.no_grad()
def test_own_draws_replace_the_read_cells_and_the_targets_stay_clean(model: MelNet, speech_mel: np.ndarray) -> None:
    """Scheduled sampling: at chance 1 every cell read is the tier's own draw given the truth (a first pass), at
    0 the loss is plain teacher forcing; the targets are the clean cells either way."""
    mel = torch.from_numpy(speech_mel[:, :40]).unsqueeze(0)
    clean, _ = model.nll(mel)
    assert torch.equal(model.nll(mel, own_draws=0.0)[0], clean)
    torch.manual_seed(3)
    drawn, _ = model.nll(mel, own_draws=1.0)
    torch.manual_seed(3)
    x = model.normalise(mel)
    _, first = model.tier_params(x)
    draws = []
    for p in first:  # each tier's draw, then its mixing chances (all below 1), as the model consumes them
        assert p is not None
        draws.append(gmm_draw(p, CONFIG.mixtures, CONFIG.log_scale_min))
        torch.rand_like(draws[-1])
    parts, params = model.tier_params(x, inputs=tiering.interleave(draws))
    jacobians = tiering.split(torch.log(model.band_std).expand(x.shape[1], -1), CONFIG.n_tiers)
    total = sum(float((gmm_nll(p, t, CONFIG.mixtures, CONFIG.log_scale_min) + j).sum())
                for p, t, j in zip(params, parts, jacobians, strict=True) if p is not None)
    assert float(drawn) != pytest.approx(float(clean), abs=1e-3)
    assert float(drawn) == pytest.approx(total / mel.numel(), rel=1e-5)
    for bad in (-0.1, 1.5, float("nan")):
        with pytest.raises(MelNetError, match="own_draws"):
            model.nll(mel, own_draws=bad)


def test_own_draws_in_training_only(model: MelNet, speech: np.ndarray) -> None:
    audio = torch.from_numpy(speech[: 40 * DEFAULT_CONFIG.hop_length]).float().unsqueeze(0)
    recipe = MelNetRecipe(model_config=CONFIG, own_draws=0.25)
    plain = MelNetRecipe(model_config=CONFIG)
    model.eval()
    assert recipe.loss(model, audio)[0] == plain.loss(model, audio)[0]
    model.train()
    assert recipe.loss(model, audio)[0] != recipe.loss(model, audio)[0]
    assert recipe.hyperparameters()["own_draws"] == 0.25 and "own_draws" not in plain.hyperparameters()
    assert "scheduled sampling" in recipe.describe(model)
