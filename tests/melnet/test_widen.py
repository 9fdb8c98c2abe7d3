"""Tiers of different widths (``MelNetConfig.tier_hidden``) and the function-preserving widening of a trained tier
(``melnet/widen.py``, ``train melnet --tier N --init CKPT --widen HIDDEN``): the widened model has the same
log-probabilities before any step, its new units learn from the first step, both samplers handle a tier of
another width, and a widened tier run resumes exactly and merges with the other tiers' runs."""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import torch

from tests.conftest import MODELS, require
from vocoder_studio.cli import main
from vocoder_studio.melnet import MelNet, MelNetConfig, MelNetError, load_model, sample, save_model
from vocoder_studio.melnet.widen import widen_tier

from .test_tiers_and_ddp import _packs, _weights

CONFIG = MelNetConfig(n_tiers=4, layers=(2, 1, 1, 1), hidden=16, mixtures=3)
#: nats per cell: the brief's bar for "the same function" (the widened sums add exact zeros; MKL may still order
#: a wider product's sums differently)
SAME = 1e-5


def _trained_like(config: MelNetConfig, speech_mel: np.ndarray, seed: int) -> MelNet:
    """A random model whose every weight carries a signal (the future stack's projections start at zero)."""
    torch.manual_seed(seed)
    net = MelNet(config)
    net.set_normalisation(torch.from_numpy(speech_mel))
    with torch.no_grad():
        for p in net.parameters():
            p.add_(0.1 * torch.randn_like(p))
    return net.eval()


def test_tier_widths_default_to_hidden_and_old_configs_read_as_before() -> None:
    old = MelNetConfig.from_dict({"n_tiers": 4, "layers": [3, 2, 2, 2], "hidden": 32})
    assert old.tier_hidden == () and [old.tier_width(g) for g in range(4)] == [32] * 4
    assert "tier_hidden" not in old.to_dict()
    wide = old.with_tier_width(0, 64)
    assert wide.tier_hidden == (64, 32, 32, 32) and wide.to_dict()["tier_hidden"] == [64, 32, 32, 32]
    assert MelNetConfig.from_dict(json.loads(json.dumps(wide.to_dict()))) == wide
    assert wide.with_tier_width(0, 32) == old  # all equal again: stored as before
    for bad in ({"tier_hidden": [64, 32]}, {"tier_hidden": [64, 0, 32, 32]}):
        with pytest.raises(MelNetError, match="tier_hidden"):
            MelNetConfig.from_dict({"n_tiers": 4, "layers": [3, 2, 2, 2], **bad})


@pytest.mark.parametrize("tier, bidirectional", [(0, True), (0, False), (1, False), (3, False)])
@torch.no_grad()
def test_a_widened_tier_has_the_same_log_probabilities(speech_mel: np.ndarray, tier: int,
                                                       bidirectional: bool) -> None:
    """The same mixtures cell by cell in float64 (the function), the same NLL within 1e-5 nats in float32 (MKL
    sums a wider product in another order: a few 1e-5 per cell at most on these random weights)."""
    model = _trained_like(replace(CONFIG, bidirectional=bidirectional), speech_mel, 1)
    wide = widen_tier(model, tier, 40).eval()
    assert wide.config.tier_width(tier) == 40 and wide.tiers[tier].head.weight.shape[1] == 40
    assert sum(p.numel() for p in wide.parameters()) > sum(p.numel() for p in model.parameters())
    mel = torch.from_numpy(speech_mel[:, :96]).unsqueeze(0)
    x = model.normalise(mel).double()
    right = torch.zeros(x.shape, dtype=torch.bool)
    right[:, 60:] = True  # a right context for tier 1's future stack (a fill)
    for context in (None, right if bidirectional else None):
        before = model.double().tier_params(x, right=context)[1]
        after = wide.double().tier_params(x, right=context)[1]
        for p, q in zip(before, after, strict=True):
            assert p is not None and q is not None
            assert float((p - q).abs().max()) < 1e-10
    model.float(), wide.float()
    for before_nll, after_nll in zip(model.nll(mel)[1], wide.nll(mel)[1], strict=True):
        assert abs(before_nll - after_nll) < SAME
    if bidirectional:
        gap_end = torch.tensor([60])
        assert abs(float(model.nll(mel, gap_end=gap_end)[0]) - float(wide.nll(mel, gap_end=gap_end)[0])) < SAME
    # every other tensor is the model's own
    old = model.state_dict()
    assert all(torch.equal(v, old[k]) for k, v in wide.state_dict().items() if not k.startswith(f"tiers.{tier}."))


def test_the_new_units_learn_from_the_first_step(speech_mel: np.ndarray) -> None:
    """Zero outgoing weights, random incoming ones: the new units are active, so the gradient reaches the weights
    they feed at once (and, through them, their own weights from the second step)."""
    model = _trained_like(CONFIG, speech_mel, 2)
    wide = widen_tier(model, 0, 24).train()
    net = wide.tiers[0]
    assert float(net.head.weight.detach()[:, 16:].abs().max()) == 0.0  # nothing new reaches the mixture yet
    mel = torch.from_numpy(speech_mel[:, :64]).unsqueeze(0)
    wide.nll(mel, only=0)[0].backward()
    assert net.head.weight.grad is not None and float(net.head.weight.grad[:, 16:].abs().sum()) > 0
    proj = net.time_layers[0].proj.weight.grad
    assert proj is not None and float(proj[:16, 16:24].abs().sum()) > 0  # old units' input from a new one


def test_widening_refuses_a_narrower_width_or_a_missing_tier(speech_mel: np.ndarray) -> None:
    model = _trained_like(CONFIG, speech_mel, 3)
    with pytest.raises(MelNetError, match="cannot shrink"):
        widen_tier(model, 0, 8)
    with pytest.raises(MelNetError, match="tiers 1 to 4"):
        widen_tier(model, 4, 32)


def test_mixed_widths_sample_the_same_compiled_and_with_torch(speech_mel: np.ndarray, tmp_path: Path) -> None:
    """Same seed, same sample: the compiled step and the torch calls on a model whose tiers differ in width (as
    tests/melnet/test_sampling_compiled.py does for equal widths), and the widened model against the one it was
    widened from; a checkpoint of mixed widths round-trips."""
    model = _trained_like(replace(CONFIG, bidirectional=True), speech_mel, 4)
    wide = widen_tier(widen_tier(model, 0, 32), 2, 24).eval()
    assert [wide.config.tier_width(g) for g in range(4)] == [32, 16, 24, 16]
    save_model(tmp_path / "wide.pt", wide)
    loaded = load_model(tmp_path / "wide.pt")
    assert loaded.config == wide.config
    requests: list[dict[str, Any]] = [
        {"frames": 23, "seed": 1},
        {"frames": 17, "seed": 2, "tier_temperatures": (1.1, 0.0, 0.0, 0.0)},
        {"frames": 11, "seed": 3, "prime": speech_mel[:, 40:71]},
        {"source": speech_mel[:, 300:340], "inpaint": (11, 24), "seed": 5},
    ]
    for request in requests:
        compiled = sample(loaded, compiled=True, **request)
        np.testing.assert_allclose(compiled, sample(loaded, compiled=False, **request), rtol=0, atol=1e-4)
        np.testing.assert_allclose(compiled, sample(model, compiled=True, **request), rtol=0, atol=1e-4)


def test_the_shipped_model_widened_keeps_its_log_probabilities(speech_mel: np.ndarray) -> None:
    require((MODELS / "melnet.pt").exists(), "the shipped models/melnet.pt is missing")
    model = load_model(MODELS / "melnet.pt")
    wide = widen_tier(model, 0, 64).eval()
    mel = torch.from_numpy(speech_mel[:, :128]).unsqueeze(0)
    with torch.no_grad():
        for before, after in zip(model.cell_nll(mel), wide.cell_nll(mel), strict=True):
            assert before is not None and after is not None
            assert float((before - after).abs().max()) < SAME


@pytest.fixture()
def data_dir(tmp_path: Path, speech: np.ndarray, speech_mel: np.ndarray, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Train/valid packs of real speech, a small config and a "trained" model of it."""
    folder = tmp_path / "data"
    folder.mkdir()
    for name, pack in zip(("train", "valid"), _packs(speech), strict=True):
        np.savez(folder / f"{name}.npz", audio=pack.audio, offsets=pack.offsets, sample_rate=pack.sample_rate)
    config = MelNetConfig(n_tiers=3, layers=(1, 1, 1), hidden=8, mixtures=2)
    (folder / "small.json").write_text(json.dumps(config.to_dict()))
    save_model(folder / "trained.pt", _trained_like(config, speech_mel, 5))
    monkeypatch.setenv("VOCODER_STUDIO_DATA", str(folder))
    return folder


def test_a_widened_tier_run_starts_as_the_model_resumes_exactly_and_merges(data_dir: Path,
                                                                          speech_mel: np.ndarray) -> None:
    trained = load_model(data_dir / "trained.pt")
    args = ["train", "melnet", "--tier", "1", "--config", str(data_dir / "small.json"), "--device", "cpu",
            "--init", str(data_dir / "trained.pt"), "--widen", "12", "--own-draws", "0.2"]
    assert main([*args, "--steps", "0", "--run", str(data_dir / "zero")]) == 0
    start = torch.load(data_dir / "zero" / "checkpoint.pt", map_location="cpu", weights_only=False)
    assert start["identity"]["hyperparameters"]["tier_hidden"] == [12, 8, 8]
    assert json.loads((data_dir / "zero" / "config.json").read_text())["tier_hidden"] == [12, 8, 8]
    model = MelNet(trained.config.with_tier_width(0, 12))
    model.load_state_dict(start["model"])
    mel = torch.from_numpy(speech_mel[:, :96]).unsqueeze(0)
    with torch.no_grad():
        assert abs(float(model.eval().nll(mel)[0]) - float(trained.nll(mel)[0])) < SAME
    assert main([*args, "--steps", "2", "--run", str(data_dir / "a")]) == 0
    assert main([*args, "--steps", "1", "--run", str(data_dir / "a")]) == 0  # resumes (no second widening)
    assert main([*args, "--steps", "3", "--run", str(data_dir / "b")]) == 0
    resumed, straight = _weights(data_dir / "a"), _weights(data_dir / "b")
    assert all(torch.equal(resumed[k], straight[k]) for k in straight)
    for tier in ("2", "3"):
        assert main(["train", "melnet", "--tier", tier, "--config", str(data_dir / "small.json"), "--device", "cpu",
                     "--init", str(data_dir / "trained.pt"), "--steps", "0", "--run", str(data_dir / tier)]) == 0
    models = data_dir / "models"
    models.mkdir()
    assert main(["train", "melnet", "--merge-tiers", str(data_dir / "b"), str(data_dir / "2"), str(data_dir / "3"),
                 "--export", str(models)]) == 0
    merged = load_model(models / "melnet.pt")
    assert merged.config.tier_hidden == (12, 8, 8)
    assert "hidden [12, 8, 8] (per tier) GRUs" in json.loads((models / "melnet.json").read_text())["architecture"]
    old = trained.state_dict()
    assert all(torch.equal(v, straight[k] if k.startswith("tiers.0.") else old[k])
               for k, v in merged.state_dict().items())


@pytest.mark.parametrize("args, message", [
    (["--widen", "12"], "--widen applies to melnet with --tier N and --init CHECKPOINT"),
    (["--tier", "1", "--widen", "12"], "--widen applies to melnet with --tier N and --init CHECKPOINT"),
    (["--tier", "1", "--init", "TRAINED", "--widen", "0"], "--widen 0: must be a width >= 1"),
    (["--tier", "1", "--init", "TRAINED", "--widen", "4"], "cannot shrink"),
])
def test_widen_errors_are_one_line(data_dir: Path, capsys: pytest.CaptureFixture[str], args: list[str],
                                   message: str) -> None:
    args = [str(data_dir / "trained.pt") if a == "TRAINED" else a for a in args]
    assert main(["train", "melnet", "--config", str(data_dir / "small.json"), *args, "--steps", "1",
                 "--device", "cpu", "--run", str(data_dir / "e")]) == 2
    err = capsys.readouterr().err.strip()
    assert message in err and "\n" not in err
