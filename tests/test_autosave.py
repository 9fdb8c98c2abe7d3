from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from vocoder_studio.autosave import Autosaver, pending_recoveries
from vocoder_studio.document import Document, Region
from vocoder_studio.errors import VocoderStudioError


def test_modified_documents_are_autosaved_and_recovered_after_a_crash(tmp_path: Path) -> None:
    doc = Document(np.full((80, 50), -6.0, np.float32), source="take1.wav")
    saver = Autosaver(tmp_path)
    assert saver.save(doc) is None  # nothing changed yet
    doc.write(Region(5, 10, 0, 80), np.zeros((80, 5), np.float32))
    path = saver.save(doc)
    assert path is not None and path.exists()
    assert saver.save(doc) is None  # unchanged since: no rewrite
    assert pending_recoveries(tmp_path) == []  # its owner is alive
    saver.close()  # the process dies here (its lock goes); the next session finds the file
    left = pending_recoveries(tmp_path)
    assert left == [path]
    back = Autosaver(tmp_path).recover(path)
    assert back is not None
    np.testing.assert_array_equal(back.mel, doc.mel)
    assert back.modified and back.source == "take1.wav" and not path.exists()


def test_saved_or_closed_documents_leave_no_autosave(tmp_path: Path) -> None:
    autosaves = tmp_path / "autosave"
    autosaves.mkdir()
    doc = Document(np.full((80, 20), -6.0, np.float32))
    saver = Autosaver(autosaves)
    doc.write(Region(0, 2, 0, 2), np.zeros((2, 2), np.float32))
    assert saver.save(doc) is not None
    doc.save(tmp_path / "mine.vsproj")
    saver.save(doc)
    assert pending_recoveries(autosaves) == []
    doc.write(Region(0, 2, 0, 2), np.ones((2, 2), np.float32))
    assert saver.save(doc) is not None
    saver.forget(doc)
    assert pending_recoveries(autosaves) == []


def test_damaged_autosave_is_kept_aside(tmp_path: Path) -> None:
    bad = tmp_path / "x.vsproj"
    bad.write_bytes(b"garbage")
    with pytest.raises(VocoderStudioError):
        Autosaver(tmp_path).recover(bad)
    assert [p.suffix for p in tmp_path.iterdir() if not p.name.endswith(".lock")] == [".damaged"]


def test_a_document_whose_content_did_not_change_is_not_autosaved(tmp_path: Path) -> None:
    """Rough edge 11: a write that changes nothing (an eraser click on silence) or edits all undone set
    ``modified`` but leave nothing to recover: a kill must not offer such a document at the next start."""
    doc = Document(np.full((80, 50), -6.0, np.float32), source="take1.wav")
    saver = Autosaver(tmp_path)
    saver.track(doc)  # as the window does on opening
    doc.write(Region(0, 5, 0, 80), np.full((80, 5), -6.0, np.float32))  # the same values
    assert doc.modified and not saver.has_unsaved_changes(doc)
    assert saver.save(doc) is None and pending_recoveries(tmp_path) == []
    doc.write(Region(0, 5, 0, 80), np.zeros((80, 5), np.float32))
    assert saver.has_unsaved_changes(doc) and saver.save(doc) is not None
    doc.undo()
    doc.undo()  # back to the content as opened
    assert doc.modified and saver.save(doc) is None
    assert pending_recoveries(tmp_path) == []  # and the earlier autosave is gone


def test_a_recovered_document_stays_recoverable(tmp_path: Path) -> None:
    doc = Document(np.full((80, 20), -6.0, np.float32))
    saver = Autosaver(tmp_path)
    saver.track(doc)
    doc.write(Region(0, 2, 0, 2), np.zeros((2, 2), np.float32))
    (path,) = [saver.save(doc)]
    saver.close()
    again = Autosaver(tmp_path)
    back = again.recover(path)  # its content exists nowhere else now
    assert back is not None
    again.track(back)
    assert again.has_unsaved_changes(back)
    kept = again.path_for(back)
    assert kept.exists() and again.save(back) is None  # the recovered file is its autosave until it changes
    back.write(Region(0, 1, 0, 1), np.ones((1, 1), np.float32))
    assert again.save(back) == kept
