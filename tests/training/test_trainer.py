"""The shared trainer: batches from real speech, exact resume, logs, validation, budget and cancel."""

from __future__ import annotations

import csv
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch
from torch import nn

from vocoder_studio.audio.mel import DEFAULT_CONFIG, wav_to_mel
from vocoder_studio.engine.jobs import CancelToken
from vocoder_studio.training.data import Pack, SegmentSampler
from vocoder_studio.training.trainer import Trainer, TrainingError, TrainSettings

HOP = DEFAULT_CONFIG.hop_length


class FrameLinear:
    """A tiny vocoder recipe: one linear map from each mel frame to its 256 samples."""

    name = "frame-linear"

    def __init__(self, width: int = 80) -> None:
        self.width = width

    def build(self) -> nn.Module:
        return nn.Conv1d(DEFAULT_CONFIG.n_mels, HOP, 1)

    def vocode(self, model: nn.Module, mel: torch.Tensor) -> torch.Tensor:
        return model(mel).transpose(1, 2).reshape(mel.shape[0], -1)

    def loss(self, model: nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        mel = wav_to_mel(audio)
        error = (self.vocode(model, mel) - audio).abs().mean()
        return error, {"l1": float(error.detach())}

    def hyperparameters(self) -> dict[str, Any]:
        return {"width": self.width}


@pytest.fixture
def packs(speech: np.ndarray) -> tuple[Pack, Pack]:
    audio = np.round(speech * 32767).astype(np.int16)
    half = audio.size // 2
    train = Pack(audio[:half], np.array([0, half // 3, half]), DEFAULT_CONFIG.sample_rate)
    valid = Pack(audio[half:], np.array([0, audio.size - half]), DEFAULT_CONFIG.sample_rate)
    return train, valid


def test_segments_stay_inside_one_clip(packs: tuple[Pack, Pack]) -> None:
    train, _ = packs
    sampler = SegmentSampler(train, 4096, seed=1)
    batch = sampler.batch(64)
    assert batch.shape == (64, 4096) and batch.dtype == np.float32
    whole = train.audio.astype(np.float32) / 32767.0
    for row in batch[:8]:  # each segment is a contiguous run of the pack that does not cross a clip start
        start = int(np.flatnonzero(np.all(np.lib.stride_tricks.sliding_window_view(whole, 4096)[::1][:, :16]
                                          == row[:16], axis=1))[0])
        assert not (start < train.offsets[1] < start + 4096)


def test_augmentation_scales_level_and_speed_reproducibly(tmp_path: Path, packs: tuple[Pack, Pack]) -> None:
    train, _ = packs
    plain = SegmentSampler(train, 8192, seed=3).batch(16)
    gained = SegmentSampler(train, 8192, seed=3, gain=1.0).batch(16)
    assert gained.shape == plain.shape and gained.dtype == np.float32
    levels = [np.log(np.abs(g).max() / np.abs(p).max()) for g, p in zip(gained, plain, strict=True)
              if np.abs(p).max() > 1e-3]  # the same segments, each scaled by at most e^±1
    assert levels and max(abs(v) for v in levels) <= 1.0 + 1e-4 and np.std(levels) > 0.1
    # speed: a 1 kHz tone comes out between 1000 / 1.2 and 1000 × 1.2 Hz, the segment length kept; reproducible
    rate = DEFAULT_CONFIG.sample_rate
    tone = np.round(0.5 * 32767 * np.sin(2 * np.pi * 1000 * np.arange(5 * rate) / rate)).astype(np.int16)
    sampler = SegmentSampler(Pack(tone, np.array([0, tone.size]), rate), 8192, seed=4, speed=0.2)
    batch = sampler.batch(32)
    assert batch.shape == (32, 8192) and np.isfinite(batch).all()
    peaks = np.argmax(np.abs(np.fft.rfft(batch * np.hanning(8192), axis=1)), axis=1) * rate / 8192
    assert 1000 / 1.2 - 5 <= peaks.min() < 950 and 1050 < peaks.max() <= 1000 * 1.2 + 5
    assert np.array_equal(batch, SegmentSampler(Pack(tone, np.array([0, tone.size]), rate), 8192, seed=4,
                                                speed=0.2).batch(32))
    with pytest.raises(TrainingError, match="augmentation"):
        SegmentSampler(train, 8192, speed=1.5)
    # not part of the run's identity: a run continues with augmentation turned on
    Trainer(FrameLinear(), train, None, tmp_path, TrainSettings(batch_size=2, segment_samples=2048)).run(steps=2)
    augmented = TrainSettings(batch_size=2, segment_samples=2048, augment_gain=0.5, augment_speed=0.1)
    assert Trainer(FrameLinear(), train, None, tmp_path, augmented).run(steps=2).step == 4


def test_training_lowers_the_loss_and_logs(tmp_path: Path, packs: tuple[Pack, Pack]) -> None:
    train, valid = packs
    settings = TrainSettings(batch_size=4, segment_samples=4096, learning_rate=3e-3, log_every=5,
                             validate_every=0, valid_clips=2)
    trainer = Trainer(FrameLinear(), train, valid, tmp_path, settings)
    before = trainer.validate()["mel_l1"]
    state = trainer.run(steps=60)
    assert state.step == 60
    after = state.history[-1]["mel_l1"]
    assert after < before
    rows = list(csv.DictReader((tmp_path / "log.csv").open()))
    assert [int(r["step"]) for r in rows] == list(range(5, 61, 5))
    assert float(rows[-1]["loss"]) < float(rows[0]["loss"])
    valid_rows = list(csv.DictReader((tmp_path / "valid.csv").open()))
    assert {"step", "seconds", "mel_l1", "pesq_wb", "stoi"} <= set(valid_rows[-1])


def test_resume_is_exact(tmp_path: Path, packs: tuple[Pack, Pack]) -> None:
    train, _ = packs
    settings = TrainSettings(batch_size=2, segment_samples=2048, validate_every=0)
    straight = Trainer(FrameLinear(), train, None, tmp_path / "a", settings)
    straight.run(steps=6)
    first = Trainer(FrameLinear(), train, None, tmp_path / "b", settings)
    first.run(steps=3)
    resumed = Trainer(FrameLinear(), train, None, tmp_path / "b", settings)
    assert resumed.state.step == 3
    resumed.run(steps=3)
    for a, b in zip(straight.model.state_dict().values(), resumed.model.state_dict().values(), strict=True):
        assert torch.equal(a, b)
    # a checkpoint of other settings is refused with the reason
    with pytest.raises(TrainingError, match="another model or other settings"):
        Trainer(FrameLinear(width=3), train, None, tmp_path / "b", settings)


def test_cancel_stops_with_a_checkpoint(tmp_path: Path, packs: tuple[Pack, Pack]) -> None:
    train, _ = packs
    token = CancelToken()
    seen: list[str] = []

    def progress(fraction: float, message: str) -> None:
        seen.append(message)
        if len(seen) == 2:
            token.cancel()

    trainer = Trainer(FrameLinear(), train, None, tmp_path, TrainSettings(batch_size=2, segment_samples=2048))
    state = trainer.run(steps=100, progress=progress, cancel=token)
    assert state.step == 2 and seen[0].startswith("step 1: loss")
    assert Trainer(FrameLinear(), train, None, tmp_path, TrainSettings(batch_size=2, segment_samples=2048)
                   ).state.step == 2


def test_istft_recipe_trains_and_exports_a_usable_model(tmp_path: Path, packs: tuple[Pack, Pack],
                                                         monkeypatch: pytest.MonkeyPatch) -> None:
    """A few real steps of the iSTFT recipe, then `export`: the checkpoint and its card make the registry's
    `istft` entry ready, and its card states what the run measured."""
    import json

    from vocoder_studio.training import corpus
    from vocoder_studio.training.recipes import ISTFTRecipe
    from vocoder_studio.training.run import export
    from vocoder_studio.vocoders import create_vocoder, get_entry, registry
    from vocoder_studio.vocoders.istft import ISTFTConfig

    train, valid = packs
    recipe = ISTFTRecipe(ISTFTConfig(dim=32, intermediate_dim=64, num_layers=2))
    settings = TrainSettings(batch_size=2, segment_samples=4096, validate_every=0, valid_clips=1)
    trainer = Trainer(recipe, train, valid, tmp_path / "run", settings)
    trainer.run(steps=3)
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.setattr(corpus, "read_manifest", lambda path=None: [
        corpus.Clip("a/cs/x-m-1.ogg", "cs", "cs-m", "a", "train", 60.0)])
    written = export("istft", trainer, torch.device("cpu"), models)
    assert [p.name for p in written] == ["istft.pt", "istft.json"]
    card = json.loads((models / "istft.json").read_text())
    assert card["steps"] == 3 and card["scores"]["mel_l1"] > 0 and "pesq_wb" in card["scores"]
    assert card["mel_config"]["hop_length"] == DEFAULT_CONFIG.hop_length
    assert "2 ConvNeXt blocks × 32 channels" in card["architecture"]
    assert f"PESQ-wb {card['scores']['pesq_wb']:.2f}" in card["summary"]

    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(models))
    registry.refresh()
    try:
        assert get_entry("istft").unavailable_reason() is None
        audio = create_vocoder("istft").vocode(np.full((DEFAULT_CONFIG.n_mels, 7), -4.0, np.float32))
        assert audio.shape == (7 * HOP,)
    finally:
        registry.refresh()

def test_cosine_decay_anneals_a_running_run(tmp_path: Path, packs: tuple[Pack, Pack]) -> None:
    train, _ = packs
    settings = TrainSettings(batch_size=2, segment_samples=2048, learning_rate=1e-3, validate_every=0, log_every=1)
    decayed = TrainSettings(**{**settings.__dict__, "lr_decay": (4, 8), "lr_floor": 0.1})
    assert [round(decayed.lr_factor(step), 4) for step in (0, 4, 6, 8, 50)] == [1.0, 1.0, 0.55, 0.1, 0.1]
    Trainer(FrameLinear(), train, None, tmp_path, settings).run(steps=3)
    # the schedule is not part of the run's identity: a constant-rate run resumes with a decay added
    resumed = Trainer(FrameLinear(), train, None, tmp_path, decayed)
    assert resumed.state.step == 3
    resumed.run(steps=7)
    rates = [float(row["lr"]) for row in csv.DictReader((tmp_path / "log.csv").open())]
    assert rates == pytest.approx([1e-3] * 5 + [1e-3 * decayed.lr_factor(step) for step in range(5, 10)])
    assert rates[-1] == pytest.approx(1e-4)


def _rank(rank: int, world: int, folder: str, audio: np.ndarray, minutes: float | None) -> None:
    import datetime
    import time

    import torch.distributed as dist

    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))  # a rank left waiting fails the test
    try:
        train = Pack(audio, np.array([0, audio.size // 2, audio.size]), DEFAULT_CONFIG.sample_rate)
        settings = TrainSettings(batch_size=2, segment_samples=2048, learning_rate=3e-3, validate_every=0,
                                 log_every=1, seed=rank)  # different seeds: the ranks must still agree
        trainer = Trainer(FrameLinear(), train, None, Path(folder) / "run", settings)
        if minutes is not None and rank == 1:
            time.sleep(1.0)  # rank 1's clock starts later: left alone it would stop a second after rank 0
        trainer.run(steps=None if minutes else 4, minutes=minutes)
        torch.save({**trainer.model.state_dict(), "step": torch.tensor(trainer.state.step)},
                   Path(folder) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


@pytest.mark.parametrize("minutes", [None, 0.03])
def test_two_cpu_ranks_train_data_parallel_and_stay_identical(tmp_path: Path, speech: np.ndarray,
                                                              minutes: float | None) -> None:
    """Any recipe under torchrun: 2 gloo ranks average their gradients every step, so they hold the same
    weights, agree on when a wall-clock budget ends, and rank 0 alone writes the log and the checkpoint."""
    import torch.multiprocessing as mp

    audio = np.round(speech[: 4 * DEFAULT_CONFIG.sample_rate] * 32767).astype(np.int16)
    mp.spawn(_rank, args=(2, str(tmp_path), audio, minutes), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert all(torch.equal(ranks[0][k], ranks[1][k]) for k in ranks[0])  # the same steps, the same weights
    steps = int(ranks[0]["step"])
    assert steps >= 1 and (minutes is not None or steps == 4)
    assert len((tmp_path / "run" / "log.csv").read_text().splitlines()) == 1 + steps  # rank 0 alone logged
    assert torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)["state"]["step"] == steps
    fresh = FrameLinear().build().state_dict()
    assert not torch.equal(fresh["weight"], ranks[0]["weight"])
