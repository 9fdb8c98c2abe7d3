"""The per-document colour map and range: the project file keeps them, old projects load with defaults."""

from __future__ import annotations

import json
import zipfile

import numpy as np
import pytest

from vocoder_studio.display import COLORMAPS, DEFAULT_COLORMAP, Display
from vocoder_studio.document import Document
from vocoder_studio.errors import AudioFileError


def _mel(frames: int = 40) -> np.ndarray:
    return np.random.default_rng(0).normal(-5.0, 1.0, (80, frames)).astype(np.float32)


def test_display_round_trips_through_the_project_file(tmp_path) -> None:
    doc = Document(_mel())
    doc.display = Display("grey-inverted", (-70.0, 12.0))
    path = doc.save(tmp_path / "a.vsproj")
    loaded = Document.load(path)
    assert loaded.display == Display("grey-inverted", (-70.0, 12.0))


def test_a_project_without_display_loads_with_defaults(tmp_path) -> None:
    path = Document(_mel()).save(tmp_path / "old.vsproj")
    with zipfile.ZipFile(path) as archive:
        mel, meta = archive.read("mel.npy"), json.loads(archive.read("meta.json"))
    del meta["display"]  # a project written before the field existed
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mel.npy", mel)
        archive.writestr("meta.json", json.dumps(meta))
    assert Document.load(path).display == Display(DEFAULT_COLORMAP, None)
    meta["display"] = None
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mel.npy", mel)
        archive.writestr("meta.json", json.dumps(meta))
    assert Document.load(path).display == Display(DEFAULT_COLORMAP, None)


@pytest.mark.parametrize("display, field", [
    ({"levels": [10, -10]}, "display.levels"),
    ({"levels": "loud"}, "display.levels"),
    ({"colormap": 3}, "display.colormap"),
    ([], "display"),
])
def test_a_bad_display_field_is_named(tmp_path, display: object, field: str) -> None:
    path = Document(_mel()).save(tmp_path / "bad.vsproj")
    with zipfile.ZipFile(path) as archive:
        mel, meta = archive.read("mel.npy"), json.loads(archive.read("meta.json"))
    meta["display"] = display
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mel.npy", mel)
        archive.writestr("meta.json", json.dumps(meta))
    with pytest.raises(AudioFileError, match=field.replace(".", r"\.")):
        Document.load(path)


def test_an_unknown_colormap_from_a_newer_app_falls_back_to_the_default() -> None:
    assert Display.from_json({"colormap": "turbo-9000"}).colormap == DEFAULT_COLORMAP
    assert DEFAULT_COLORMAP == "inferno" and {"grey", "grey-inverted"} <= set(COLORMAPS)
