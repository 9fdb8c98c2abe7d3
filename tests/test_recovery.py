"""Issue 7, sections 3 and 4: crash recovery that survives a second crash, damaged autosaves set aside, stale
``.part`` files cleaned, and autosaves that belong to a live process (two copies of the app).

Every "crash" is a real ``SIGKILL`` of a child process running the model layer (no Qt).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import zipfile
from pathlib import Path

import numpy as np
import pytest

from vocoder_studio.autosave import Autosaver, owner_alive, pending_recoveries, session_of
from vocoder_studio.document import Document, Region
from vocoder_studio.errors import VocoderStudioError

ROOT = Path(__file__).resolve().parent.parent

EDIT = """
import numpy as np, sys, time
from pathlib import Path
from vocoder_studio.autosave import Autosaver
from vocoder_studio.document import Document, Region
saver = Autosaver(Path(sys.argv[1]))
doc = Document(np.full((80, 60), -6.0, np.float32), source="take.wav")
saver.track(doc)
doc.write(Region(10, 20, 5, 25), np.full((20, 10), 1.5, np.float32))
print(saver.save(doc), flush=True)
time.sleep(120)
"""

RECOVER = """
import sys, time
from pathlib import Path
from vocoder_studio.autosave import Autosaver, pending_recoveries
saver = Autosaver(Path(sys.argv[1]))
docs = [saver.recover(p) for p in pending_recoveries(saver.folder)]
print(len([d for d in docs if d is not None]), flush=True)
time.sleep(120)  # killed here: before the next autosave tick
"""

HALF_WRITE = """
import sys, time
from pathlib import Path
from vocoder_studio.audio.io import atomic_path
from vocoder_studio.autosave import Autosaver
saver = Autosaver(Path(sys.argv[1]))
with atomic_path(saver.folder / f"{saver.session}.doc.vsproj") as tmp:
    tmp.write_bytes(b"PK half a project")
    print(tmp, flush=True)
    time.sleep(120)  # killed mid-write
"""


def expected_mel() -> np.ndarray:
    mel = np.full((80, 60), -6.0, np.float32)
    mel[5:25, 10:20] = 1.5
    return mel


class Child:
    """A child Python process running ``script`` with the folder as its argument; reads its first line."""

    def __init__(self, script: str, folder: Path) -> None:
        env = {**os.environ, "PYTHONPATH": str(ROOT)}
        self.proc = subprocess.Popen([sys.executable, "-c", textwrap.dedent(script), str(folder)],
                                     stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
        assert self.proc.stdout is not None
        self.line = self.proc.stdout.readline().strip()
        if not self.line:
            raise AssertionError(f"child failed: {self.proc.stderr.read() if self.proc.stderr else ''}")

    def kill(self) -> None:
        os.kill(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)
        assert self.proc.returncode == -signal.SIGKILL
        for stream in (self.proc.stdout, self.proc.stderr):
            if stream is not None:
                stream.close()


def test_a_kill_twice_in_a_row_mid_recovery_still_recovers_the_edit(tmp_path: Path) -> None:
    editor = Child(EDIT, tmp_path)
    assert Path(editor.line).exists()
    editor.kill()
    for _ in range(2):  # start, recover, get killed before the next autosave: twice
        recovering = Child(RECOVER, tmp_path)
        assert recovering.line == "1"
        recovering.kill()
    third = Autosaver(tmp_path)
    (left,) = pending_recoveries(tmp_path)
    doc = third.recover(left)
    assert doc is not None and doc.modified and doc.source == "take.wav"
    np.testing.assert_array_equal(doc.mel, expected_mel())
    # and it stays safe: the recovered file is this session's autosave until the document changes
    assert pending_recoveries(tmp_path) == [] and third.path_for(doc).exists()


def test_a_second_copy_leaves_a_live_copys_autosave_alone_and_recovers_it_after_a_kill(tmp_path: Path) -> None:
    first = Child(EDIT, tmp_path)
    live = Path(first.line)
    try:
        second = Autosaver(tmp_path)
        assert owner_alive(tmp_path, session_of(live))
        assert pending_recoveries(tmp_path) == []  # not offered: its owner is running
        assert live.exists()
        first.kill()  # the first copy dies: now its work is the second copy's to recover
        assert pending_recoveries(tmp_path) == [live]
        doc = second.recover(live)
        assert doc is not None
        np.testing.assert_array_equal(doc.mel, expected_mel())
    finally:
        if first.proc.returncode is None:
            first.kill()


def test_two_copies_recovering_at_once_never_both_take_a_file(tmp_path: Path) -> None:
    editor = Child(EDIT, tmp_path)
    editor.kill()
    (left,) = pending_recoveries(tmp_path)
    a, b = Autosaver(tmp_path), Autosaver(tmp_path)
    first = a.recover(left)
    assert first is not None and b.recover(left) is None


def _project_with_list_meta(path: Path) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("meta.json", "[]")
        archive.writestr("mel.npy", b"")
    return path


@pytest.mark.parametrize("make", [
    lambda p: p.write_bytes(b"garbage"),
    _project_with_list_meta,
    lambda p: p.mkdir(),
    lambda p: p.write_bytes(b"PK\x03\x04" + bytes(100)),
])
def test_any_damaged_autosave_is_set_aside_once_and_the_next_start_is_clean(tmp_path: Path, make) -> None:
    make(tmp_path / "deadbeef.0001.vsproj")
    saver = Autosaver(tmp_path)
    (found,) = pending_recoveries(tmp_path)
    with pytest.raises(VocoderStudioError, match="set aside"):
        saver.recover(found)
    assert pending_recoveries(tmp_path) == []  # reported once, never again
    assert any(p.suffix == ".damaged" for p in tmp_path.iterdir())
    assert pending_recoveries(tmp_path) == [] and Autosaver(tmp_path).folder == tmp_path


def test_stale_part_files_are_cleaned_at_start_and_live_ones_kept(tmp_path: Path) -> None:
    dead = Child(HALF_WRITE, tmp_path)
    dead_part = Path(dead.line)
    dead.kill()
    assert dead_part.exists()
    alive = Child(HALF_WRITE, tmp_path)
    try:
        live_part = Path(alive.line)
        Autosaver(tmp_path)  # a start
        assert not dead_part.exists() and live_part.exists()
        assert not (tmp_path / f"{session_of(dead_part)}.lock").exists()  # the dead session's lock went too
    finally:
        alive.kill()


def test_a_clean_close_releases_the_claim(tmp_path: Path) -> None:
    saver = Autosaver(tmp_path)
    doc = Document(np.zeros((80, 10), np.float32))
    saver.track(doc)
    doc.write(Region(0, 1, 0, 1), np.ones((1, 1), np.float32))
    path = saver.save(doc)
    assert path is not None and pending_recoveries(tmp_path) == []
    lock = saver.lock.path
    assert lock.read_text().strip() == str(os.getpid())
    saver.close()
    assert not lock.exists() and pending_recoveries(tmp_path) == [path]
