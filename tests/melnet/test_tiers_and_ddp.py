"""`train melnet --tier N --config FILE` (one tier alone, exact resume per tier) and DistributedDataParallel on
two CPU processes with the gloo backend."""

from __future__ import annotations

import datetime
import json
import time
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.distributed as dist
import torch.multiprocessing as mp

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.cli import main
from vocoder_studio.melnet import MelNet, MelNetConfig, load_model
from vocoder_studio.melnet.checkpoint import save_model
from vocoder_studio.training.corpus import Pack
from vocoder_studio.training.melnet_trainer import MelNetTrainer
from vocoder_studio.training.recipes import MelNetRecipe
from vocoder_studio.training.trainer import TrainSettings

CONFIG = MelNetConfig(n_tiers=3, layers=(1, 1, 1), hidden=8, mixtures=2)


def _packs(speech: np.ndarray) -> tuple[Pack, Pack]:
    audio = np.round(speech * 32767).astype(np.int16)
    half = audio.size // 2
    train = Pack(audio[:half], np.array([0, half // 3, half]), DEFAULT_CONFIG.sample_rate)
    valid = Pack(audio[half:], np.array([0, audio.size - half]), DEFAULT_CONFIG.sample_rate)
    return train, valid


@pytest.fixture()
def data_dir(tmp_path: Path, speech: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A data folder with train/valid packs cut from real speech, and a small MelNet config file."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name, pack in zip(("train", "valid"), _packs(speech), strict=True):
        np.savez(folder / f"{name}.npz", audio=pack.audio, offsets=pack.offsets, sample_rate=pack.sample_rate)
    (folder / "small.json").write_text(json.dumps({"n_tiers": 3, "layers": [1, 1, 1], "hidden": 8, "mixtures": 2}))
    monkeypatch.setenv("VOCODER_STUDIO_DATA", str(folder))
    return folder


def _weights(run: Path) -> dict[str, torch.Tensor]:
    return torch.load(run / "checkpoint.pt", map_location="cpu", weights_only=False)["model"]


def test_train_one_tier_with_config_resumes_exactly(data_dir: Path) -> None:
    config = str(data_dir / "small.json")
    args = ["train", "melnet", "--tier", "2", "--config", config, "--device", "cpu"]
    assert main([*args, "--steps", "2"]) == 0
    default_run = data_dir / "runs" / "melnet-tier2"
    assert json.loads((default_run / "config.json").read_text())["hidden"] == 8
    assert main([*args, "--steps", "1"]) == 0  # resumed: 2 + 1 steps
    assert main([*args, "--steps", "3", "--run", str(data_dir / "straight")]) == 0
    resumed, straight = _weights(default_run), _weights(data_dir / "straight")
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)
    torch.manual_seed(0)
    fresh = MelNet(CONFIG).state_dict()
    changed = {k.split(".")[1] for k in straight if k.startswith("tiers.") and not torch.equal(straight[k], fresh[k])}
    assert changed == {"1"}  # only tier 2 (index 1) trained
    # the other tiers in their own runs, then one model from the three
    for tier in ("1", "3"):
        assert main(["train", "melnet", "--tier", tier, "--config", config, "--device", "cpu", "--steps", "1",
                     "--run", str(data_dir / f"t{tier}")]) == 0
    models = data_dir / "models"
    models.mkdir()
    runs = [str(data_dir / "t3"), str(default_run), str(data_dir / "t1")]
    assert main(["train", "melnet", "--merge-tiers", *runs, "--export", str(models)]) == 0
    merged = load_model(models / "melnet.pt").state_dict()
    for tier, run in (("0", data_dir / "t1"), ("1", default_run), ("2", data_dir / "t3")):
        weights = _weights(run)
        assert all(torch.equal(merged[k], weights[k]) for k in merged if k.startswith(f"tiers.{tier}."))
    assert torch.equal(merged["band_std"], straight["band_std"])
    card = json.loads((models / "melnet.json").read_text())
    assert card["tier_steps"] == [1, 3, 1] and card["steps"] == 5


def test_merging_one_tier_onto_a_base_model_keeps_the_rest(data_dir: Path, capsys: pytest.CaptureFixture[str]
                                                           ) -> None:
    """`--merge-tiers RUN --merge-base MODEL`: the run's tier replaces the base's; the other tiers, tier 1's
    future stack and the gap fill stay the base's, and the card starts from the base's card."""
    assert main(["train", "melnet", "--tier", "2", "--config", str(data_dir / "small.json"), "--device", "cpu",
                 "--steps", "2", "--run", str(data_dir / "t2")]) == 0
    run = _weights(data_dir / "t2")
    torch.manual_seed(1)
    base = MelNet(MelNetConfig(n_tiers=3, layers=(1, 1, 1), hidden=8, mixtures=2, bidirectional=True,
                               fill_hidden=8))
    base.load_state_dict({**base.state_dict(), **{k: run[k] for k in ("band_mean", "band_std", "normalised")}})
    models, out = data_dir / "models", data_dir / "out"
    models.mkdir()
    out.mkdir()
    save_model(models / "melnet.pt", base)
    (models / "melnet.json").write_text(json.dumps({"name": "melnet", "summary": "base", "steps": 10,
                                                     "scores": {"test_nll": 0.5, "nll_tier2": 0.9}}))
    args = ["train", "melnet", "--merge-tiers", str(data_dir / "t2"), "--merge-base", str(models / "melnet.pt"),
            "--export", str(out)]
    assert main(args) == 0
    merged, kept = load_model(out / "melnet.pt").state_dict(), base.state_dict()
    assert merged.keys() == kept.keys() and any(k.startswith("fill.") for k in merged)
    assert any(k.startswith("tiers.0.future.") for k in merged)
    assert all(torch.equal(merged[k], run[k] if k.startswith("tiers.1.") else kept[k]) for k in merged)
    card = json.loads((out / "melnet.json").read_text())
    assert card["steps"] == 12 and card["tier_steps"] == [0, 2, 0] and card["scores"]["test_nll"] == 0.5
    assert card["scores"]["nll_tier2"] != 0.9 and card["summary"].startswith("base; then tier(s) 2")
    capsys.readouterr()
    assert main(["train", "melnet", "--merge-base", str(models / "melnet.pt"), "--export", str(out)]) == 2
    assert "--merge-base" in capsys.readouterr().err


def test_merging_tiers_refuses_a_missing_or_doubled_tier(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = str(data_dir / "small.json")
    for tier, name in (("1", "a"), ("1", "b"), ("2", "c")):
        assert main(["train", "melnet", "--tier", tier, "--config", config, "--device", "cpu", "--steps", "1",
                     "--run", str(data_dir / name)]) == 0
    (data_dir / "models").mkdir()
    capsys.readouterr()
    for runs, message in (([data_dir / "a", data_dir / "b", data_dir / "c"], "tier 1 is given twice"),
                          ([data_dir / "a", data_dir / "c"], "need one run for each of tiers 1-3, got [1, 2]")):
        assert main(["train", "melnet", "--merge-tiers", *map(str, runs), "--export", str(data_dir / "models")]) == 2
        err = capsys.readouterr().err.strip()
        assert message in err and "\n" not in err
    assert not (data_dir / "models" / "melnet.pt").exists()


def test_config_file_sizes_a_wavenet_run(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """`train wavenet --config FILE`: the run trains the WaveNet the file describes and keeps the file beside
    its checkpoint; an invalid size is a one-line error naming the file and the field."""
    config = data_dir / "wavenet.json"
    config.write_text(json.dumps({"stacks": 1, "layers_per_stack": 3, "residual_channels": 8, "skip_channels": 8,
                                  "cond_channels": 8}))
    run = data_dir / "runs" / "wavenet"
    assert main(["train", "wavenet", "--config", str(config), "--device", "cpu", "--steps", "1",
                 "--run", str(run)]) == 0
    assert json.loads((run / "config.json").read_text())["layers_per_stack"] == 3
    weights = _weights(run)
    assert sum(1 for key in weights if key.startswith("dilated.") and key.endswith(".weight")) == 3
    config.write_text(json.dumps({"stacks": 0}))
    capsys.readouterr()
    assert main(["train", "wavenet", "--config", str(config), "--device", "cpu", "--steps", "1",
                 "--run", str(data_dir / "runs" / "other")]) == 2
    err = capsys.readouterr().err.strip()
    assert "wavenet.json" in err and "WaveNetConfig.stacks" in err and "\n" not in err


@pytest.mark.parametrize("args, message", [
    (["melnet", "--tier", "4", "--config", "CONFIG"], "--tier 4: this MelNet has tiers 1 to 3"),
    (["istft", "--tier", "1"], "--tier applies to melnet only"),
    (["istft", "--config", "CONFIG"], "--config applies to melnet and wavenet only"),
    (["melnet", "--config", "MISSING"], "unreadable MelNet config"),
])
def test_tier_and_config_errors_are_one_line(data_dir: Path, capsys: pytest.CaptureFixture[str],
                                             args: list[str], message: str) -> None:
    args = [str(data_dir / "small.json") if a == "CONFIG" else str(data_dir / "no.json") if a == "MISSING" else a
            for a in args]
    assert main(["train", *args, "--steps", "1", "--device", "cpu"]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err


SETTINGS = TrainSettings(batch_size=2, segment_samples=24 * DEFAULT_CONFIG.hop_length, learning_rate=3e-3,
                         validate_every=0, valid_clips=1, grad_clip=1.0, log_every=1)


def _rank(rank: int, world: int, folder: str, speech: np.ndarray, steps: int | None,
          minutes: float | None = None) -> None:
    torch.set_num_threads(1)
    dist.init_process_group("gloo", init_method=f"file://{folder}/rendezvous", rank=rank, world_size=world,
                            timeout=datetime.timedelta(seconds=60))  # a rank left waiting fails the test
    try:
        train, valid = _packs(speech)
        trainer = MelNetTrainer(MelNetRecipe(model_config=CONFIG), train, valid, Path(folder) / "run", SETTINGS)
        assert trainer.ddp is not None and trainer.world == world
        if minutes is not None and rank == 1:
            time.sleep(1.0)  # rank 1's clock starts later: left to itself it would stop a second after rank 0
        trainer.run(minutes=minutes, steps=steps)
        torch.save({**trainer.model.state_dict(), "step": torch.tensor(trainer.state.step)},
                   Path(folder) / f"rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_ddp_two_cpu_ranks_hold_identical_weights(tmp_path: Path, speech: np.ndarray) -> None:
    steps = 3
    audio = speech[: 4 * DEFAULT_CONFIG.sample_rate]
    mp.spawn(_rank, args=(2, str(tmp_path), audio, steps), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert all(torch.equal(ranks[0][k], ranks[1][k]) for k in ranks[0])
    # rank 0 alone wrote the logs: one row per step, one validation, one checkpoint at the step reached
    assert len((tmp_path / "run" / "log.csv").read_text().splitlines()) == 1 + steps
    assert len((tmp_path / "run" / "valid.csv").read_text().splitlines()) == 2
    saved = torch.load(tmp_path / "run" / "checkpoint.pt", weights_only=False)
    assert saved["state"]["step"] == steps
    # the two ranks together equal one process with the doubled batch (DDP averages equal-sized halves)
    torch.manual_seed(0)
    train, valid = _packs(audio)
    single = MelNetTrainer(MelNetRecipe(model_config=CONFIG), train, valid, tmp_path / "single",
                           TrainSettings(**{**SETTINGS.__dict__, "batch_size": 2 * SETTINGS.batch_size}))
    single.run(steps=steps)
    one = single.model.state_dict()
    assert all(torch.allclose(one[k], ranks[0][k], atol=1e-4) for k in one)
    torch.manual_seed(0)
    fresh = MelNet(CONFIG).state_dict()
    assert not torch.equal(fresh["tiers.0.head.weight"], ranks[0]["tiers.0.head.weight"])  # the steps did train


def test_ddp_ranks_agree_when_a_wall_clock_budget_runs_out(tmp_path: Path, speech: np.ndarray) -> None:
    """With ``minutes`` the ranks could stop after different steps (and one would wait for the other forever);
    they agree on every step instead, so both stop after the same step with the same weights."""
    audio = speech[: 4 * DEFAULT_CONFIG.sample_rate]
    mp.spawn(_rank, args=(2, str(tmp_path), audio, None, 0.03), nprocs=2, join=True)
    ranks = [torch.load(tmp_path / f"rank{r}.pt", weights_only=True) for r in range(2)]
    assert int(ranks[0]["step"]) == int(ranks[1]["step"]) >= 1
    assert all(torch.equal(ranks[0][k], ranks[1][k]) for k in ranks[0])


def test_torchrun_two_cpu_processes_train_and_rank_0_alone_writes(data_dir: Path) -> None:
    """The command line under ``torchrun --nproc_per_node=2`` (gloo on the CPU): both ranks train, rank 0 alone
    prints, writes the run folder and exports the model."""
    import os
    import subprocess
    import sys

    run, models = data_dir / "ddp-run", data_dir / "models"
    models.mkdir()
    command = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node=2",
               "-m", "vocoder_studio", "train", "melnet", "--config", str(data_dir / "small.json"), "--steps", "2",
               "--run-dir", str(run), "--device", "cpu", "--threads", "1", "--export", str(models)]
    done = subprocess.run(command, capture_output=True, text=True, timeout=600,
                          env={**os.environ, "VOCODER_STUDIO_DATA": str(data_dir)})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count("exported ") == 2 and done.stdout.count(f"{run}: step 2 (+2)") == 1
    assert sorted(p.name for p in run.iterdir()) == ["checkpoint.pt", "config.json", "valid.csv"]
    assert len((run / "valid.csv").read_text().splitlines()) == 2
    assert load_model(models / "melnet.pt").config == CONFIG


def test_future_only_trains_tier_1s_future_stack_alone_and_resumes_exactly(tmp_path: Path, speech: np.ndarray) -> None:
    """A bidirectional model's future stack trained alone (``MelNetRecipe.future_only``, random gap ends): every
    other weight stays as it was, so densities without a right context are the original model's; a run stopped
    and resumed reaches the same weights as one that never stopped."""
    train, valid = _packs(speech)
    config = MelNetConfig(n_tiers=3, layers=(1, 1, 1), hidden=8, mixtures=2, bidirectional=True)
    recipe = MelNetRecipe(model_config=config, tier=1, future_only=True)
    settings = TrainSettings(batch_size=2, segment_samples=32 * 256, learning_rate=1e-2, validate_every=0)

    def trainer(run: Path) -> MelNetTrainer:
        return MelNetTrainer(recipe, train, valid, run, settings, torch.device("cpu"), True, DEFAULT_CONFIG)

    first = trainer(tmp_path / "a")
    before = {k: v.clone() for k, v in first.model.state_dict().items()}
    first.run(steps=2)
    trainer(tmp_path / "a").run(steps=2)
    trainer(tmp_path / "b").run(steps=4)
    resumed, straight = _weights(tmp_path / "a"), _weights(tmp_path / "b")
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)
    changed = {k for k in straight if not torch.equal(straight[k], before[k])}
    assert changed and all(k.startswith("tiers.0.future.") for k in changed)
    with pytest.raises(Exception, match="bidirectional"):
        MelNetTrainer(MelNetRecipe(model_config=CONFIG, future_only=True), train, valid, tmp_path / "c", settings,
                      torch.device("cpu"), True, DEFAULT_CONFIG)
