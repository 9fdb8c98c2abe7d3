from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vocoder_studio.document import Document, Region
from vocoder_studio.errors import AudioFileError, MelShapeError


def make_doc(frames: int = 200) -> Document:
    return Document(np.random.default_rng(1).normal(-6, 2, (80, frames)).astype(np.float32), source="x.wav")


def test_write_undo_redo_bit_exact() -> None:
    doc = make_doc()
    original = doc.mel.copy()
    with doc.edit("Brush"):
        doc.write(Region(10, 20, 5, 15), np.zeros((10, 10), np.float32))
        doc.write(Region(15, 40, 0, 3), np.ones((3, 25), np.float32))
    edited = doc.mel.copy()
    assert doc.undo_label == "Brush" and doc.version == 2
    assert doc.undo()
    np.testing.assert_array_equal(doc.mel, original)
    assert doc.redo()
    np.testing.assert_array_equal(doc.mel, edited)
    assert not doc.redo()


def test_history_memory_grows_with_the_edited_area_not_the_array() -> None:
    doc = make_doc(20000)
    doc.write(Region(100, 110, 0, 10), np.zeros((10, 10), np.float32))
    assert doc.history_bytes == 2 * 10 * 10 * 4
    assert doc.history_bytes < doc.mel.nbytes / 1000


def test_listeners_hear_the_changed_region_and_versions_increase() -> None:
    doc = make_doc()
    heard: list[Region] = []
    doc.subscribe(lambda d, r: heard.append(r))
    doc.write(Region(3, 5, 0, 80), np.zeros((80, 2), np.float32))
    doc.undo()
    assert heard == [Region(3, 5, 0, 80)] * 2 and doc.version == 2


def test_mel_is_read_only_from_outside() -> None:
    doc = make_doc()
    with pytest.raises(ValueError):
        doc.mel[0, 0] = 1.0


def test_bad_values_are_refused() -> None:
    doc = make_doc()
    with pytest.raises(MelShapeError):
        doc.write(Region(0, 2, 0, 2), np.zeros((3, 3), np.float32))
    with pytest.raises(MelShapeError):
        doc.write(Region(0, 1, 0, 1), np.array([[np.nan]], np.float32))


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.integers(-5, 60), st.integers(1, 30), st.integers(-5, 85), st.integers(1, 30),
                          st.floats(-20, 5)), min_size=1, max_size=6))
def test_any_edit_sequence_undoes_to_the_original(edits: list[tuple[int, int, int, int, float]]) -> None:
    doc = make_doc(64)
    original = doc.mel.copy()
    for f0, fw, b0, bw, value in edits:
        region = Region(f0, f0 + fw, b0, b0 + bw).clip(80, 64)
        if region.empty:
            continue
        doc.write(region, np.full((region.band1 - region.band0, region.frame1 - region.frame0), value, np.float32))
    while doc.undo():
        pass
    np.testing.assert_array_equal(doc.mel, original)


def test_project_round_trip_and_atomic_save(tmp_path: Path) -> None:
    doc = make_doc()
    doc.selection = Region(1, 9, 2, 30)
    doc.vocoder = "griffin-lim"
    path = doc.save(tmp_path / "p.vsproj")
    assert not doc.modified and not list(tmp_path.glob("*.part"))
    back = Document.load(path)
    np.testing.assert_array_equal(back.mel, doc.mel)
    assert back.selection == doc.selection and back.vocoder == "griffin-lim" and back.source == "x.wav"


def test_bad_project_files(tmp_path: Path) -> None:
    (tmp_path / "junk.vsproj").write_bytes(b"PK not really")
    with pytest.raises(AudioFileError, match="not a Vocoder Studio project"):
        Document.load(tmp_path / "junk.vsproj")
    with pytest.raises(AudioFileError, match="no such file"):
        Document.load(tmp_path / "missing.vsproj")


def test_history_listeners_hear_after_the_step_is_on_the_stack() -> None:
    doc = make_doc()
    seen: list[tuple[bool, bool]] = []
    doc.subscribe_history(lambda d: seen.append((d.can_undo, d.can_redo)))
    with doc.edit("Brush"):
        doc.write(Region(0, 2, 0, 2), np.zeros((2, 2), np.float32))
        doc.write(Region(2, 4, 0, 2), np.zeros((2, 2), np.float32))
        assert seen == []  # mid-stroke: nothing pushed yet
    doc.undo()
    doc.redo()
    assert seen == [(True, False), (False, True), (True, False)]


def test_uids_are_never_reused() -> None:
    seen = set()
    for _ in range(50):
        doc = make_doc(4)  # each dies at once, so id() would repeat
        assert doc.uid not in seen
        seen.add(doc.uid)
