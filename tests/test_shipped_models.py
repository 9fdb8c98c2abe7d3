"""Every model the repository ships works from every command a user reaches it by (issue 19): the files in
``models/`` and every vocoder the registry lists, through the real ``vocoder-studio`` command in a subprocess —
``vocoders --json``, ``generate`` (new, ``--inpaint``, ``--prime``) and ``eval melnet`` — and ``vocode --vocoder
NAME`` through ``cli.main`` in this process (a process start per vocoder costs more than most of them take;
test_cli.py runs ``vocode`` as a subprocess). Models are found as a user's command finds them: no ``--model`` for
the default ``melnet.pt`` and no ``$VOCODER_STUDIO_MODELS``. The tests are parametrized over the files found in
``models/``, so a new model file is covered without a new test. The window's docks on the same files:
``tests/ui/test_shipped_models.py``.

Lengths are tiny (MelNet samples about 150 frames a second on one core; 0.3 s is 26 frames) so that the suite stays
quick; what is checked is that each entry point runs on the shipped file and gives a finite result of the right
shape that keeps what it was given.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.cli import main
from vocoder_studio.document import open_document
from vocoder_studio.melnet import load_model
from vocoder_studio.vocoders import list_vocoders
from vocoder_studio.vocoders.checkpoints import ModelCard, card_path, check_checkpoint, find_model

from .conftest import MODELS, ROOT, require, shipped_card_name, shipped_checkpoints

FPS = 1.0 / DEFAULT_CONFIG.frame_seconds


def _card_name(checkpoint: Path) -> str:
    try:
        return shipped_card_name(checkpoint)
    except Exception:  # a broken card fails test_every_file_in_models_is_a_checkpoint_with_its_card, not collection
        return ""


CHECKPOINTS = shipped_checkpoints()
MELNETS = [p for p in CHECKPOINTS if _card_name(p) == "melnet"]
VOCODER_CHECKPOINTS = [p for p in CHECKPOINTS if p not in MELNETS]
REGISTRY = [entry.name for entry in list_vocoders()]


def _id(path: Path) -> str:
    return path.name


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """``vocoder-studio ARGS`` as a user runs it: a new process, the models folders found by themselves."""
    env = {k: v for k, v in os.environ.items() if k != "VOCODER_STUDIO_MODELS"}
    return subprocess.run([sys.executable, "-m", "vocoder_studio", *args], capture_output=True, text=True,
                          timeout=600, env=env, cwd=ROOT)


def ok(*args: str) -> subprocess.CompletedProcess[str]:
    done = cli(*args)
    assert done.returncode == 0, f"vocoder-studio {' '.join(args)}: {done.stderr}"
    return done


def model_args(checkpoint: Path) -> list[str]:
    """No ``--model`` for ``melnet.pt`` (the command finds it and checks its card, as a user's does)."""
    return [] if checkpoint.name == "melnet.pt" else ["--model", str(checkpoint)]


@pytest.fixture(autouse=True)
def _no_models_override(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOCODER_STUDIO_MODELS", raising=False)


@pytest.fixture(scope="module")
def listing() -> dict[str, dict[str, Any]]:
    """``vocoder-studio vocoders --json``, by name."""
    return {entry["name"]: entry for entry in json.loads(ok("vocoders", "--json").stdout)}


@pytest.fixture(scope="module")
def clip_mel(short_clip: Path) -> np.ndarray:
    """The clip's mel as every command reads it."""
    return open_document(short_clip).mel


def test_models_folder_ships_a_melnet_and_vocoders() -> None:
    assert MELNETS and VOCODER_CHECKPOINTS, f"nothing to test in {MODELS}: {CHECKPOINTS}"


@pytest.mark.parametrize("path", sorted(p for p in MODELS.iterdir() if p.name != "README.md"), ids=_id)
def test_every_file_in_models_is_a_checkpoint_with_its_card(path: Path) -> None:
    assert path.suffix in (".pt", ".json"), f"{path}: models/ holds checkpoints and their cards only"
    checkpoint = path.with_suffix(".pt")
    assert checkpoint.is_file() and card_path(checkpoint).is_file()
    card = check_checkpoint(checkpoint, DEFAULT_CONFIG)  # the card loads, the front-end matches, the file is whole
    assert card.name == checkpoint.stem
    assert card.name in {*REGISTRY, "melnet"}, f"{checkpoint}: no entry point uses it"
    assert find_model(checkpoint.name) == checkpoint  # what the commands find: nothing shadows it


@pytest.mark.parametrize("checkpoint", VOCODER_CHECKPOINTS, ids=_id)
def test_vocoders_lists_a_shipped_vocoder_ready_with_its_card(listing: dict[str, dict[str, Any]],
                                                               checkpoint: Path) -> None:
    entry = listing[checkpoint.stem]
    assert entry["status"] == "ready", entry["reason"]
    card = ModelCard.load(card_path(checkpoint))
    assert entry["card"] == card.to_dict() and entry["summary"] == card.summary


@pytest.mark.parametrize("name", REGISTRY)
def test_vocode_a_clip_with_every_vocoder(listing: dict[str, dict[str, Any]], short_clip: Path,
                                          clip_mel: np.ndarray, tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                          name: str) -> None:
    require(listing[name]["status"] == "ready", f"{name} is not installed here: {listing[name]['reason']}")
    out = tmp_path / f"{name}.wav"
    assert main(["vocode", str(short_clip), "-o", str(out), "--vocoder", name, "--device", "cpu",
                 "--format", "float32"]) == 0, capsys.readouterr().err
    assert f"at {DEFAULT_CONFIG.sample_rate} Hz" in capsys.readouterr().out
    audio, rate = sf.read(out, dtype="float32")
    assert rate == DEFAULT_CONFIG.sample_rate and audio.shape == (clip_mel.shape[1] * DEFAULT_CONFIG.hop_length,)
    assert np.isfinite(audio).all() and np.abs(audio).max() <= 1.0
    assert np.sqrt(np.mean(audio**2)) > 1e-3  # sound, not silence


@pytest.mark.parametrize("checkpoint", MELNETS, ids=_id)
def test_generate_new_sound(checkpoint: Path, tmp_path: Path) -> None:
    out = tmp_path / "new.npy"
    done = ok("generate", "-o", str(out), "--seconds", "0.3", "--seed", "1", *model_args(checkpoint))
    assert done.stdout.startswith(f"{out}: mel") and done.stderr == ""
    mel = np.load(out)
    assert mel.dtype == np.float32 and mel.shape == (DEFAULT_CONFIG.n_mels, round(0.3 * FPS))
    assert np.isfinite(mel).all() and mel.min() >= DEFAULT_CONFIG.floor_ln and mel.std() > 0.1


@pytest.mark.parametrize("checkpoint", MELNETS, ids=_id)
def test_generate_inpaint_fills_only_the_range(checkpoint: Path, short_clip: Path, clip_mel: np.ndarray,
                                               tmp_path: Path) -> None:
    out = tmp_path / "fill.npy"
    ok("generate", "-o", str(out), "--inpaint", "0.3:0.5", "--input", str(short_clip), "--seed", "2",
       *model_args(checkpoint))
    mel = np.load(out)
    a, b = round(0.3 * FPS), round(0.5 * FPS)
    assert mel.shape == clip_mel.shape and np.isfinite(mel).all()
    np.testing.assert_array_equal(mel[:, :a], clip_mel[:, :a])
    np.testing.assert_array_equal(mel[:, b:], clip_mel[:, b:])
    assert not np.array_equal(mel[:, a:b], clip_mel[:, a:b]) and mel[:, a:b].min() >= DEFAULT_CONFIG.floor_ln


@pytest.mark.parametrize("checkpoint", MELNETS, ids=_id)
def test_generate_inpaint_past_the_end_fills_to_the_end_and_says_so(checkpoint: Path, short_clip: Path,
                                                                     clip_mel: np.ndarray, tmp_path: Path) -> None:
    """The outside check's ``--inpaint 1.0:1.5`` on a clip shorter than 1.5 s (most alsa-utils clips): the
    range runs to the clip's end, the line printed says so, and the default fill (temperature 0) is the same
    whatever the seed."""
    n = clip_mel.shape[1]
    a = round(0.8 * FPS)
    fills = []
    for seed in ("0", "1"):
        out = tmp_path / f"fill{seed}.npy"
        done = ok("generate", "-o", str(out), "--inpaint", "0.8:1.5", "--input", str(short_clip), "--seed", seed,
                  *model_args(checkpoint))
        assert f"--inpaint 0.8:1.5 runs past the input's end ({n / FPS:.2f} s): filled {a / FPS:.2f}-" in done.stdout
        fills.append(np.load(out))
    assert fills[0].shape == clip_mel.shape and np.array_equal(fills[0], fills[1])
    np.testing.assert_array_equal(fills[0][:, :a], clip_mel[:, :a])
    assert not np.array_equal(fills[0][:, a:], clip_mel[:, a:])


@pytest.mark.parametrize("checkpoint", MELNETS, ids=_id)
def test_eval_melnet_inpaint_scores_the_fill_generate_writes(checkpoint: Path, short_clip: Path) -> None:
    """``eval melnet --inpaint`` without ``--temperature`` scores the fill at generate's fill temperature."""
    from vocoder_studio.melnet.sampling import FILL_TEMPERATURE

    done = ok("eval", "melnet", str(short_clip), "--inpaint", "0.2", "--json", *model_args(checkpoint))
    assert json.loads(done.stdout)["temperature"] == FILL_TEMPERATURE


@pytest.mark.parametrize("checkpoint", MELNETS, ids=_id)
def test_generate_continues_a_prime(checkpoint: Path, short_clip: Path, clip_mel: np.ndarray,
                                    tmp_path: Path) -> None:
    out = tmp_path / "cont.npy"
    ok("generate", "-o", str(out), "--prime", str(short_clip), "--prime-seconds", "0.5", "--seconds", "0.2",
       "--seed", "3", *model_args(checkpoint))
    mel = np.load(out)
    p = round(0.5 * FPS)
    assert mel.shape == (DEFAULT_CONFIG.n_mels, p + round(0.2 * FPS)) and np.isfinite(mel).all()
    np.testing.assert_array_equal(mel[:, :p], clip_mel[:, :p])


@pytest.mark.parametrize("checkpoint", MELNETS, ids=_id)
def test_eval_melnet_scores_a_clip(checkpoint: Path, short_clip: Path, clip_mel: np.ndarray) -> None:
    result = json.loads(ok("eval", "melnet", str(short_clip), "--json", *model_args(checkpoint)).stdout)
    assert result["files"] == 1 and result["cells"] == clip_mel.size
    assert np.isfinite(result["nll_per_cell"])
    assert len(result["tiers"]) == load_model(checkpoint).config.n_tiers
