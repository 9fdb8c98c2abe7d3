"""Axis scales of the spectrogram canvas and their ticks (no Qt; friture's ``frequency_scales.py`` is the model).

A :class:`Scale` maps values (Hz, seconds) to view coordinates and back and picks tick marks at round values
(1-2-5 steps) that never sit closer than a minimum number of pixels. The canvas's frequency axis is
:func:`mel_band_scale`: view coordinate ``y`` is the mel-band coordinate of the image (cell ``b`` spans
``[b, b + 1)``), so ``y = b + 0.5`` is band ``b``'s centre frequency (:func:`~vocoder_studio.audio.mel.
mel_frequencies`) and the image's edges ``y = 0`` and ``y = n_mels`` are ``fmin`` and ``fmax``; between those
knots the map is linear. The time axis is :func:`time_scale` (seconds, linear).
"""

from __future__ import annotations

import bisect
import functools
import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, mel_frequencies

#: Smallest gap between two ticks, in pixels, on the frequency axis (vertical labels ≈ 12 px high).
MIN_FREQ_TICK_PX = 22.0
#: Smallest gap between two ticks, in pixels, on the time axis (horizontal labels such as "12.35").
MIN_TIME_TICK_PX = 70.0
#: A gap between two frequency ticks (or a tick and an edge) wider than this many minimum spacings takes in
#: any round value that fits, even one that does not divide the gap evenly.
FILL_GAP = 6.0


class Tick(NamedTuple):
    """One tick mark: its view coordinate, its value (Hz or s) and its label."""

    position: float
    value: float
    label: str


def _one_two_five(low: float, high: float) -> list[float]:
    """The 1-2-5 steps (…, 0.1, 0.2, 0.5, 1, 2, 5, …) in ``[low, high]``, largest first."""
    steps = []
    for exponent in range(math.floor(math.log10(low)) - 1, math.ceil(math.log10(high)) + 1):
        for mantissa in (1, 2, 5):
            step = float(f"{mantissa}e{exponent}")  # exact decimal, no 0.30000000000000004
            if low <= step <= high:
                steps.append(step)
    return sorted(steps, reverse=True)


def _divides(step: float, value: float) -> bool:
    ratio = value / step
    return abs(ratio - round(ratio)) < 1e-6


@dataclass(frozen=True)
class Scale:
    """A monotonic increasing map between values and view coordinates, with its tick rule.

    Attributes:
        name: shown to the user ("Mel bands", "Time").
        to_view: value → view coordinate (vectorised, float64 arrays).
        to_value: view coordinate → value (the inverse of ``to_view``).
        format: label of one value (e.g. ``1500.0`` → ``"1.5k"``).
        min_step, max_step: the finest and coarsest tick step in value units.
        uniform: True for one step across the whole view (linear scales); False to let the step shrink where
            the scale stretches (the mel axis: 100 Hz steps in the bass, 1 kHz at the top).
    """

    name: str
    to_view: Callable[[np.ndarray], np.ndarray]
    to_value: Callable[[np.ndarray], np.ndarray]
    format: Callable[[float], str]
    min_step: float
    max_step: float
    uniform: bool = True

    def ticks(self, view0: float, view1: float, pixels: float, min_px: float) -> list[Tick]:
        """Ticks at round values inside ``[view0, view1]`` (view coordinates) shown over ``pixels`` pixels.

        Returns ticks sorted by position, strictly increasing, each label unique, any two at least ``min_px``
        pixels apart. When ``pixels >= 5 * min_px`` (1-2-5 steps differ by up to 2.5×) and the view spans a few
        ``min_step``, there are at least two. An empty or inverted range gives ``[]``.
        """
        if not (view1 > view0) or pixels <= 0 or not math.isfinite(view0 + view1 + pixels):
            return []
        px_per_unit = pixels / (view1 - view0)
        v0, v1 = (float(v) for v in self.to_value(np.array([view0, view1], dtype=np.float64)))
        if self.uniform:
            values = self._uniform(v0, v1, view0, view1, px_per_unit, min_px)
        else:
            values = self._subdivided(v0, v1, view0, view1, px_per_unit, min_px)
        positions = self.to_view(np.array(values, dtype=np.float64))
        return [Tick(float(p), v, self.format(v)) for p, v in zip(positions, values, strict=True)]

    # ----- helpers -----
    def _multiples(self, step: float, low: float, high: float, view0: float, view1: float) -> list[float]:
        """Multiples of ``step`` in ``[low, high]`` whose view position is inside ``[view0, view1]``."""
        first, last = math.ceil(low / step - 1e-9), math.floor(high / step + 1e-9)
        if last - first > 10_000:
            return []
        values = [round(k * step, 9) for k in range(first, last + 1)]
        if not values:
            return []
        pos = self.to_view(np.array(values, dtype=np.float64))
        eps = 1e-9 * max(1.0, abs(view1 - view0))
        return [v for v, p in zip(values, pos, strict=True) if view0 - eps <= p <= view1 + eps]

    def _spaced(self, values: list[float], px_per_unit: float, min_px: float) -> bool:
        if len(values) < 2:
            return True
        pixels = self.to_view(np.array(values, dtype=np.float64)) * px_per_unit
        return bool(np.min(np.diff(pixels)) >= min_px)

    def _uniform(self, v0: float, v1: float, view0: float, view1: float, px_per_unit: float,
                 min_px: float) -> list[float]:
        """All multiples of the finest step whose ticks keep ``min_px`` apart (at least two if possible)."""
        best: list[float] = []
        for step in self._steps():
            values = self._multiples(step, v0, v1, view0, view1)
            if not self._spaced(values, px_per_unit, min_px):
                break
            if len(values) >= 2 or len(values) > len(best):
                best = values
        return best

    def _subdivided(self, v0: float, v1: float, view0: float, view1: float, px_per_unit: float,
                    min_px: float) -> list[float]:
        """The uniform ticks first (the step that fits where the scale is most compressed); each gap between
        two ticks (or a tick and an edge) is then split by the coarsest step that divides its ends and keeps
        ``min_px`` apart, and so on, so every gap is evenly divided where the scale stretches."""
        ticks = self._uniform(v0, v1, view0, view1, px_per_unit, min_px)
        if not ticks:
            return []
        steps = self._steps()
        gaps: list[tuple[float | None, float | None]] = [(None, ticks[0])]
        gaps += list(zip(ticks[:-1], ticks[1:], strict=True))
        gaps.append((ticks[-1], None))
        result = set(ticks)
        for low, high in gaps:
            result.update(self._split(low, high, v0, v1, view0, view1, steps, px_per_unit, min_px))
        return self._fill(sorted(result), v0, v1, view0, view1, px_per_unit, min_px)

    def _fill(self, ticks: list[float], v0: float, v1: float, view0: float, view1: float, px_per_unit: float,
              min_px: float) -> list[float]:
        """Round values (roundest first) put into gaps wider than ``FILL_GAP`` × ``min_px`` that no even
        subdivision could split (a small canvas: 0 and 5k alone become 0, 1k, 2k, 5k), and anywhere while fewer
        than two ticks show."""
        values = sorted(ticks)
        pixels = [float(p) * px_per_unit for p in self.to_view(np.array(values, dtype=np.float64))]
        edge0, edge1 = view0 * px_per_unit, view1 * px_per_unit
        limit = 50.0 * (edge1 - edge0) / min_px
        for step in self._steps():
            candidates = self._multiples(step, v0, v1, view0, view1)
            if len(candidates) > limit:
                break  # far finer than any gap could take
            positions = self.to_view(np.array(candidates, dtype=np.float64)) * px_per_unit
            for value, pos in zip(candidates, positions, strict=True):
                k = bisect.bisect_left(values, value)
                if k < len(values) and values[k] == value:
                    continue
                left = pixels[k - 1] if k > 0 else edge0
                right = pixels[k] if k < len(values) else edge1
                if right - left <= FILL_GAP * min_px and len(values) >= 2:
                    continue  # narrow enough already
                if (k > 0 and pos - left < min_px) or (k < len(values) and right - pos < min_px):
                    continue
                values.insert(k, value)
                pixels.insert(k, float(pos))
        return values

    def _split(self, low: float | None, high: float | None, v0: float, v1: float, view0: float, view1: float,
               steps: list[float], px_per_unit: float, min_px: float) -> list[float]:
        """Ticks inside one gap (``None``: the view's edge), recursively subdivided."""
        for i, step in enumerate(steps):
            if any(end is not None and not _divides(step, end) for end in (low, high)):
                continue
            lo = v0 if low is None else low
            hi = v1 if high is None else high
            inner = [v for v in self._multiples(step, lo, hi, view0, view1) if v != low and v != high]
            if not inner:
                continue
            with_ends = ([] if low is None else [low]) + inner + ([] if high is None else [high])
            if not self._spaced(with_ends, px_per_unit, min_px):
                inner = self._drop_crowding(low, inner, px_per_unit, min_px)
                with_ends = ([] if low is None else [low]) + inner + ([] if high is None else [high])
                if not inner or not self._spaced(with_ends, px_per_unit, min_px):
                    break  # finer steps crowd this gap even more
            found = list(inner)
            for a, b in zip(with_ends[:-1], with_ends[1:], strict=True):
                found += self._split(a, b, v0, v1, view0, view1, steps[i + 1:], px_per_unit, min_px)
            if low is None:
                found += self._split(None, inner[0], v0, v1, view0, view1, steps[i + 1:], px_per_unit, min_px)
            if high is None:
                found += self._split(inner[-1], None, v0, v1, view0, view1, steps[i + 1:], px_per_unit, min_px)
            return found
        return []

    def _drop_crowding(self, low: float | None, inner: list[float], px_per_unit: float,
                       min_px: float) -> list[float]:
        """``inner`` without its first value when ``low`` is 0 and that value sits closer than ``min_px`` to it
        (the mel axis bends inside its lowest half band: 0, 200, 300, 400, 500 rather than 0, 500)."""
        if low != 0.0 or not inner:
            return []
        px = self.to_view(np.array([low, inner[0]], dtype=np.float64)) * px_per_unit
        return inner[1:] if px[1] - px[0] < min_px else []

    def _steps(self) -> list[float]:
        return _one_two_five(self.min_step, self.max_step)


def format_hz(hz: float) -> str:
    """A tick label for a frequency: ``"250"`` below 1 kHz, ``"1.5k"`` from 1 kHz."""
    if abs(hz) < 1000.0:
        return f"{hz:g}"
    return f"{hz / 1000.0:g}k"


@functools.lru_cache(maxsize=8)
def _knots(config: MelConfig) -> tuple[np.ndarray, np.ndarray]:
    """View coordinates and Hz of the frequency axis's knots: the image edges and the band centres."""
    centres = np.asarray(mel_frequencies(config), dtype=np.float64)
    n = len(centres)
    views = np.concatenate([[0.0], np.arange(n, dtype=np.float64) + 0.5, [float(n)]])
    hz = np.concatenate([[float(config.fmin)], centres, [float(config.fmax)]])
    return views, hz


def hz_to_view(hz: float | np.ndarray, config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Frequency in Hz → view coordinate of the canvas (band ``b``'s centre at ``b + 0.5``, ``fmin`` at 0,
    ``fmax`` at ``n_mels``; linear between; clamped outside ``[fmin, fmax]``). float64, shape of ``hz``."""
    views, knots = _knots(config)
    return np.asarray(np.interp(hz, knots, views), dtype=np.float64)


def view_to_hz(y: float | np.ndarray, config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """View coordinate of the canvas → frequency in Hz (the inverse of :func:`hz_to_view`). float64."""
    views, knots = _knots(config)
    return np.asarray(np.interp(y, views, knots), dtype=np.float64)


def view_to_cell(x: float, y: float) -> tuple[float, float]:
    """A view coordinate of the image (cell ``i`` spans ``[i, i + 1)``) → the fractional ``(frame, band)`` index
    of :mod:`vocoder_studio.editing` and :func:`~vocoder_studio.editing.band_to_hz`, whose cell centres sit at
    whole numbers. The one bridge between the two conventions: ``band_to_hz(view_to_cell(x, y)[1])`` equals
    :func:`view_to_hz` ``(y)`` between the first and the last band centre."""
    return x - 0.5, y - 0.5


def mel_band_scale(config: MelConfig = DEFAULT_CONFIG) -> Scale:
    """The canvas's frequency axis: mel bands in view coordinates, ticks in Hz (1 Hz … 5 kHz steps)."""
    return Scale(
        name="Mel bands",
        to_view=lambda hz: hz_to_view(hz, config),
        to_value=lambda y: view_to_hz(y, config),
        format=format_hz,
        min_step=1.0,
        max_step=max(10.0, float(config.fmax)),
        uniform=False,
    )


def _format_seconds(step: float) -> Callable[[float], str]:
    decimals = max(0, -math.floor(math.log10(step) + 1e-9))
    return lambda seconds: f"{seconds:.{decimals}f}"


def time_ticks(t0: float, t1: float, pixels: float, min_px: float = MIN_TIME_TICK_PX) -> list[Tick]:
    """Ticks of the time axis (seconds, view coordinate = seconds): one 1-2-5 step (1 ms … 1000 s) across the
    view, labels with as many decimals as the step needs (``"1.25"`` for 0.05 s steps)."""
    scale = time_scale()
    ticks = scale.ticks(t0, t1, pixels, min_px)
    if len(ticks) < 2:
        return ticks
    step = min(b.value - a.value for a, b in zip(ticks[:-1], ticks[1:], strict=True))
    fmt = _format_seconds(float(f"{step:.1g}"))
    return [Tick(t.position, t.value, fmt(t.value)) for t in ticks]


def time_scale() -> Scale:
    """The canvas's time axis: seconds, linear (view coordinate = seconds)."""

    def identity(values: np.ndarray) -> np.ndarray:
        return np.asarray(values, dtype=np.float64)

    return Scale(name="Time", to_view=identity, to_value=identity, format=lambda s: f"{s:g}", min_step=1e-3,
                 max_step=1e3, uniform=True)




#: Colour range from the levels of the document's cells: the high end at this percentile (the loudest 0.1 % of
#: cells saturate, so one click or a drawn peak cannot wash the picture out) ...
LEVEL_HIGH_PERCENTILE = 99.9
#: ... the low end at this percentile of the cells above the floor (the quietest 1 % go black) ...
LEVEL_LOW_PERCENTILE = 1.0
#: ... but never more than this many dB below the high end (hearing and an 8-bit colour map both give out
#: there; Audacity's spectrogram default is 80 dB too) nor fewer than ``MIN_LEVEL_SPAN_DB``.
MAX_LEVEL_SPAN_DB = 80.0
MIN_LEVEL_SPAN_DB = 20.0


def auto_levels(db: np.ndarray, floor_db: float | None = None) -> tuple[float, float]:
    """A colour range ``(low, high)`` in dB for the cell levels ``db`` (any shape, float).

    ``high`` is the 99.9th percentile rounded up to a whole dB, ``low`` the 1st percentile rounded down, but
    at most 80 dB and at least 20 dB below ``high``. Cells at ``floor_db`` (digital silence, the mel front-end's
    ``log_floor``) are left out of the percentiles, so a clip padded with silence keeps its contrast; with no
    other cells (silence only, or an empty array) the range starts at the floor (or −100 dB), 20 dB wide.
    Non-finite cells are ignored.
    """
    values = np.asarray(db, dtype=np.float64).ravel()
    values = values[np.isfinite(values)]
    if floor_db is not None:
        values = values[values > floor_db + 1e-3]
    if values.size == 0:  # silence only: the floor at the bottom (black)
        base = float(math.floor(-100.0 if floor_db is None else floor_db))
        return base, base + MIN_LEVEL_SPAN_DB
    high = float(math.ceil(np.percentile(values, LEVEL_HIGH_PERCENTILE)))
    low = float(math.floor(np.percentile(values, LEVEL_LOW_PERCENTILE)))
    low = min(max(low, high - MAX_LEVEL_SPAN_DB), high - MIN_LEVEL_SPAN_DB)
    return low, high
