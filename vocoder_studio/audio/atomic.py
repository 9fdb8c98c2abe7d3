"""Atomic writes: a temporary ``.NAME.<id>.part`` file beside the target, locked by its writer from creation to
the rename, and the clean-up of part files that a killed writer left behind (their lock can be taken).

Imports nothing of the package but its errors: every layer that writes a file (the mel filterbank cache, audio,
projects, checkpoints) uses it.
"""

from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
from collections.abc import Iterator
from pathlib import Path

from vocoder_studio.errors import AudioFileError


def _create_exclusive(folder: Path, name: str) -> tuple[int, Path]:
    """Create a new, empty temporary file beside ``name`` in ``folder``, as ``open(..., "x")`` would.

    Unlike ``tempfile.mkstemp`` (always mode 0600) the file gets the process umask's default permissions
    (``0o666 & ~umask``), applied by the kernel: no global ``os.umask`` call, so it is thread-safe.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0)
    while True:
        tmp = folder / f".{name}.{secrets.token_hex(6)}.part"
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:  # pragma: no cover - 48 random bits collided
            continue


def _still_linked(fd: int, path: Path) -> bool:
    """Whether ``path`` still names the file open as ``fd`` (a cleaner may have removed it in between)."""
    try:
        return os.path.samestat(os.fstat(fd), os.stat(path, follow_symlinks=False))
    except OSError:
        return False


def _create_locked(folder: Path, name: str) -> tuple[int, Path]:
    """:func:`_create_exclusive`, then lock the new file for the whole write (see :func:`clean_stale_parts`).

    Between creating the file and locking it, another process's cleaner can find it unlocked and remove it; the
    lock is then held on a file no longer in the folder, so a new one is made (the usual lock-file protocol: lock,
    then check that the path still names the locked file)."""
    while True:
        fd, tmp = _create_exclusive(folder, name)
        _lock(fd, blocking=True)  # held until the rename: a live write is never taken for a stale one
        if _still_linked(fd, tmp):
            return fd, tmp
        os.close(fd)  # pragma: no cover - a cleaner won the race of a few microseconds


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str]) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; on success it replaces ``path`` in one rename.

    On any error the temporary file is removed and ``path`` is left as it was (no partial output). A write that
    cannot clean up (killed by ``kill -9``, a power cut) leaves its temporary ``.<name>.<12 hex digits>.part``
    file: the next write into the same folder, by any process, removes it (:func:`clean_stale_parts`), and never
    the temporary file of a write still running.

    Permissions: a new file gets the umask's default, as any program's ``open(path, "w")`` would (0644 under
    umask 022, 0600 under 077). Overwriting an existing file keeps that file's permission bits, as writing it in
    place would: a file its owner made private stays private, a shared one stays shared.

    Raises:
        AudioFileError: the folder of ``path`` does not exist or is not a folder (it is never created: a typo in
            an output path is an error, not a new folder tree).
        OSError: the file cannot be created, written or renamed (callers turn it into an AudioFileError).
    """
    target = Path(path)
    folder = target.parent
    if not folder.is_dir():
        if folder.exists():
            raise AudioFileError(target, f"{folder} is not a folder")
        raise AudioFileError(target, f"folder {folder} does not exist")
    clean_stale_parts(folder)
    fd, tmp = _create_locked(folder, target.name)
    try:
        if target.is_file():
            os.chmod(tmp, stat.S_IMODE(target.stat().st_mode))
        yield tmp
        with open(tmp, "rb+") as handle:
            os.fsync(handle.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    finally:
        os.close(fd)


#: What :func:`atomic_path`'s temporary files are called: ``.<name>.<12 hex digits>.part``.
_PART_NAME = re.compile(r"\..+\.[0-9a-f]{12}\.part")


def _lock(fd: int, blocking: bool) -> bool:
    """An exclusive OS lock (``flock``) on ``fd``; released when the process dies. True if taken (always True
    where the OS has no ``flock``: Windows keeps an open file from being deleted anyway)."""
    try:
        import fcntl
    except ImportError:  # pragma: no cover - Windows
        return True
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
    except BlockingIOError:
        return False
    except OSError:  # a file system without locks: treat as held by someone, never delete
        return False
    return True


def clean_stale_parts(folder: str | os.PathLike[str]) -> list[Path]:
    """Remove :func:`atomic_path` temporary files in ``folder`` that a killed write left behind.

    A write holds an exclusive ``flock`` on its temporary file from the moment it exists until the rename, and
    the kernel releases it when the writer dies, however it dies: a temporary file whose lock can be taken has
    no writer and is removed. A live writer's file — another thread's, or another process's on this machine or
    (on a file system with shared locks, e.g. NFSv4) elsewhere — stays locked and is never touched. Where
    locks are not supported nothing is removed. Other errors are ignored (a read-only folder keeps its files).

    Returns:
        the files removed.
    """
    removed: list[Path] = []
    try:
        candidates = [p for p in Path(folder).glob(".*.part") if _PART_NAME.fullmatch(p.name)]
    except OSError:
        return removed
    for path in candidates:
        try:
            fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_CLOEXEC", 0))
        except OSError:  # renamed into place or removed meanwhile, a link, or unreadable
            continue
        try:
            # the lock is ours and the path still names the file we locked (not renamed into place meanwhile)
            if _lock(fd, blocking=False) and _still_linked(fd, path):
                path.unlink()
                removed.append(path)
        except OSError:
            pass
        finally:
            os.close(fd)
    return removed
