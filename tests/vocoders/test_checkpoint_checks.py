"""Issue 18: "ready" means it will run. The cheap check of a trained checkpoint (no model built, no weights
read) refuses a config that does not match its weights, pickled objects, and a model for another front-end,
each in one line naming the file, so that the listing, the window's selector and `vocode` agree with what
loading the checkpoint would meet."""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.vocoders import get_entry, istft, melgan, registry, trained, wavenet
from vocoder_studio.vocoders.checkpoints import ModelCard, read_header

from ..conftest import EXAMPLE

SMALL_ISTFT = istft.ISTFTConfig(dim=32, intermediate_dim=64, num_layers=2)
SMALL_MELGAN = melgan.MelGANConfig(ngf=4, n_residual_layers=1)
SMALL_WAVENET = wavenet.WaveNetConfig(residual_channels=8, skip_channels=8, stacks=1, layers_per_stack=2,
                                      cond_channels=8)


def _card(path: Path, name: str) -> None:
    ModelCard(name=name, summary=f"a test {name}").save(path.with_suffix(".json"))


def write_broken_models(models: Path) -> dict[str, Path]:
    """``istft.pt`` whose config says twice the width its weights have; ``melgan.pt`` that also pickles a
    training script's ``argparse.Namespace``; ``wavenet.pt`` made for 64 mel bands. Each with a valid card."""
    models.mkdir(parents=True, exist_ok=True)
    paths = {name: models / f"{name}.pt" for name in ("istft", "melgan", "wavenet")}
    small = istft.ISTFTGenerator(SMALL_ISTFT)
    wider = istft.ISTFTConfig(dim=64, intermediate_dim=64, num_layers=2)
    torch.save({"config": wider.to_dict(), "model": small.state_dict()}, paths["istft"])
    model = melgan.MelGANGenerator(SMALL_MELGAN)
    torch.save({"config": SMALL_MELGAN.to_dict(), "model": model.state_dict(),
                "args": argparse.Namespace(lr=1e-3, steps=100)}, paths["melgan"])
    other = wavenet.WaveNetConfig(**{**SMALL_WAVENET.to_dict(), "n_mels": 64})
    wavenet.save_model(paths["wavenet"], wavenet.WaveNet(other))
    for name, path in paths.items():
        _card(path, name)
    return paths


REASONS = {
    "istft": "istft.pt: weights do not fit the stored config (embed.weight is (32, 80, 7), the model's is "
             "(64, 80, 7) (and ",
    "melgan": "melgan.pt: holds pickled Python objects (argparse.Namespace), not only tensors and plain data; it is "
              "not loaded",
    "wavenet": "wavenet.pt: WaveNet model made for n_mels 64 / hop_length 256, the front-end has 80 / 256",
}


@pytest.fixture
def broken_models(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(tmp_path / "models"))
    registry.refresh()
    return write_broken_models(tmp_path / "models")


def test_broken_checkpoints_are_unavailable_with_one_line_reasons(broken_models: dict[str, Path]) -> None:
    for name, words in REASONS.items():
        reason = get_entry(name).unavailable_reason() or ""
        assert str(broken_models[name]) in reason and "\n" not in reason, reason
        assert words in reason, reason
        with pytest.raises(VocoderUnavailableError) as info:
            get_entry(name).create()
        assert "\n" not in str(info.value)
    # what loading would have met agrees with the cheap check
    with pytest.raises(VocoderUnavailableError, match="weights do not fit the stored config"):
        istft.load_model(broken_models["istft"])
    with pytest.raises(VocoderUnavailableError, match=r"^\S*melgan.pt: holds pickled Python objects") as info:
        melgan.read_checkpoint(broken_models["melgan"])
    assert "\n" not in str(info.value)


def test_good_checkpoints_stay_ready_and_a_fixed_file_is_checked_again(broken_models: dict[str, Path]) -> None:
    path = broken_models["istft"]
    assert get_entry("istft").status() == "unavailable"
    istft.save_model(path, istft.ISTFTGenerator(SMALL_ISTFT))  # replaced by a good one: a new file version
    assert get_entry("istft").unavailable_reason() is None
    assert get_entry("istft").create().model.config == SMALL_ISTFT
    trained.save_checkpoint(broken_models["melgan"], melgan.MelGANGenerator(SMALL_MELGAN), SMALL_MELGAN,
                            {"step": 3, "losses": [1.0, 0.5]}, half=True)
    assert get_entry("melgan").unavailable_reason() is None  # extra plain data and float16 weights are fine


@pytest.mark.parametrize("name, build, config", [
    ("istft", istft.ISTFTGenerator, istft.ISTFTConfig()),
    ("melgan", melgan.MelGANGenerator, melgan.MelGANConfig()),
    ("wavenet", wavenet.WaveNet, wavenet.WaveNetConfig()),
])
def test_shapes_without_weights_are_the_real_shapes(name: str, build: object, config: object) -> None:
    real = {k: tuple(v.shape) for k, v in build(config).state_dict().items()}
    assert trained.expected_shapes(build, config) == real


def test_the_header_is_read_without_the_weights(tmp_path: Path) -> None:
    path = istft.save_model(tmp_path / "m.pt", istft.ISTFTGenerator(SMALL_ISTFT))
    header = read_header(path)
    assert header.keys == ("config", "model") and header.config == SMALL_ISTFT.to_dict()
    assert header.shapes is not None and header.shapes["embed.weight"] == (32, DEFAULT_CONFIG.n_mels, 7)


def _cli(models: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "VOCODER_STUDIO_MODELS": str(models),
           "PYTHONPATH": str(Path(__file__).resolve().parents[2])}
    return subprocess.run([sys.executable, "-m", "vocoder_studio", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_broken_checkpoints_in_the_cli(tmp_path: Path) -> None:
    paths = write_broken_models(tmp_path / "models")
    listing = _cli(tmp_path / "models", "vocoders", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)}
    for name, words in REASONS.items():
        assert rows[name]["status"] == "unavailable" and words in rows[name]["reason"], rows[name]
        assert "\n" not in rows[name]["reason"] and str(paths[name]) in rows[name]["reason"]
    for name in REASONS:
        out = tmp_path / f"{name}.wav"
        done = _cli(tmp_path / "models", "vocode", str(EXAMPLE), "-o", str(out), "--vocoder", name)
        assert done.returncode == 2 and not out.exists(), done.stderr
        (line,) = done.stderr.strip().splitlines()
        assert line.startswith(f"vocoder-studio: error: {name}: {paths[name]}: ") and REASONS[name] in line


def test_building_without_weights_touches_no_other_thread() -> None:
    """The window checks checkpoints while worker threads build and run models: their tensors stay real."""
    import threading

    started, checked = threading.Event(), threading.Event()
    devices: dict[str, str] = {}

    def worker() -> None:
        started.wait()
        devices["worker"] = torch.empty(3).device.type
        checked.set()

    thread = threading.Thread(target=worker)
    thread.start()
    with trained._WithoutWeights():
        started.set()
        checked.wait(60)
        devices["checker"] = torch.empty(3).device.type
    thread.join()
    assert devices == {"worker": "cpu", "checker": "meta"}
