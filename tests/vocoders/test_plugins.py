"""Third-party vocoders: an installed plug-in appears in the registry, the CLI and the panel with its
parameters, and a missing, truncated or mismatched checkpoint makes only that entry unavailable, with the
reason."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.vocoders import ParameterError, create_vocoder, get_entry, list_vocoders, registry
from vocoder_studio.vocoders.checkpoints import ModelCard, model_dirs

from ..conftest import EXAMPLE
from .conftest import install_toy_plugin


def _write_checkpoint(models: Path, **card_fields: object) -> Path:
    path = models / "toy-trained.pt"
    torch.save({"gain": torch.tensor(0.25), "frequency": torch.tensor(330.0)}, path)
    card = ModelCard(name="toy-trained", summary="a toy trained for 0 steps", steps=0,
                     scores={"pesq_wb": 1.0}, mel_config={"hop_length": DEFAULT_CONFIG.hop_length})
    data = {**card.to_dict(), **card_fields}
    path.with_suffix(".json").write_text(json.dumps(data))
    return path


def test_plugin_entries_are_listed_after_the_builtins(toy_plugin: Path) -> None:
    names = [e.name for e in list_vocoders()]
    assert names[:3] == ["griffin-lim", "hifigan", "hifigan-lj"]
    assert names[-2:] == ["toy-sine", "toy-trained"]
    toy = get_entry("toy-sine")
    assert toy.origin == "plug-in toy_vocoder_plugin" and toy.status() == "ready"
    audio = create_vocoder("toy-sine", gain=0.5, waveform="square").vocode(np.full((80, 10), -3, np.float32))
    assert audio.shape == (10 * DEFAULT_CONFIG.hop_length,) and float(audio.abs().max()) == pytest.approx(0.5)
    with pytest.raises(ParameterError, match=r"toy-sine: parameter gain must be a number in \[0, 1\]"):
        create_vocoder("toy-sine", gain=2.0)


def test_checkpoint_states(toy_plugin: Path) -> None:
    trained = get_entry("toy-trained")
    reason = trained.unavailable_reason()
    assert reason is not None and "toy-trained.pt: no trained checkpoint found" in reason
    assert str(toy_plugin) in reason  # it says where it looked

    path = _write_checkpoint(toy_plugin)
    assert trained.unavailable_reason() is None
    assert trained.summary() == "a toy trained for 0 steps"
    assert create_vocoder("toy-trained").gain == pytest.approx(0.25)

    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a truncated copy
    assert "truncated or not a torch checkpoint" in (trained.unavailable_reason() or "")

    _write_checkpoint(toy_plugin, mel_config={"hop_length": 200})
    assert "different mel front-end (hop_length 200 instead of 256)" in (trained.unavailable_reason() or "")

    path.with_suffix(".json").unlink()
    assert "model card missing" in (trained.unavailable_reason() or "")
    path.with_suffix(".json").write_text("{not json")
    assert "unreadable model card" in (trained.unavailable_reason() or "")
    # the others keep working
    assert get_entry("griffin-lim").status() == "ready" and get_entry("toy-sine").status() == "ready"
    assert trained.to_json()["status"] == "unavailable" and trained.to_json()["card"] is None


def test_a_broken_plugin_is_listed_with_its_reason(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    info = site / "broken_plugin-0.1.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: broken-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[vocoder_studio.vocoders]\nbroken = no_such_module_here\n")
    monkeypatch.syspath_prepend(str(site))
    registry.refresh()
    try:
        broken = get_entry("broken")
        assert broken.status() == "unavailable"
        assert "ModuleNotFoundError" in (broken.unavailable_reason() or "")
        assert get_entry("griffin-lim").status() == "ready"
    finally:
        registry.refresh()


def test_models_directories_in_order(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(tmp_path / "env"))
    monkeypatch.setenv("VOCODER_STUDIO_HOME", str(tmp_path / "home"))
    dirs = model_dirs()
    root = Path(__file__).resolve().parents[2]
    assert dirs[0] == tmp_path / "env"
    assert dirs[1] == root / "models"  # the checkout's
    assert dirs[2] == root / "vocoder_studio" / "models"  # the installed package's data
    assert dirs[-1] == tmp_path / "home" / "models"  # the user's


def _cli(site: Path, models: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), os.environ.get("PYTHONPATH", "")]),
           "VOCODER_STUDIO_MODELS": str(models)}
    return subprocess.run([sys.executable, "-m", "vocoder_studio", *args], capture_output=True, text=True,
                          env=env, timeout=300)


def test_plugin_in_the_cli(tmp_path: Path) -> None:
    site = install_toy_plugin(tmp_path / "site")
    models = tmp_path / "models"
    models.mkdir()
    listing = _cli(site, models, "vocoders", "--json")
    assert listing.returncode == 0, listing.stderr
    entries = {e["name"]: e for e in json.loads(listing.stdout)}
    toy = entries["toy-sine"]
    assert toy["status"] == "ready" and toy["reason"] is None and toy["card"] is None
    assert toy["sample_rate"] == DEFAULT_CONFIG.sample_rate and toy["label"] == "Toy sine (plug-in)"
    assert toy["parameters"] == {
        "gain": {"type": "float", "default": 0.5, "min": 0.0, "max": 1.0, "help": "output level"},
        "waveform": {"type": "choice", "default": "sine", "choices": ["sine", "square"], "help": "the oscillator"},
    }
    assert entries["toy-trained"]["status"] == "unavailable" and "no trained checkpoint" in \
        entries["toy-trained"]["reason"]
    assert entries["hifigan"]["card"]["summary"]

    out = tmp_path / "toy.wav"
    done = _cli(site, models, "vocode", str(EXAMPLE), "-o", str(out), "--vocoder", "toy-sine",
                "--param", "gain=0.25", "--param", "waveform=square")
    assert done.returncode == 0, done.stderr
    audio, rate = sf.read(out)
    assert rate == DEFAULT_CONFIG.sample_rate and np.abs(audio).max() == pytest.approx(0.25, abs=1e-3)

    bad = _cli(site, models, "vocode", str(EXAMPLE), "-o", str(tmp_path / "bad.wav"), "--vocoder", "toy-sine",
               "--param", "gain=3")
    assert bad.returncode == 2 and not (tmp_path / "bad.wav").exists()
    assert bad.stderr.strip().splitlines() == [
        "vocoder-studio: error: toy-sine: parameter gain must be a number in [0, 1], got 3.0"]
