"""A multi-resolution min/max cache of audio for drawing waveforms (no Qt).

Level 0 holds the minimum and maximum of every :data:`BASE_BIN` samples; each level above holds those of
:data:`FACTOR` bins of the level below. The whole pyramid is built in one pass over the audio, block by block,
so an hour of audio (79 M samples at 22050 Hz) is read once and never needs to exist whole; each view then
reads only the coarsest level whose bins are no wider than a pixel: about as many bins as the view has
pixels, whatever the zoom. This is how audio editors draw long files (Audacity's "summary" blocks of 256 and
65536 samples; Sonic Visualiser's power-of-√2 waveform caches).
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

#: Samples per bin of level 0.
BASE_BIN = 16
#: Bins of one level per bin of the level above.
FACTOR = 4


class Peaks:
    """The min/max pyramid of one signal.

    Attributes:
        n_samples: the signal's length in samples.
        levels: ``[(mins, maxs), ...]`` float32 arrays; level ``k`` has bins of :meth:`bin_size` ``(k)`` samples
            (the last bin of a level may cover fewer).
        last_level: the level the last :meth:`read` used (tests read it).
    """

    def __init__(self, levels: list[tuple[np.ndarray, np.ndarray]], n_samples: int, base_bin: int = BASE_BIN,
                 factor: int = FACTOR) -> None:
        self.levels, self.n_samples, self.base_bin, self.factor = levels, n_samples, base_bin, factor
        self.last_level = -1

    @classmethod
    def from_blocks(cls, blocks: Iterable[np.ndarray], base_bin: int = BASE_BIN, factor: int = FACTOR) -> Peaks:
        """Build the pyramid from the signal's blocks (float ``(samples,)`` arrays of any lengths, in order),
        reading each block once."""
        mins: list[np.ndarray] = []
        maxs: list[np.ndarray] = []
        rest = np.zeros(0, np.float32)
        n = 0
        for block in blocks:
            block = np.asarray(block, np.float32).reshape(-1)
            n += block.size
            data = np.concatenate([rest, block]) if rest.size else block
            whole = data.size - data.size % base_bin
            if whole:
                bins = data[:whole].reshape(-1, base_bin)
                mins.append(bins.min(axis=1))
                maxs.append(bins.max(axis=1))
            rest = data[whole:].copy()
        if rest.size:
            mins.append(rest.min(keepdims=True))
            maxs.append(rest.max(keepdims=True))
        level = (np.concatenate(mins) if mins else np.zeros(1, np.float32),
                 np.concatenate(maxs) if maxs else np.zeros(1, np.float32))
        levels = [level]
        while level[0].size > 1:
            lo, hi = level
            pad = (-lo.size) % factor
            if pad:  # the last group repeats its last bin (no effect on its min or max)
                lo, hi = np.concatenate([lo, np.repeat(lo[-1:], pad)]), np.concatenate([hi, np.repeat(hi[-1:], pad)])
            level = (lo.reshape(-1, factor).min(axis=1), hi.reshape(-1, factor).max(axis=1))
            levels.append(level)
        return cls(levels, n, base_bin, factor)

    @classmethod
    def from_audio(cls, audio: np.ndarray, block: int = 1 << 20) -> Peaks:
        """Build the pyramid of a whole float ``(samples,)`` signal."""
        audio = np.asarray(audio, np.float32).reshape(-1)
        return cls.from_blocks(audio[i : i + block] for i in range(0, max(audio.size, 1), block))

    def bin_size(self, level: int) -> int:
        """Samples per bin of ``level``."""
        return int(self.base_bin * self.factor ** level)

    def level_for(self, samples_per_pixel: float) -> int:
        """The coarsest level whose bins are at most ``samples_per_pixel`` samples wide (0 when even level 0's
        are wider: the view is zoomed in past ``BASE_BIN`` samples a pixel)."""
        level = 0
        while level + 1 < len(self.levels) and self.bin_size(level + 1) <= samples_per_pixel:
            level += 1
        return level

    def read(self, start: float, end: float, pixels: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Min and max for each pixel column of the samples ``[start, end)`` drawn ``pixels`` wide.

        Each column covers whole bins of one level (:meth:`level_for` the samples a pixel spans), so a column's
        values are the exact min and max of the samples of its bins; zoomed in past level 0, there are fewer
        columns than pixels (one per bin).

        Args:
            start, end: the visible range in samples (clipped to the signal).
            pixels: the drawing's width in pixels (≥ 1).
        Returns:
            ``(positions, mins, maxs)``: each column's first sample (float64) and its min and max (float32);
            empty arrays for an empty range.
        """
        start, end = max(0.0, float(start)), min(float(self.n_samples), float(end))
        if end <= start or pixels < 1:
            empty = np.zeros(0, np.float32)
            return np.zeros(0), empty, empty
        level = self.level_for((end - start) / pixels)
        self.last_level = level
        size = self.bin_size(level)
        lo, hi = self.levels[level]
        i0, i1 = int(start // size), min(lo.size, int(np.ceil(end / size)))
        count = i1 - i0
        edges = i0 + np.unique(np.floor(np.linspace(0, count, min(pixels, count) + 1)).astype(np.int64))[:-1]
        mins = np.minimum.reduceat(lo[i0:i1], edges - i0)
        maxs = np.maximum.reduceat(hi[i0:i1], edges - i0)
        return edges.astype(np.float64) * size, mins, maxs
