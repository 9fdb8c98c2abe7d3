"""Autosave and crash recovery (no Qt).

Every open document with unsaved changes is written every little while, atomically, as a project file under
``paths.state_dir()/autosave``. A clean close removes its file; files still there whose owner is gone were left
by a crash (or a kill) and are offered for recovery.

Ownership: each running copy of the app holds a :class:`SessionLock`, a ``<session>.lock`` file in the autosave
folder locked by the operating system (``flock``; released by the kernel when the process dies, however it
dies) and holding the process id. Autosaves are named ``<session>.<document>.vsproj``, so a second copy of the
app sees that the first one's files belong to a live process and leaves them alone: only files whose owner is
gone are offered for recovery.

Recovery survives a second crash: recovering a file renames it into the recovering session's name (one atomic
rename, so two copies never both take it) and keeps it there until the recovered document is autosaved again,
saved or closed. A file that fails to load, for whatever reason, is set aside as ``*.damaged`` (reported once),
and ``.part`` files left by a kill mid-write are removed at the next start.

"Unsaved changes" means the mel differs from what was opened or last saved: ``Document.modified`` is also set
by writes that change nothing (an eraser click on silence) and stays set after every edit was undone, and such
a document must not be offered for recovery after a kill.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import uuid
import weakref
from dataclasses import dataclass
from pathlib import Path

from vocoder_studio.audio.io import atomic_path
from vocoder_studio.document import Document
from vocoder_studio.errors import AudioFileError
from vocoder_studio.paths import state_dir
from vocoder_studio.project_file import PROJECT_SUFFIX

LOCK_SUFFIX = ".lock"
DAMAGED_SUFFIX = ".damaged"


def _try_lock(fd: int, exclusive: bool) -> bool:
    """Take an OS lock on open file ``fd`` without waiting; False if another open file holds it."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        import msvcrt

        try:
            msvcrt.locking(fd, msvcrt.LK_NBLCK, 1)  # type: ignore[attr-defined]
        except OSError:
            return False
        return True
    try:
        fcntl.flock(fd, (fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH) | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class SessionLock:
    """This process's claim on its autosaves: ``<folder>/<session>.lock``, OS-locked while the process lives.

    The kernel drops the lock when the process ends (a clean exit, a crash, SIGKILL), so a lock that can be
    taken belongs to nobody; the file also holds the process id, for people.

    Args:
        folder: the autosave folder.
    Attributes:
        session: this session's id (a hex string, the prefix of its autosave names).
    """

    def __init__(self, folder: Path) -> None:
        self.session = uuid.uuid4().hex
        self.path = folder / f"{self.session}{LOCK_SUFFIX}"
        # locked under a temporary name, then renamed: a file named *.lock is always locked while its owner
        # lives, so another copy never sees it unlocked and removes it as stale
        fresh = folder / f"{self.session}.lock-new"
        fd = os.open(fresh, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o600)
        try:
            if not _try_lock(fd, exclusive=True):  # pragma: no cover - cannot happen on a new file
                raise OSError(f"{fresh}: already locked")
            os.write(fd, f"{os.getpid()}\n".encode())
            os.replace(fresh, self.path)
        except BaseException:
            os.close(fd)
            fresh.unlink(missing_ok=True)
            raise
        self._fd: int | None = fd
        self._finalizer = weakref.finalize(self, SessionLock._close, fd, self.path)

    @staticmethod
    def _close(fd: int, path: Path) -> None:
        with contextlib.suppress(OSError):
            path.unlink(missing_ok=True)
        with contextlib.suppress(OSError):
            os.close(fd)  # closing the last descriptor drops the lock

    def release(self) -> None:
        """Give the claim up (a clean exit; also done when the object is collected or the process ends)."""
        self._finalizer()


def session_of(path: Path) -> str:
    """The session id an autosave, its ``.part`` file or a lock file belongs to (the part of the name before
    the first dot; an autosave from before sessions existed is its own session, whose owner is gone)."""
    return path.name.lstrip(".").split(".", 1)[0]


def owner_alive(folder: Path, session: str) -> bool:
    """Whether the process that owns ``session``'s autosaves in ``folder`` is still running (holds its lock)."""
    lock = folder / f"{session}{LOCK_SUFFIX}"
    try:
        fd = os.open(lock, os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    except OSError:  # no lock file: the owner exited or never had one
        return False
    try:
        return not _try_lock(fd, exclusive=False)  # our probe's lock goes with the descriptor
    finally:
        os.close(fd)


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

    Creating one claims the folder for this process (a :class:`SessionLock`) and removes what dead sessions
    left that is of no use: ``.part`` files of writes a kill interrupted, and their lock files.

    Args:
        folder: where autosaves go (default :func:`autosave_dir`).
    """

    def __init__(self, folder: Path | None = None) -> None:
        self.folder = folder or autosave_dir()
        self.folder.mkdir(parents=True, exist_ok=True)
        self.lock = SessionLock(self.folder)
        self._entries: dict[int, _Entry] = {}
        clean_stale(self.folder)

    @property
    def session(self) -> str:
        return self.lock.session

    def _new_path(self) -> Path:
        return self.folder / f"{self.session}.{uuid.uuid4().hex}{PROJECT_SUFFIX}"

    def _entry(self, doc: Document) -> _Entry:
        entry = self._entries.get(doc.uid)
        if entry is None:
            entry = _Entry(self._new_path())
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

    def recover(self, path: Path) -> Document | None:
        """Reopen an autosave left by a session that is gone, as a modified document this session now owns.

        The file is first renamed into this session's name (so another running copy cannot take it too, and a
        crash from now on leaves it to the next start), then loaded; it stays on disk until the document is
        autosaved again, saved or closed, so a second crash right after recovery loses nothing.

        Returns:
            the document, or None if the file is gone (another copy recovered it first).
        Raises:
            AudioFileError: the file could not be loaded, for any reason; it was set aside as ``*.damaged``
                and is never offered again.
        """
        claimed = self._new_path()
        try:
            os.replace(path, claimed)
        except FileNotFoundError:
            return None
        try:
            doc = Document.load(claimed)
        except Exception as exc:  # noqa: BLE001 - whatever the cause, the file is set aside and the app starts
            aside = set_aside(claimed)
            reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
            raise AudioFileError(path, f"damaged autosave set aside as {aside.name} ({reason})") from None
        doc.project_path = None
        doc.modified = True
        self._entries[doc.uid] = _Entry(claimed, version=doc.version)
        return doc

    def close(self) -> None:
        """Stop owning autosaves (a clean exit): the lock goes; files still here are recoverable later."""
        self.lock.release()


def pending_recoveries(folder: Path | None = None, exclude: set[Path] | None = None) -> list[Path]:
    """Autosave files whose owning session is gone (a crash or a kill), oldest first.

    Files of a running copy of the app (its lock is held) are never listed.
    """
    folder = folder or autosave_dir()
    exclude = exclude or set()
    alive: dict[str, bool] = {}
    found = []
    for path in folder.glob(f"*{PROJECT_SUFFIX}"):
        session = session_of(path)
        if session not in alive:
            alive[session] = owner_alive(folder, session)
        if path not in exclude and not alive[session]:
            found.append(path)
    return sorted(found, key=_mtime)


def _mtime(path: Path) -> float:
    try:
        return path.stat().st_mtime
    except OSError:
        return 0.0


def set_aside(path: Path) -> Path:
    """Rename a damaged autosave ``x.vsproj`` to ``x.damaged`` (never offered again, kept for the curious)."""
    target = path.with_suffix(DAMAGED_SUFFIX)
    try:
        os.replace(path, target)
    except OSError:
        with contextlib.suppress(OSError):
            path.unlink()
    return target


def clean_stale(folder: Path) -> list[Path]:
    """Remove what dead sessions left in ``folder`` that nobody can use: ``.part`` files of interrupted writes
    and lock files of sessions without autosaves. Returns the files removed."""
    removed = []
    live: dict[str, bool] = {}
    with_files = {session_of(p) for p in folder.glob(f"*{PROJECT_SUFFIX}")}
    for path in [*folder.glob(".*.part"), *folder.glob(f"*{LOCK_SUFFIX}")]:
        session = session_of(path)
        if session not in live:
            live[session] = owner_alive(folder, session)
        if live[session] or (path.suffix == LOCK_SUFFIX and session in with_files):
            continue
        with contextlib.suppress(OSError):
            path.unlink()
            removed.append(path)
    return removed
