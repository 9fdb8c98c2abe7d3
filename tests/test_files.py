"""Files as a user meets them: output folders, permissions, failed saves, files that are not what they say.

The command line is run as users run it (a real subprocess), like tests/test_cli.py.
"""

from __future__ import annotations

import contextlib
import json
import os
import stat
import subprocess
import sys
import textwrap
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest

from vocoder_studio.document import Document, Region
from vocoder_studio.errors import AudioFileError

from .conftest import EXAMPLE


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vocoder_studio", *args], capture_output=True, text=True,
                          timeout=300)


@contextlib.contextmanager
def umask(mask: int) -> Iterator[None]:
    old = os.umask(mask)
    try:
        yield
    finally:
        os.umask(old)


def one_error_line(done: subprocess.CompletedProcess[str]) -> str:
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in done.stderr, done.stderr
    return lines[0]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


# ----- a missing output folder is an error (rough edge 3) -------------------------------------------------------
def test_mel_into_a_missing_folder_is_exit_2_and_creates_nothing(tmp_path: Path) -> None:
    out = tmp_path / "nonexistent" / "dir" / "x.npy"
    line = one_error_line(cli("mel", str(EXAMPLE), "-o", str(out)))
    assert line == f"vocoder-studio: error: {out}: folder {out.parent} does not exist"
    assert not (tmp_path / "nonexistent").exists()


def test_vocode_into_a_missing_folder_is_exit_2(tmp_path: Path) -> None:
    mel = tmp_path / "m.npy"
    np.save(mel, np.full((80, 8), -5.0, np.float32))
    out = tmp_path / "nonexistent" / "x.wav"
    line = one_error_line(cli("vocode", str(mel), "-o", str(out), "--vocoder", "griffin-lim", "--iterations", "1"))
    assert line.endswith(f"folder {out.parent} does not exist")
    assert not out.parent.exists()


# ----- a text file named .npy (rough edge 5) --------------------------------------------------------------------
def test_a_text_file_named_npy_is_not_a_mel_array(tmp_path: Path) -> None:
    fake = tmp_path / "mel.npy"
    fake.write_text("-5.0 -4.2 -3.9\n-5.1 -4.0 -3.3\n")
    line = one_error_line(cli("vocode", str(fake), "-o", str(tmp_path / "o.wav")))
    assert line.startswith(f"vocoder-studio: error: {fake}: not a NumPy .npy array")
    assert "pickle" not in line
    assert not (tmp_path / "o.wav").exists()


# ----- written files get the umask's permissions (rough edge 2) -------------------------------------------------
@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600)])
def test_cli_outputs_get_the_umask_default(tmp_path: Path, mask: int, expected: int) -> None:
    out = tmp_path / "example.npy"
    with umask(mask):  # the child inherits it
        done = cli("mel", str(EXAMPLE), "-o", str(out))
    assert done.returncode == 0, done.stderr
    assert mode(out) == expected


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600)])
def test_project_saves_get_the_umask_default(tmp_path: Path, mask: int, expected: int) -> None:
    doc = Document(np.full((80, 20), -5.0, np.float32))
    with umask(mask):
        path = doc.save(tmp_path / "p.vsproj")
    assert mode(path) == expected


@pytest.mark.parametrize("mask, expected", [(0o022, 0o644), (0o077, 0o600)])
def test_autosaves_get_the_umask_default(tmp_path: Path, mask: int, expected: int) -> None:
    from vocoder_studio.autosave import Autosaver

    doc = Document(np.full((80, 20), -5.0, np.float32))
    doc.write(Region(0, 2, 0, 2), np.zeros((2, 2), np.float32))
    with umask(mask):
        path = Autosaver(tmp_path).save(doc)
    assert path is not None and mode(path) == expected


# ----- a failed project save (rough edge 16) --------------------------------------------------------------------
def _edited_document(tmp_path: Path) -> tuple[Document, Path, bytes]:
    doc = Document(np.full((80, 40), -5.0, np.float32))
    saved = doc.save(tmp_path / "project.vsproj")
    old = saved.read_bytes()
    doc.write(Region(0, 10, 0, 10), np.zeros((10, 10), np.float32))
    assert doc.modified
    return doc, saved, old


def test_a_project_save_into_a_file_as_folder_fails_and_keeps_the_document_modified(tmp_path: Path) -> None:
    doc, saved, old = _edited_document(tmp_path)
    blocker = tmp_path / "not-a-folder"
    blocker.write_bytes(b"a file")
    target = blocker / "project.vsproj"
    with pytest.raises(AudioFileError, match="is not a folder") as info:
        doc.save(target)
    assert str(info.value).startswith(str(target)) and "\n" not in str(info.value)
    assert doc.modified and doc.project_path == saved
    assert saved.read_bytes() == old


def test_a_project_save_over_a_folder_fails_and_leaves_no_temporary(tmp_path: Path) -> None:
    doc, _, _ = _edited_document(tmp_path)
    folder = tmp_path / "taken.vsproj"
    folder.mkdir()
    with pytest.raises(AudioFileError, match="cannot write"):
        doc.save(folder)
    assert doc.modified and folder.is_dir() and not any(folder.iterdir())
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.vsproj", "taken.vsproj"]


def test_a_save_that_fails_while_writing_keeps_the_old_project(tmp_path: Path) -> None:
    """The disk fills up half-way (a file-size limit, which binds root too): the old project stays whole."""
    pytest.importorskip("resource")
    _, saved, old = _edited_document(tmp_path)
    script = textwrap.dedent(
        """
        import json, resource, signal, sys
        import numpy as np
        from vocoder_studio.document import Document, Region
        from vocoder_studio.errors import AudioFileError
        doc = Document.load(sys.argv[1])
        doc.write(Region(0, 40, 0, 80), np.random.default_rng(0).normal(-4, 2, (80, 40)).astype(np.float32))
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # a write past the limit then fails with EFBIG
        resource.setrlimit(resource.RLIMIT_FSIZE, (2000, resource.getrlimit(resource.RLIMIT_FSIZE)[1]))
        try:
            doc.save(sys.argv[1])
            error = None
        except AudioFileError as exc:
            error = str(exc)
        print(json.dumps({"error": error, "modified": doc.modified}))
        """
    )
    done = subprocess.run([sys.executable, "-c", script, str(saved)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    result = json.loads(done.stdout)
    assert result["error"] and result["error"].startswith(f"{saved}: cannot write")
    assert result["modified"] is True
    assert saved.read_bytes() == old
    assert sorted(p.name for p in tmp_path.iterdir()) == ["project.vsproj"]
    np.testing.assert_array_equal(Document.load(saved).mel, np.full((80, 40), -5.0, np.float32))
