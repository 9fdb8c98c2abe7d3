"""Training data as packs: a split's int16 clips end to end (``audio``), where each starts (``offsets``, the
total last) and the ``sample_rate``, in one ``.npz``; random training segments from a pack; the held-out clips
validation scores. Only numpy (and librosa for speed augmentation): a lent GPU machine reads packs as they are.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from vocoder_studio.audio.io import atomic_path
from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.errors import CorpusError, TrainingError

#: int16 sample ↔ float in [-1, 1]: packs store ``round(x * INT16_SCALE)``.
INT16_SCALE = 32767.0


@dataclass
class Pack:
    """A loaded split: int16 audio of its clips end to end, and where each clip starts."""

    audio: np.ndarray
    offsets: np.ndarray
    sample_rate: int

    @classmethod
    def load(cls, path: Path) -> Pack:
        """Read a pack written by :func:`write_pack` (``vocoder-studio data prepare`` writes them).

        Raises:
            CorpusError: missing (run ``vocoder-studio data prepare``) or not a pack.
        """
        if not path.is_file():
            raise CorpusError(f"{path}: no corpus pack; run `vocoder-studio data prepare` first")
        try:
            with np.load(path) as data:
                return cls(data["audio"], data["offsets"], int(data["sample_rate"]))
        except (OSError, KeyError, ValueError) as exc:
            raise CorpusError(f"{path}: not a corpus pack ({exc})") from None

    def __len__(self) -> int:
        return len(self.offsets) - 1

    def clip(self, index: int) -> np.ndarray:
        """Clip ``index`` as float32 in [-1, 1]."""
        a, b = self.offsets[index], self.offsets[index + 1]
        return self.audio[a:b].astype(np.float32) / INT16_SCALE

    @property
    def seconds(self) -> float:
        return self.audio.size / self.sample_rate


def write_pack(path: Path, clips: Iterable[np.ndarray], sample_rate: int) -> Path:
    """Write int16 clips end to end as a pack (``audio``, ``offsets``, ``sample_rate``), atomically."""
    pieces, offsets, total = [], [0], 0
    for clip in clips:
        pieces.append(np.asarray(clip, np.int16))
        total += clip.size
        offsets.append(total)
    with atomic_path(path) as tmp, tmp.open("wb") as f:
        audio = np.concatenate(pieces) if pieces else np.zeros(0, np.int16)
        np.savez(f, audio=audio, offsets=np.asarray(offsets, np.int64), sample_rate=np.int64(sample_rate))
    return path


class SegmentSampler:
    """Random training segments from a pack, each inside one clip (short clips are zero-padded on the right).

    A clip is chosen with probability proportional to its length, so every second of speech is equally likely.
    """

    def __init__(self, pack: Pack, segment_samples: int, seed: int = 0, gain: float = 0.0,
                 speed: float = 0.0) -> None:
        if gain < 0 or not 0 <= speed < 1:
            raise TrainingError(f"augmentation: gain {gain} must be ≥ 0 nats and speed {speed} in [0, 1)")
        self.pack = pack
        self.segment = segment_samples
        self.rng = np.random.default_rng(seed)
        #: :attr:`TrainSettings.augment_gain` and :attr:`TrainSettings.augment_speed`
        self.gain, self.speed = gain, speed

    def batch(self, size: int) -> np.ndarray:
        """``(size, segment_samples)`` float32 audio, in [-1, 1] unless gain augmentation scales it up."""
        out = np.zeros((size, self.segment), np.float32)
        total = int(self.pack.offsets[-1])
        for row in range(size):
            factor = float(np.exp(self.rng.uniform(-1, 1) * np.log1p(self.speed))) if self.speed else 1.0
            length = int(round(self.segment * factor))  # source samples that play in one segment
            position = int(self.rng.integers(total))
            clip = int(np.searchsorted(self.pack.offsets, position, side="right")) - 1
            a, b = int(self.pack.offsets[clip]), int(self.pack.offsets[clip + 1])
            if b - a <= length:
                start = a
            else:
                start = a + int(self.rng.integers(b - a - length + 1))
            piece = self.pack.audio[start : min(b, start + length)].astype(np.float32) / INT16_SCALE
            if length != self.segment:
                import librosa  # here: a lent GPU machine may train without librosa (and without this option)

                piece = np.pad(piece, (0, length - piece.size))
                piece = librosa.resample(piece, orig_sr=length, target_sr=self.segment, res_type="soxr_hq")
                piece = piece[: self.segment]
            out[row, : piece.size] = piece
        if self.gain:  # drawn after the segments: with speed off they are the segments an unaugmented run draws
            out *= np.exp(self.rng.uniform(-self.gain, self.gain, size)).astype(np.float32)[:, None]
        return out

    def state(self) -> dict[str, Any]:
        return dict(self.rng.bit_generator.state)

    def set_state(self, state: dict[str, Any]) -> None:
        self.rng.bit_generator.state = state


def validation_clips(pack: Pack, count: int, config: MelConfig = DEFAULT_CONFIG,
                     max_seconds: float = 4.0) -> list[np.ndarray]:
    """``count`` held-out clips spread evenly over the pack (so over its speakers and levels), each at least
    1.5 s and cut to ``max_seconds``, a whole number of frames long."""
    keep = []
    for index in np.linspace(0, len(pack) - 1, num=min(len(pack), 4 * count)).astype(int):
        clip = pack.clip(int(index))
        if clip.size >= 1.5 * config.sample_rate:
            clip = clip[: int(max_seconds * config.sample_rate)]
            keep.append(clip[: clip.size // config.hop_length * config.hop_length])
    step = max(1, len(keep) // max(1, count))
    return keep[::step][:count]
