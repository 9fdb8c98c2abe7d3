"""One home for the app's folders: ``VOCODER_STUDIO_HOME`` moves settings, autosaves, caches (the mel tables,
the corpus) and the user's models together; without it the platform's folders are used."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import platformdirs
import pytest

from vocoder_studio import paths
from vocoder_studio.training import corpus
from vocoder_studio.vocoders.checkpoints import model_dirs

from .conftest import ROOT


def test_home_moves_every_folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("VOCODER_STUDIO_HOME", str(tmp_path))
    monkeypatch.delenv("VOCODER_STUDIO_DATA", raising=False)
    assert paths.config_dir() == tmp_path / "config" and paths.state_dir() == tmp_path / "state"
    assert paths.cache_dir() == tmp_path / "cache"
    assert corpus.data_dir() == tmp_path / "cache" / "corpus"
    assert model_dirs()[-1] == paths.user_models_dir() == tmp_path / "models"
    monkeypatch.setenv("VOCODER_STUDIO_DATA", str(tmp_path / "data"))
    assert corpus.data_dir() == tmp_path / "data"


def test_without_home_the_platform_folders(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOCODER_STUDIO_HOME", raising=False)
    monkeypatch.delenv("VOCODER_STUDIO_DATA", raising=False)
    assert paths.cache_dir() == Path(platformdirs.user_cache_dir("vocoder-studio"))
    assert model_dirs()[-1] == Path(platformdirs.user_data_dir("vocoder-studio")) / "models"
    if sys.platform == "linux" and not os.environ.get("XDG_CACHE_HOME"):  # where `data prepare` put the corpus
        assert corpus.data_dir() == Path.home() / ".cache" / "vocoder-studio" / "corpus"


def test_the_mel_tables_are_cached_under_home(tmp_path: Path) -> None:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "VOCODER_STUDIO_HOME": str(tmp_path)}
    probe = "from vocoder_studio.audio.mel import mel_filterbank; print(mel_filterbank().shape)"
    done = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert [p.name for p in (tmp_path / "cache").glob("mel-*.npz")], list(tmp_path.rglob("*"))
