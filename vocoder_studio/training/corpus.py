"""The real-speech corpus every trainable model shares: fetched from Debian packages, split by level, packed.

Speech comes from the dialogue of the game *Fish Fillets NG* (GPL-2): Czech and Dutch, four voice actors
(``-m-`` and ``-v-`` files of each language's folder), ≈ 2.5 h at 22050 Hz. The clips are fetched with
``apt-get download`` and unpacked with ``dpkg-deb -x`` into the data folder — nothing is installed system-wide
and nothing is committed but the manifest. Near-identical lines recur within a game level, so the split into
train / valid / test is by level folder, fixed by a hash of the level's name, and committed as
``manifest.csv`` (file, language, speaker, level, split, seconds).

Packs: each split is one ``{split}.npz`` in the data folder holding the int16 audio of its clips, concatenated
(``audio``), and the clip start offsets (``offsets``, with the total length last), at the front-end's rate.
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import subprocess
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from vocoder_studio.audio.io import atomic_path, load_audio
from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.errors import CorpusError
from vocoder_studio.paths import cache_dir
from vocoder_studio.training.data import INT16_SCALE, Pack, validation_clips, write_pack

#: Debian package → language code; the clips are ``sound/<level>/<language>/<name>-<m|v>-<line>.ogg``.
PACKAGES = {"fillets-ng-data-cs": "cs", "fillets-ng-data-nl": "nl"}
SOUND_ROOT = Path("usr/share/games/fillets-ng/sound")
SPLITS = ("train", "valid", "test")
MANIFEST = Path(__file__).with_name("manifest.csv")
MIN_SECONDS = 0.25
_FIELDS = ("file", "language", "speaker", "level", "split", "seconds")

Progress = Callable[[float, str], None]


@dataclass(frozen=True)
class Clip:
    """One utterance of the corpus.

    Attributes:
        file: path relative to the sound root (``"city/cs/vit-m-hlava.ogg"``).
        language: ``"cs"`` or ``"nl"``.
        speaker: ``"<language>-m"`` or ``"<language>-v"`` (the game's two voices per language).
        level: the game level folder (the unit of the split).
        split: ``"train"``, ``"valid"`` or ``"test"``.
        seconds: duration in seconds.
    """

    file: str
    language: str
    speaker: str
    level: str
    split: str
    seconds: float


def data_dir() -> Path:
    """Where fetched packages, unpacked clips and packs live: ``$VOCODER_STUDIO_DATA``, else ``corpus`` in the
    cache folder (:func:`vocoder_studio.paths.cache_dir`: ``~/.cache/vocoder-studio/corpus``). Created on
    demand."""
    value = os.environ.get("VOCODER_STUDIO_DATA")
    path = Path(value) if value else cache_dir() / "corpus"
    path.mkdir(parents=True, exist_ok=True)
    return path


def split_of(level: str) -> str:
    """The split of a game level, fixed by a CRC-32 of its name: 10 % test, 10 % valid, 80 % train."""
    bucket = zlib.crc32(level.encode("utf-8")) % 10
    return "test" if bucket == 0 else "valid" if bucket == 1 else "train"


def _installed_root() -> Path | None:
    root = Path("/") / SOUND_ROOT
    return root if root.is_dir() and any(root.glob("*/cs/*.ogg")) and any(root.glob("*/nl/*.ogg")) else None


def fetch(progress: Progress | None = None) -> Path:
    """The sound root holding the clips: the installed game data if present, else the packages fetched with
    ``apt-get download`` and unpacked with ``dpkg-deb -x`` into :func:`data_dir` (once).

    Raises:
        CorpusError: apt-get or dpkg-deb is missing or fails (the message says what to install).
    """
    installed = _installed_root()
    if installed is not None:
        return installed
    base = data_dir()
    root = base / "root" / SOUND_ROOT
    debs = base / "debs"
    debs.mkdir(exist_ok=True)
    for i, package in enumerate(PACKAGES):
        marker = base / "root" / f".{package}.unpacked"
        if marker.exists():
            continue
        if progress:
            progress(i / len(PACKAGES), f"fetching {package}")
        for tool in ("apt-get", "dpkg-deb"):
            if shutil.which(tool) is None:
                raise CorpusError(f"{tool}: not found; the corpus comes from Debian's {', '.join(PACKAGES)}")
        done = subprocess.run(["apt-get", "download", package], cwd=debs, capture_output=True, text=True)
        found = sorted(debs.glob(f"{package}_*.deb"))
        if not found:
            raise CorpusError(f"{package}: apt-get download failed ({done.stderr.strip().splitlines()[-1:]})")
        unpack = subprocess.run(["dpkg-deb", "-x", str(found[-1]), str(base / "root")], capture_output=True,
                                text=True)
        if unpack.returncode != 0:
            raise CorpusError(f"{found[-1]}: dpkg-deb -x failed ({unpack.stderr.strip()})")
        marker.touch()
    return root


def scan(root: Path) -> list[Clip]:
    """Every ``-m-``/``-v-`` clip of the corpus languages under ``root``, with its split and duration."""
    clips = []
    for language in sorted(set(PACKAGES.values())):
        for path in sorted(root.glob(f"*/{language}/*-[mv]-*.ogg")):
            voice = "m" if "-m-" in path.name else "v"
            level = path.parent.parent.name
            info = sf.info(str(path))
            if info.frames < MIN_SECONDS * info.samplerate:  # a few files of the game hold no sound
                continue
            clips.append(Clip(str(path.relative_to(root)), language, f"{language}-{voice}", level,
                              split_of(level), round(info.frames / info.samplerate, 3)))
    return clips


def write_manifest(clips: Iterable[Clip], path: Path = MANIFEST) -> None:
    """Write the manifest CSV (atomically)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(_FIELDS)
    for c in clips:
        writer.writerow([c.file, c.language, c.speaker, c.level, c.split, f"{c.seconds:.3f}"])
    with atomic_path(path) as tmp:
        tmp.write_text(buffer.getvalue(), encoding="utf-8")


def read_manifest(path: Path = MANIFEST) -> list[Clip]:
    """The committed manifest.

    Raises:
        CorpusError: missing or malformed.
    """
    try:
        with path.open(encoding="utf-8", newline="") as f:
            rows = list(csv.DictReader(f))
        return [Clip(r["file"], r["language"], r["speaker"], r["level"], r["split"], float(r["seconds"]))
                for r in rows]
    except (OSError, KeyError, ValueError) as exc:
        raise CorpusError(f"{path}: unreadable corpus manifest ({exc})") from None


def pack_path(split: str) -> Path:
    """The pack file of ``split`` in :func:`data_dir`."""
    return data_dir() / f"{split}.npz"


def prepare(progress: Progress | None = None, config: MelConfig = DEFAULT_CONFIG,
            splits: Iterable[str] = SPLITS) -> dict[str, Path]:
    """Fetch the corpus and write one pack per split (skipping packs already written).

    Each clip is read through the shared front-end's loader (mono, resampled to ``config.sample_rate``, clipped
    to [-1, 1]) and stored as int16. The manifest decides the split; a clip it lists that is missing is an error.

    Returns:
        the pack path of each split.
    Raises:
        CorpusError: fetching failed, or a listed clip is missing.
    """
    root = fetch(progress)
    clips = read_manifest()
    out = {}
    for split in splits:
        path = pack_path(split)
        out[split] = path
        if path.exists():
            continue
        chosen = [c for c in clips if c.split == split]
        pieces = []
        for i, clip in enumerate(chosen):
            if progress and i % 50 == 0:
                progress(i / max(1, len(chosen)), f"packing {split}: {i}/{len(chosen)} clips")
            file = root / clip.file
            if not file.is_file():
                raise CorpusError(f"{file}: listed in the manifest but missing")
            pieces.append(np.round(load_audio(file, config) * INT16_SCALE).astype(np.int16))
        write_pack(path, pieces, config.sample_rate)
    return out


def travel_pack(folder: Path, minutes: float, valid_clips: int = 8, seed: int = 0) -> dict[str, Path]:
    """A small copy of the packs that travels to a lent GPU with the working tree (``data pack``).

    ``train.npz``: about ``minutes`` of the training split, whole clips taken in turn from each speaker (seeded
    order), so every voice and both languages are in it. ``valid.npz``: exactly the clips the trainer scores
    (:func:`~vocoder_studio.training.data.validation_clips` with ``valid_clips``), so that validation figures
    from the GPU compare with runs on the full packs here. Both are plain ``.npz`` files: reading them needs only
    numpy. Point ``VOCODER_STUDIO_DATA`` at ``folder`` to train from it.

    Returns:
        the path of each pack written.
    Raises:
        CorpusError: the full packs are missing (run ``vocoder-studio data prepare``), or ``minutes`` ≤ 0.
    """
    if not minutes > 0:
        raise CorpusError(f"--minutes {minutes}: must be more than 0")
    train, valid = Pack.load(pack_path("train")), Pack.load(pack_path("valid"))
    speakers = [c.speaker for c in read_manifest() if c.split == "train"]
    if len(speakers) != len(train):
        raise CorpusError(f"{pack_path('train')}: {len(train)} clips, the manifest lists {len(speakers)}; "
                          "rewrite it with `vocoder-studio data prepare` after deleting the packs")
    rng = np.random.default_rng(seed)
    queues = {s: [int(i) for i in rng.permutation(len(train)) if speakers[i] == s] for s in sorted(set(speakers))}
    chosen: list[int] = []
    budget, total = minutes * 60 * train.sample_rate, 0
    while total < budget and any(queues.values()):
        for queue in queues.values():
            if queue and total < budget:
                index = queue.pop()
                chosen.append(index)
                total += int(train.offsets[index + 1] - train.offsets[index])
    folder.mkdir(parents=True, exist_ok=True)
    clips = [train.audio[train.offsets[i] : train.offsets[i + 1]] for i in sorted(chosen)]
    held_out = [np.round(c * INT16_SCALE).astype(np.int16) for c in validation_clips(valid, valid_clips)]
    return {"train": write_pack(folder / "train.npz", clips, train.sample_rate),
            "valid": write_pack(folder / "valid.npz", held_out, valid.sample_rate)}


