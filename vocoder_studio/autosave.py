"""Autosave and crash recovery (no Qt).

Every open document with unsaved changes is written every little while, atomically, as a project file under
``paths.state_dir()/autosave``. A clean close removes its file; files still there at the next start were left
by a crash (or a kill) and are offered for recovery.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from pathlib import Path

from vocoder_studio.audio.io import atomic_path
from vocoder_studio.document import PROJECT_SUFFIX, Document
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.paths import state_dir


def autosave_dir() -> Path:
    path = state_dir() / "autosave"
    path.mkdir(parents=True, exist_ok=True)
    return path


@dataclass
class _Entry:
    path: Path
    version: int | None = None


class Autosaver:
    """Writes the documents it is given when they changed since their last autosave.

    Args:
        folder: where autosaves go (default :func:`autosave_dir`).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or autosave_dir()
        self._entries: dict[int, _Entry] = {}

    def path_for(self, doc: Document) -> Path:
        """The autosave file of ``doc`` (one per open document, a fresh name each session)."""
        entry = self._entries.get(doc.uid)
        if entry is None:
            entry = _Entry(self.folder / f"{uuid.uuid4().hex}{PROJECT_SUFFIX}")
            self._entries[doc.uid] = entry
        return entry.path

    def save(self, doc: Document) -> Path | None:
        """Autosave ``doc`` if it has unsaved changes not autosaved yet; returns the file written, or None.

        A saved (unmodified) document has its autosave removed.
        """
        path = self.path_for(doc)
        entry = self._entries[doc.uid]
        if not doc.modified:
            self.discard(doc)
            return None
        if entry.version == doc.version and path.exists():
            return None
        with atomic_path(path) as tmp:
            tmp.write_bytes(doc.to_project_bytes())
        entry.version = doc.version
        return path

    def discard(self, doc: Document) -> None:
        """Remove ``doc``'s autosave (after a save or a deliberate close)."""
        entry = self._entries.get(doc.uid)
        if entry is not None:
            entry.path.unlink(missing_ok=True)
            entry.version = None

    def forget(self, doc: Document) -> None:
        """Remove the autosave and stop tracking ``doc`` (its tab was closed)."""
        self.discard(doc)
        self._entries.pop(doc.uid, None)

    def tracked_paths(self) -> set[Path]:
        return {entry.path for entry in self._entries.values()}


def pending_recoveries(folder: Path | None = None, exclude: set[Path] | None = None) -> list[Path]:
    """Autosave files left by an earlier session that did not close cleanly, oldest first."""
    folder = folder or autosave_dir()
    exclude = exclude or set()
    files = [p for p in folder.glob(f"*{PROJECT_SUFFIX}") if p not in exclude]
    return sorted(files, key=lambda p: p.stat().st_mtime)


def recover(path: Path) -> Document:
    """Open an autosave as a modified document (so it is not lost again) and remove the file.

    Raises:
        VocoderStudioError: the file is damaged (it is then kept, renamed ``*.damaged``).
    """
    try:
        doc = Document.load(path)
    except VocoderStudioError:
        path.rename(path.with_suffix(".damaged"))
        raise
    doc.project_path = None
    doc.modified = True
    path.unlink(missing_ok=True)
    return doc
