"""A local wheelhouse made from the distributions installed in this interpreter, so that a fresh venv can install
the studio's wheel and *resolve its declared requirements from scratch* with ``pip install --no-index``: no
network, and nothing in the fresh venv but what the wheel's metadata asks for (a requirement missing from
``pyproject.toml`` fails there, even though the developer's venv has it).

A wheel is a zip of the files a distribution installs into site-packages plus its ``.dist-info`` with a RECORD
of their hashes (PEP 427 / the binary distribution format spec); an installed distribution still has all of it
(its RECORD lists the files; its WHEEL file the tags it was built for), so each one is packed back as it was.
Files installed outside site-packages (console scripts, which pip writes again from ``entry_points.txt``) and
byte-code caches are left out.
"""

from __future__ import annotations

import base64
import csv
import hashlib
import io
import re
import zipfile
from collections.abc import Iterable
from importlib.metadata import Distribution, PackageNotFoundError, distribution
from pathlib import Path

from packaging.markers import default_environment
from packaging.requirements import Requirement

_SKIPPED_INFO = {"RECORD", "INSTALLER", "REQUESTED", "direct_url.json"}


def _normalise(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def closure(requirements: Iterable[str]) -> dict[str, Distribution]:
    """The installed distributions that ``requirements`` (PEP 508 strings, markers evaluated for this
    interpreter) need, transitively, by normalised name.

    Raises:
        PackageNotFoundError: a requirement that is not installed here.
        ValueError: an installed version outside a requirement's specifier.
    """
    found: dict[str, Distribution] = {}
    todo = [(Requirement(r), "") for r in requirements]
    while todo:
        req, extra = todo.pop()
        if req.marker is not None and not req.marker.evaluate({**default_environment(), "extra": extra}):
            continue
        name = _normalise(req.name)
        dist = found.get(name) or distribution(req.name)
        if not req.specifier.contains(dist.version, prereleases=True):
            raise ValueError(f"{req}: {dist.version} is installed here")
        first = name not in found
        found[name] = dist
        wanted = [""] if first else []
        wanted += [e for e in req.extras]
        for requires in dist.requires or []:
            for each in wanted:
                todo.append((Requirement(requires), each))
    return found


def _tags(info: str) -> str:
    """``py-abi-platform`` of a wheel file name from the WHEEL file's ``Tag:`` lines (compressed tag sets)."""
    tags = [line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("Tag:")]
    if not tags:
        return "py3-none-any"
    parts: list[list[str]] = [[], [], []]
    for tag in tags:
        for part, value in zip(parts, tag.split("-"), strict=True):
            if value not in part:
                part.append(value)
    return "-".join(".".join(p) for p in parts)


def _record_hash(data: bytes) -> str:
    return "sha256=" + base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def repack(dist: Distribution, out: Path) -> Path:
    """Write ``dist`` (installed) back as a wheel into the folder ``out``; returns the wheel's path."""
    files = [f for f in dist.files or [] if f.parts[0] != ".." and "__pycache__" not in f.parts]
    info_dir = next(f.parts[0] for f in files if f.parts[0].endswith(".dist-info"))
    root = Path(str(dist.locate_file("")))
    name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
    wheel_info = (root / info_dir / "WHEEL").read_text()
    target = out / f"{name}-{dist.version}-{_tags(wheel_info)}.whl"
    record: list[tuple[str, str, str]] = []
    part = target.with_name(target.name + ".part")  # renamed when whole: a killed run leaves no half wheel
    with zipfile.ZipFile(part, "w", compression=zipfile.ZIP_STORED) as archive:
        for file in files:
            arcname = file.as_posix()
            if file.parts[0] == info_dir and file.name in _SKIPPED_INFO:
                continue
            data = (root / file).read_bytes()
            archive.writestr(arcname, data)
            record.append((arcname, _record_hash(data), str(len(data))))
        record.append((f"{info_dir}/RECORD", "", ""))
        text = io.StringIO()
        csv.writer(text, lineterminator="\n").writerows(record)  # names with commas are quoted
        archive.writestr(f"{info_dir}/RECORD", text.getvalue())
    part.replace(target)
    return target


def wheelhouse(requirements: Iterable[str], out: Path) -> list[Path]:
    """A wheel in ``out`` for each distribution of :func:`closure` (kept when one of the same name is there)."""
    out.mkdir(parents=True, exist_ok=True)
    wheels = []
    for dist in closure(requirements).values():
        name = re.sub(r"[-_.]+", "_", dist.metadata["Name"])
        existing = sorted(out.glob(f"{name}-{dist.version}-*.whl"))
        wheels.append(existing[0] if existing else repack(dist, out))
    return wheels


__all__ = ["PackageNotFoundError", "closure", "repack", "wheelhouse"]
