"""The wheel a user installs (`pip install .`) holds every package and the bundled example, and the installed
app finds the example from any folder (rough edge 13)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from vocoder_studio.paths import example_path

from .conftest import ROOT

tomllib = pytest.importorskip("tomllib")

_NOT_SOURCES = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", ".*_cache",
                                      ".hypothesis", "tests", "docs", "out", "*.part")


def _pyproject() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())


def test_the_explicit_package_list_names_every_package_folder() -> None:
    listed = set(_pyproject()["tool"]["setuptools"]["packages"])
    on_disk = {
        ".".join(folder.relative_to(ROOT).parts)
        for folder in (ROOT / "vocoder_studio").rglob("*")
        if folder.is_dir() and folder.name != "__pycache__" and any(folder.glob("*.py"))
    } | {"vocoder_studio", "vocoder_studio.resources", "vocoder_studio.models"}
    assert listed == on_disk


@pytest.fixture(scope="module")
def wheel(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A wheel built offline from a copy of the checkout (no stale build/ folder can leak into it)."""
    pytest.importorskip("setuptools")
    source = tmp_path_factory.mktemp("source") / "vocoder-studio"
    shutil.copytree(ROOT, source, ignore=_NOT_SOURCES)
    out = tmp_path_factory.mktemp("wheel")
    done = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "--no-index",
                           "-q", "-w", str(out), str(source)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (built,) = out.glob("vocoder_studio-*.whl")
    return built


def test_the_wheel_ships_the_example_and_its_licence_note(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    assert "vocoder_studio/resources/example.flac" in names
    assert "vocoder_studio/resources/README.md" in names
    # the desktop entry, icon and project type that `vocoder-studio install-desktop` writes
    assert {f"vocoder_studio/resources/vocoder-studio{n}" for n in (".desktop", ".svg", "-mime.xml")} <= names
    assert "vocoder_studio/models/README.md" in names  # trained models ship as package data beside it
    assert "vocoder_studio/training/manifest.csv" in names
    assert "vocoder_studio/py.typed" in names
    assert "vocoder_studio/evaluation/bench.py" in names and "vocoder_studio/ui/app.py" in names
    with zipfile.ZipFile(wheel) as archive:
        assert archive.read("vocoder_studio/resources/example.flac") == (ROOT / "resources/example.flac").read_bytes()


def test_an_installed_wheel_finds_the_example_from_another_folder(wheel: Path, tmp_path: Path) -> None:
    target = tmp_path / "site"
    done = subprocess.run([sys.executable, "-m", "pip", "install", "--no-deps", "--no-index", "-q", "--target",
                           str(target), str(wheel)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    probe = ("import sys; sys.path.insert(0, sys.argv[1]); import vocoder_studio; "
             "from vocoder_studio.paths import example_path; from vocoder_studio.document import open_document; "
             "print(vocoder_studio.__file__); print(example_path()); print(open_document(example_path()).frames)")
    done = subprocess.run([sys.executable, "-c", probe, str(target)], cwd=elsewhere, capture_output=True, text=True,
                          timeout=300)
    assert done.returncode == 0, done.stderr
    package_file, example, frames = done.stdout.split("\n")[:3]
    assert Path(package_file).is_relative_to(target)  # the installed copy, not the checkout
    assert Path(example) == target / "vocoder_studio" / "resources" / "example.flac"
    assert int(frames) > 0


def test_in_a_checkout_the_example_is_the_resources_file() -> None:
    assert example_path().samefile(ROOT / "resources" / "example.flac")
