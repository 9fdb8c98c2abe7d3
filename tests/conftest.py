"""Shared fixtures: real speech (alsa-utils' clips, installed by .ci/run) and the bundled example."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

ALSA_DIR = Path("/usr/share/sounds/alsa")
ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "resources" / "example.flac"
#: the models the repository ships (``NAME.pt`` with its card ``NAME.json``)
MODELS = ROOT / "models"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def require(condition: bool, reason: str) -> None:
    """Skip when ``condition`` is false, except under CI where a missing requirement is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"required under CI: {reason}")
    pytest.skip(reason)


def alsa_clips() -> list[Path]:
    return [p for p in sorted(ALSA_DIR.glob("*.wav")) if p.name != "Noise.wav"]


@pytest.fixture(scope="session")
def speech_files() -> list[Path]:
    """The eight spoken channel names of alsa-utils (48 kHz mono, 11.4 s in all)."""
    clips = alsa_clips()
    require(len(clips) >= 8, f"alsa-utils speech clips missing under {ALSA_DIR} (apt-get install alsa-utils)")
    return clips


@pytest.fixture(scope="session")
def speech(speech_files: list[Path]) -> np.ndarray:
    """11.4 s of real speech at 22050 Hz, float32, a whole number of 256-sample frames long."""
    from vocoder_studio.audio import load_audio

    audio = np.concatenate([load_audio(p) for p in speech_files])
    return audio[: len(audio) // 256 * 256]


@pytest.fixture(scope="session")
def speech_mel(speech: np.ndarray) -> np.ndarray:
    from vocoder_studio.audio import wav_to_mel

    return wav_to_mel(speech)


@pytest.fixture(scope="session")
def example_mel() -> np.ndarray:
    from vocoder_studio.audio import load_audio, wav_to_mel

    return wav_to_mel(load_audio(EXAMPLE))


def shipped_checkpoints() -> list[Path]:
    """Every checkpoint in the checkout's ``models/`` folder: tests parametrized over it cover a new one."""
    return sorted(MODELS.glob("*.pt"))


def shipped_card_name(checkpoint: Path) -> str:
    """The ``name`` of a shipped checkpoint's card: the vocoder entry (or ``melnet``) that uses it."""
    from vocoder_studio.vocoders.checkpoints import ModelCard, card_path

    return ModelCard.load(card_path(checkpoint)).name


@pytest.fixture(scope="session")
def short_clip(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled example's first second of speech (16 kHz mono) as a WAV file: the clip a user would try."""
    import soundfile as sf

    audio, rate = sf.read(EXAMPLE, dtype="float32")
    path = tmp_path_factory.mktemp("clip") / "clip.wav"
    sf.write(path, audio[:rate], rate)
    return path


@pytest.fixture(scope="session")
def hifigan():
    from vocoder_studio.vocoders import create_vocoder

    return create_vocoder("hifigan")


@pytest.fixture(scope="session", autouse=True)
def _torch_threads() -> None:
    import torch

    torch.set_num_threads(max(1, os.cpu_count() or 1))


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    """Run ``python -m vocoder_studio ARGS`` in a fresh interpreter (at most 300 s); its output as text."""
    return subprocess.run([sys.executable, "-m", "vocoder_studio", *args], capture_output=True, text=True,
                          timeout=300)


def _module_files() -> dict[str, Path]:
    files = {}
    for path in (ROOT / "vocoder_studio").rglob("*.py"):
        parts = list(path.relative_to(ROOT).with_suffix("").parts)
        if parts[-1] == "__init__":
            parts = parts[:-1]
        files[".".join(parts)] = path
    return files


def import_graph() -> dict[str, set[str]]:
    """Each module → the package's modules it imports anywhere in its source (inside functions and
    ``TYPE_CHECKING`` blocks too); ``from package import submodule`` counts as importing the submodule."""
    files = _module_files()
    graph: dict[str, set[str]] = {}
    for name, path in files.items():
        package = name if path.name == "__init__.py" else name.rsplit(".", 1)[0]
        found: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                found.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parent = package.split(".")[: len(package.split(".")) - node.level + 1]
                    base = ".".join(parent + ([node.module] if node.module else []))
                submodules = {f"{base}.{alias.name}" for alias in node.names} & files.keys()
                found.update(submodules or {base})
        graph[name] = {m for m in found if m in files and m != name}
    return graph
