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


# ----- frames: insert, append, delete --------------------------------------------------------------------
def block(frames: int, seed: int = 2) -> np.ndarray:
    return np.random.default_rng(seed).normal(-5, 2, (80, frames)).astype(np.float32)


def test_insert_frames_is_one_exact_undo_step_and_observers_hear_the_shift() -> None:
    from vocoder_studio.document import FrameShift

    doc = make_doc(100)
    original = doc.mel.copy()
    regions: list[tuple[Region, int]] = []
    shifts: list[FrameShift] = []
    doc.subscribe(lambda d, r: regions.append((r, d.frames)))
    doc.subscribe_frames(lambda d, s: shifts.append(s))
    new = block(30)
    shift = doc.insert_frames(40, new, "Inpaint")
    assert shift == FrameShift(40, 0, 30, 130) and shifts == [shift] and shift.delta == 30
    assert doc.frames == 130 and doc.version == 1 and doc.modified and doc.undo_label == "Inpaint"
    np.testing.assert_array_equal(doc.mel[:, :40], original[:, :40])
    np.testing.assert_array_equal(doc.mel[:, 40:70], new)
    np.testing.assert_array_equal(doc.mel[:, 70:], original[:, 40:])
    assert regions == [(Region(40, 130, 0, 80), 130)]  # from the change to the (new) end, all bands
    edited = doc.mel.copy()
    assert doc.undo()
    assert doc.frames == 100 and doc.version == 2
    np.testing.assert_array_equal(doc.mel, original)
    assert shifts[-1] == FrameShift(40, 30, 0, 100)
    assert doc.redo()
    np.testing.assert_array_equal(doc.mel, edited)
    assert doc.version == 3 and shifts[-1] == shift


def test_delete_frames_undo_redo_bit_exact_and_history_keeps_only_the_deleted_frames() -> None:
    doc = make_doc(20000)
    original = doc.mel.copy()
    doc.delete_frames(100, 150)
    assert doc.frames == 19950 and doc.undo_label == "Delete frames"
    np.testing.assert_array_equal(doc.mel, np.concatenate([original[:, :100], original[:, 150:]], axis=1))
    assert doc.history_bytes == 80 * 50 * 4  # the deleted frames, not the document
    doc.undo()
    np.testing.assert_array_equal(doc.mel, original)
    doc.redo()
    assert doc.frames == 19950
    doc.insert_frames(5, block(10))
    assert doc.history_bytes == 80 * 50 * 4  # an insert costs nothing while its frames are in the document


def test_frame_ranges_and_blocks_are_checked() -> None:
    doc = make_doc(10)
    with pytest.raises(MelShapeError, match="outside"):
        doc.delete_frames(5, 11)
    with pytest.raises(MelShapeError, match="outside"):
        doc.insert_frames(-1, block(2))
    with pytest.raises(MelShapeError, match="shape"):
        doc.append_frames(np.zeros((79, 3), np.float32))
    with pytest.raises(MelShapeError, match="NaN"):
        doc.append_frames(np.full((80, 1), np.inf, np.float32))
    with pytest.raises(MelShapeError, match="without frames"):
        doc.delete_frames(0, 10)
    assert doc.frames == 10 and doc.version == 0 and not doc.can_undo
    assert doc.insert_frames(3, block(0)) is None and doc.version == 0


def test_a_generation_appending_block_by_block_is_one_undo_step() -> None:
    doc = make_doc(50)
    original = doc.mel.copy()
    blocks = [block(3, seed) for seed in range(20)]
    heard: list[int] = []
    doc.subscribe(lambda d, r: heard.append(d.frames))
    with doc.edit("Continue"):
        for b in blocks:
            doc.append_frames(b)
    assert heard == [50 + 3 * (i + 1) for i in range(20)]  # the canvas hears every block as it comes
    assert doc.frames == 110 and doc.undo_label == "Continue"
    np.testing.assert_array_equal(doc.mel[:, 50:], np.concatenate(blocks, axis=1))
    grown = doc.mel.copy()
    doc.undo()
    assert not doc.can_undo
    np.testing.assert_array_equal(doc.mel, original)
    doc.redo()
    np.testing.assert_array_equal(doc.mel, grown)


def test_append_with_extend_joins_the_newest_step_until_the_user_edits() -> None:
    doc = make_doc(20)
    doc.write(Region(0, 2, 0, 2), np.zeros((2, 2), np.float32))
    doc.append_frames(block(4, 1), "Continue")  # the first block: a new step
    doc.append_frames(block(4, 2), "Continue", extend=True)
    doc.append_frames(block(4, 3), "Continue", extend=True)
    assert doc.frames == 32 and len(doc._undo) == 2
    doc.write(Region(0, 2, 0, 2), np.ones((2, 2), np.float32))  # the user paints while it generates
    doc.append_frames(block(4, 4), "Continue", extend=True)  # cannot join across the paint: a new step
    assert len(doc._undo) == 4
    doc.undo()
    doc.undo()
    assert doc.frames == 32
    doc.undo()
    assert doc.frames == 20 and doc.undo_label == "Edit"


def test_appending_frame_by_frame_grows_the_storage_geometrically() -> None:
    doc = make_doc(100)
    copies = 0
    previous = doc.mel
    for i in range(2000):
        doc.append_frames(block(1, i))
        current = doc.mel
        if not np.shares_memory(previous, current):
            copies += 1
        previous = current
    assert doc.frames == 2100
    assert copies <= 12  # amortised growth; a copy per append would be 2000


def test_selection_moves_with_inserted_and_deleted_frames() -> None:
    doc = make_doc(100)
    doc.selection = Region(20, 40, 5, 30)
    doc.insert_frames(10, block(5))
    assert doc.selection == Region(25, 45, 5, 30)  # before it: the selection moves
    doc.insert_frames(30, block(5))
    assert doc.selection == Region(25, 50, 5, 30)  # inside it: it grows
    doc.insert_frames(50, block(5))
    assert doc.selection == Region(25, 50, 5, 30)  # at its end: it stays
    doc.delete_frames(40, 60)
    assert doc.selection == Region(25, 40, 5, 30)  # its tail deleted: clipped
    doc.delete_frames(20, 45)
    assert doc.selection is None  # all its frames deleted


def test_a_grown_document_saves_and_reloads_identically(tmp_path: Path) -> None:
    doc = make_doc(60)
    with doc.edit("Continue"):
        for seed in range(7):
            doc.append_frames(block(5, seed))
    doc.delete_frames(10, 12)
    doc.selection = Region(50, 90, 0, 80)
    back = Document.load(doc.save(tmp_path / "grown.vsproj"))
    assert back.frames == 93 and back.mel.flags.c_contiguous
    np.testing.assert_array_equal(back.mel, doc.mel)
    assert back.selection == doc.selection


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.sampled_from(["write", "insert", "append", "delete", "group", "extend"]),
                          st.integers(0, 200), st.integers(0, 200), st.integers(0, 12)), min_size=1, max_size=8))
def test_any_sequence_of_writes_inserts_and_deletes_undoes_and_redoes_exactly(
        ops: list[tuple[str, int, int, int]]) -> None:
    doc = make_doc(40)
    states = [doc.mel.copy()]
    gen_at: int | None = None
    for i, (kind, x, y, n) in enumerate(ops):
        frames = doc.frames
        steps_before = len(doc._undo)
        a, b = sorted((x % (frames + 1), y % (frames + 1)))
        if kind == "write":
            region = Region(a, max(b, a + 1), n, n + 20).clip(80, frames)
            doc.write(region, np.full((region.band1 - region.band0, region.frame1 - region.frame0), -n, np.float32))
        elif kind == "insert":
            doc.insert_frames(a, block(n, i))
        elif kind == "append":
            doc.append_frames(block(n, i))
        elif kind == "delete":
            if b - a >= frames:
                b -= 1
            doc.delete_frames(a, b)
        elif kind == "extend":  # a sampler's next block: joins the last step if that was one
            at = gen_at if gen_at is not None and gen_at <= frames else a
            removed = min(y % 3, frames - at, frames + n - 1)
            doc.splice_frames(at, at + removed, block(n, i), "Generate", extend=True)
            gen_at = at + n
        else:  # an edit mixing everything, as one step
            with doc.edit("Mixed"):
                doc.append_frames(block(n, i))
                width = min(3, doc.frames)  # deletes may have left fewer than 3 frames (and n may be 0)
                doc.write(Region(0, width, 0, 80), np.zeros((80, width), np.float32))
                doc.append_frames(block(n + 1, i + 1))
                doc.insert_frames(a, block(2, i + 2))
                doc.delete_frames(0, 1)
        if doc.mel.shape != states[-1].shape or not np.array_equal(doc.mel, states[-1]):
            if len(doc._undo) > steps_before:
                states.append(doc.mel.copy())
            else:  # joined the step before
                states[-1] = doc.mel.copy()
    steps = len(states) - 1
    for expected in reversed(states[:-1]):
        assert doc.undo()
        np.testing.assert_array_equal(doc.mel, expected)
    assert not doc.undo()
    for expected in states[1:]:
        assert doc.redo()
        np.testing.assert_array_equal(doc.mel, expected)
    assert not doc.redo() and steps == len(states) - 1


def test_inpainting_block_by_block_with_extend_is_one_exact_undo_step() -> None:
    from vocoder_studio.document import FrameShift

    doc = make_doc(100)
    original = doc.mel.copy()
    regions: list[Region] = []
    doc.subscribe(lambda d, r: regions.append(r))
    for i in range(4):  # frames [40, 80) replaced 10 at a time, as a sampler makes them
        shift = doc.splice_frames(40 + 10 * i, 50 + 10 * i, block(10, i), "Inpaint", extend=i > 0)
        assert shift == FrameShift(40 + 10 * i, 10, 10, 100)
    assert regions == [Region(40 + 10 * i, 50 + 10 * i, 0, 80) for i in range(4)]  # same length: just the block
    assert len(doc._undo) == 1 and doc.history_bytes == 80 * 40 * 4
    inpainted = doc.mel.copy()
    expected = np.maximum(np.concatenate([block(10, i) for i in range(4)], axis=1), doc.config.floor_ln)
    np.testing.assert_array_equal(inpainted[:, 40:80], expected)
    doc.undo()
    np.testing.assert_array_equal(doc.mel, original)
    doc.redo()
    np.testing.assert_array_equal(doc.mel, inpainted)
