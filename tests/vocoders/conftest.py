"""The toy plug-in, installed for a test as a real distribution: a ``*.dist-info`` folder with an entry point on
sys.path (what ``pip install`` leaves behind), so ``importlib.metadata`` finds it as it would in a user's venv."""

from __future__ import annotations

import importlib
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from vocoder_studio.vocoders import registry

PLUGIN_SOURCE = Path(__file__).parent / "plugin_src" / "toy_vocoder_plugin.py"


def install_toy_plugin(site: Path) -> Path:
    """Write the plug-in and its dist-info into ``site``; returns ``site``."""
    site.mkdir(parents=True, exist_ok=True)
    shutil.copy(PLUGIN_SOURCE, site / PLUGIN_SOURCE.name)
    info = site / "toy_vocoder_plugin-0.1.dist-info"
    info.mkdir(exist_ok=True)
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: toy-vocoder-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[vocoder_studio.vocoders]\ntoy = toy_vocoder_plugin\n")
    return site


@pytest.fixture
def toy_plugin(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """The toy plug-in installed on sys.path for this test, with an empty models directory of its own
    (``$VOCODER_STUDIO_MODELS``); yields that models directory."""
    site = install_toy_plugin(tmp_path / "site")
    models = tmp_path / "models"
    models.mkdir()
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setenv("VOCODER_STUDIO_MODELS", str(models))
    importlib.invalidate_caches()
    registry.refresh()
    yield models
    registry.refresh()
