"""Autosave and crash recovery (no Qt).

Every open document with unsaved changes is written every little while, atomically, as a project file under
``paths.state_dir()/autosave``. A clean close removes its file; files still there at the next start were left
by a crash (or a kill) and are offered for recovery.

"Unsaved changes" means the mel differs from what was opened or last saved: ``Document.modified`` is also set
by writes that change nothing (an eraser click on silence) and stays set after every edit was undone, and such
a document must not be offered for recovery after a kill.
"""

from __future__ import annotations

import hashlib
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


def mel_digest(doc: Document) -> bytes:
    """A fingerprint of ``doc``'s mel (shape and values)."""
    mel = doc.mel
    digest = hashlib.blake2b(str(mel.shape).encode(), digest_size=16)
    digest.update(mel.tobytes())
    return digest.digest()


@dataclass
class _Entry:
    path: Path
    version: int | None = None
    #: digest of the mel as opened or last saved (None: unknown, e.g. a recovered document)
    clean: bytes | None = None
    #: the version ``clean`` was last compared at, and whether the mel differed then
    checked: tuple[int, bool] | None = None


class Autosaver:
    """Writes the documents it is given when they changed since their last autosave.

    Args:
        folder: where autosaves go (default :func:`autosave_dir`).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or autosave_dir()
        self._entries: dict[int, _Entry] = {}

    def _entry(self, doc: Document) -> _Entry:
        entry = self._entries.get(doc.uid)
        if entry is None:
            entry = _Entry(self.folder / f"{uuid.uuid4().hex}{PROJECT_SUFFIX}")
            self._entries[doc.uid] = entry
        if not doc.modified and entry.checked != (doc.version, False):  # as opened or just saved
            entry.clean, entry.checked = mel_digest(doc), (doc.version, False)
        return entry

    def path_for(self, doc: Document) -> Path:
        """The autosave file of ``doc`` (one per open document, a fresh name each session)."""
        return self._entry(doc).path

    def track(self, doc: Document) -> None:
        """Start watching ``doc`` (call when it is opened, so that its content as opened is known)."""
        self._entry(doc)

    def mark_clean(self, doc: Document) -> None:
        """``doc`` was just saved: its current content is the one to compare with; its autosave goes."""
        entry = self._entry(doc)
        entry.clean, entry.checked = mel_digest(doc), (doc.version, False)
        self.discard(doc)

    def has_unsaved_changes(self, doc: Document) -> bool:
        """Whether ``doc``'s mel differs from its content as opened or last saved (True if unknown)."""
        entry = self._entry(doc)
        if not doc.modified:
            return False
        if entry.clean is None:
            return True
        if entry.checked is None or entry.checked[0] != doc.version:
            entry.checked = (doc.version, mel_digest(doc) != entry.clean)
        return entry.checked[1]

    def save(self, doc: Document) -> Path | None:
        """Autosave ``doc`` if it has unsaved changes not autosaved yet; returns the file written, or None.

        A document without unsaved changes (saved, never edited, or every edit undone) has its autosave
        removed.
        """
        entry = self._entry(doc)
        path = entry.path
        if not self.has_unsaved_changes(doc):
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
