"""Training the iSTFT vocoder's phase and magnitude directly: APNet's anti-wrapping phase losses (`train istft
--phase-weight W`), the head's log-magnitude against the real STFT (`--magnitude-weight W`), and warm starts from a
trained model (`train istft --init CHECKPOINT`), with exact resume."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import numpy as np
import pytest
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, front_end_stft, wav_to_mel
from vocoder_studio.cli import main
from vocoder_studio.training.data import Pack
from vocoder_studio.training.losses import anti_wrapping, phase_losses
from vocoder_studio.training.recipes import ISTFTRecipe
from vocoder_studio.training.trainer import Trainer, TrainingError, TrainSettings
from vocoder_studio.vocoders import istft

SMALL = istft.ISTFTConfig(dim=32, intermediate_dim=64, num_layers=2)


@pytest.fixture()
def target(speech: np.ndarray) -> torch.Tensor:
    """The front-end STFT of 2 s of real speech, ``(1, frames, bins)``."""
    audio = torch.from_numpy(speech[: 172 * DEFAULT_CONFIG.hop_length]).float().unsqueeze(0)
    return front_end_stft(audio).transpose(1, 2)


def test_anti_wrapping_measures_the_distance_to_a_multiple_of_two_pi() -> None:
    x = torch.tensor([0.0, 2 * math.pi, -4 * math.pi + 0.5, math.pi - 0.1, 3 * math.pi + 0.2])
    assert torch.allclose(anti_wrapping(x), torch.tensor([0.0, 0.0, 0.5, math.pi - 0.1, math.pi - 0.2]), atol=1e-5)


def test_phase_losses_vanish_on_the_target_and_see_only_what_matters(target: torch.Tensor) -> None:
    phase = target.angle()
    wrapped = phase + 2 * math.pi * torch.randint(-3, 4, phase.shape)  # any unwrapping is the same phase
    assert all(float(term) < 1e-4 for term in phase_losses(wrapped, target))
    # a constant offset moves every phase but no difference: IP sees it, GD and IAF do not
    ip, gd, iaf = phase_losses(phase + 1.0, target)
    assert float(ip) == pytest.approx(1.0, rel=1e-3) and float(gd) < 1e-4 and float(iaf) < 1e-4
    # a random phase costs about pi / 2 in IP (weights of mean 1), less in the differences (their smaller weight)
    torch.manual_seed(0)
    noisy = phase_losses(torch.rand_like(phase) * 2 * math.pi, target)
    assert 1.4 < float(noisy[0]) < 1.75 and all(0.2 < float(t) < float(noisy[0]) for t in noisy[1:])
    with pytest.raises(ValueError, match="differ in shape"):
        phase_losses(phase[:, 1:], target)


@pytest.fixture()
def packs(speech: np.ndarray) -> tuple[Pack, Pack]:
    audio = np.round(speech * 32767).astype(np.int16)
    cut = audio.size * 2 // 3
    return (Pack(audio[:cut], np.array([0, cut // 2, cut]), DEFAULT_CONFIG.sample_rate),
            Pack(audio[cut:], np.array([0, audio.size - cut]), DEFAULT_CONFIG.sample_rate))


def test_the_phase_recipe_logs_its_terms_and_resumes_exactly(tmp_path: Path, packs: tuple[Pack, Pack]) -> None:
    train, _ = packs
    settings = TrainSettings(batch_size=2, segment_samples=4096, validate_every=0, log_every=1, augment_gain=1.0,
                             augment_speed=0.1)
    recipe = ISTFTRecipe(SMALL, phase_weight=1.0, magnitude_weight=0.5)
    straight = Trainer(recipe, train, None, tmp_path / "a", settings)
    straight.run(steps=4)
    first = Trainer(recipe, train, None, tmp_path / "b", settings)
    first.run(steps=2)
    resumed = Trainer(recipe, train, None, tmp_path / "b", settings)
    assert resumed.state.step == 2
    resumed.run(steps=2)
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    rows = list(csv.DictReader((tmp_path / "a" / "log.csv").open()))
    assert len(rows) == 4 and all(0 < float(r[k]) < math.pi for r in rows for k in ("phase_ip", "phase_gd",
                                                                                     "phase_iaf"))
    assert all(float(r["log_magnitude_l1"]) > 0 for r in rows)
    # the loss is the reconstruction loss plus the weighted mean of the three phase terms and the magnitude term
    plain = ISTFTRecipe(SMALL)
    audio = torch.from_numpy(train.clip(0)[: 4096]).unsqueeze(0)
    with torch.no_grad():
        total, terms = recipe.loss(straight.model, audio)
        base, _ = plain.loss(straight.model, audio)
    assert float(total) == pytest.approx(float(base) + (terms["phase_ip"] + terms["phase_gd"] + terms["phase_iaf"])
                                         / 3 + 0.5 * terms["log_magnitude_l1"], rel=1e-5)
    # the magnitude term by hand: the head's log-magnitude against the real STFT's, both floored
    with torch.no_grad():
        log_magnitude, _ = straight.model.spectrum(wav_to_mel(audio))
        real = front_end_stft(audio).transpose(1, 2).abs().clamp_min(1e-5).log()
        by_hand = (log_magnitude.clamp(math.log(1e-5), math.log(100.0)) - real).abs().mean()
    assert terms["log_magnitude_l1"] == pytest.approx(float(by_hand), rel=1e-5)
    # the weight is part of the run: another weight does not resume it; a plain run's identity is unchanged
    assert recipe.hyperparameters()["phase_weight"] == 1.0 and recipe.hyperparameters()["magnitude_weight"] == 0.5
    assert plain.hyperparameters() == SMALL.to_dict()
    for other in (ISTFTRecipe(SMALL, phase_weight=0.5, magnitude_weight=0.5), ISTFTRecipe(SMALL, phase_weight=1.0)):
        with pytest.raises(TrainingError, match="other settings"):
            Trainer(other, train, None, tmp_path / "b", settings)


def test_a_warm_start_copies_a_trained_model(tmp_path: Path, packs: tuple[Pack, Pack]) -> None:
    train, _ = packs
    torch.manual_seed(3)
    source = istft.ISTFTGenerator(SMALL)
    istft.save_model(tmp_path / "istft.pt", source, SMALL)
    trainer = Trainer(ISTFTRecipe(SMALL), train, None, tmp_path / "run", TrainSettings(batch_size=2,
                                                                                       segment_samples=4096))
    assert trainer.warm_start(tmp_path / "istft.pt") == (len(source.state_dict()), len(source.state_dict()))
    for name, tensor in source.state_dict().items():
        assert torch.equal(trainer.model.state_dict()[name], tensor)
    (tmp_path / "broken.pt").write_bytes(b"not a checkpoint")
    with pytest.raises(TrainingError, match="broken.pt"):
        trainer.warm_start(tmp_path / "broken.pt")


def test_cli_fine_tunes_the_shipped_model_and_resumes_exactly(tmp_path: Path, packs: tuple[Pack, Pack],
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    """`train istft --init models/istft.pt --phase-weight 1`: real steps of the shipped model; a run stopped after
    one step and resumed (its --init then ignored) ends where a run of two steps does."""
    for name, pack in zip(("train", "valid"), packs, strict=True):
        np.savez(tmp_path / f"{name}.npz", audio=pack.audio, offsets=pack.offsets, sample_rate=pack.sample_rate)
    monkeypatch.setenv("VOCODER_STUDIO_DATA", str(tmp_path))
    shipped = Path(__file__).resolve().parents[2] / "models" / "istft.pt"
    args = ["train", "istft", "--device", "cpu", "--threads", "1", "--init", str(shipped), "--phase-weight", "1",
            "--learning-rate", "1e-4", "--augment-gain", "1"]
    assert main([*args, "--steps", "2", "--run", str(tmp_path / "a")]) == 0
    assert main([*args, "--steps", "1", "--run", str(tmp_path / "b")]) == 0
    assert main([*args, "--steps", "1", "--run", str(tmp_path / "b")]) == 0
    a, b = (torch.load(tmp_path / run / "checkpoint.pt", weights_only=False) for run in ("a", "b"))
    assert a["state"]["step"] == b["state"]["step"] == 2
    assert all(torch.equal(a["model"][k], b["model"][k]) for k in a["model"])
    start = istft.load_model(shipped)[0].state_dict()
    assert any(not torch.equal(a["model"][k], start[k]) for k in start)  # it trained from the shipped weights
    moved = max(float((a["model"][k] - start[k]).abs().max()) for k in start)
    assert moved < 0.01  # two steps at 1e-4 from the shipped model, not from a fresh initialisation


def test_the_generator_synthesises_its_own_spectrum_as_forward_does(speech_mel: np.ndarray) -> None:
    torch.manual_seed(1)
    model = istft.ISTFTGenerator(SMALL).eval()
    mel = torch.from_numpy(speech_mel[:, :50]).unsqueeze(0)
    with torch.no_grad():
        assert torch.equal(model.waveform(*model.spectrum(mel)), model(mel))
