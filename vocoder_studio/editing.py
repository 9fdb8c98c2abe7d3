"""The editing tools as functions over a :class:`~vocoder_studio.document.Document` (no Qt).

Coordinates are in cells: ``frame`` (time, 11.6 ms each) and ``band`` (mel band 0–79), both fractional.
Levels are in dB on the canvas (20·log10(e)·ln value) and ln magnitude in the document.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, db_to_ln, mel_frequencies
from vocoder_studio.document import Document, Region


def stroke_points(a: tuple[float, float], b: tuple[float, float], spacing: float = 0.5) -> np.ndarray:
    """Points from ``a`` to ``b`` (excluding ``a``) no more than ``spacing`` cells apart, shape ``(n, 2)``.

    Mouse events arrive tens of cells apart in a fast drag; painting at these points keeps strokes unbroken.
    """
    (x0, y0), (x1, y1) = a, b
    steps = max(1, int(np.ceil(max(abs(x1 - x0), abs(y1 - y0)) / spacing)))
    t = np.arange(1, steps + 1) / steps
    return np.stack([x0 + (x1 - x0) * t, y0 + (y1 - y0) * t], axis=1)


def soft_disc(frame: float, band: float, radius: float, shape: tuple[int, int]) -> tuple[Region, np.ndarray]:
    """A soft round brush tip: weights 1 at the centre falling smoothly to 0 at ``radius`` cells.

    Returns:
        the region covered and its float32 weights ``(bands, frames)`` (``(1 - (d/r)²)²``).
    """
    n_mels, frames = shape
    r = max(radius, 0.5)
    region = Region(int(np.floor(frame - r)), int(np.ceil(frame + r)) + 1,
                    int(np.floor(band - r)), int(np.ceil(band + r)) + 1).clip(n_mels, frames)
    if region.empty:
        return region, np.zeros((0, 0), np.float32)
    bands = np.arange(region.band0, region.band1)[:, None] - band
    cols = np.arange(region.frame0, region.frame1)[None, :] - frame
    d2 = (bands**2 + cols**2) / (r * r)
    weights = np.clip(1.0 - d2, 0.0, 1.0) ** 2
    return region, weights.astype(np.float32)


@dataclass
class BrushSettings:
    """Brush and eraser settings: ``radius`` in cells, ``gain_db`` per dab at the centre (negative lowers)."""

    radius: float = 3.0
    gain_db: float = 6.0


def brush_dab(doc: Document, frame: float, band: float, settings: BrushSettings) -> Region:
    """Raise (or lower) the level around a point by up to ``gain_db`` with a soft radius; returns the region."""
    region, weights = soft_disc(frame, band, settings.radius, (doc.n_mels, doc.frames))
    if region.empty:
        return region
    values = doc.mel[region.slices] + weights * np.float32(db_to_ln(settings.gain_db))
    doc.write(region, values)
    return region


def erase_dab(doc: Document, frame: float, band: float, radius: float) -> Region:
    """Pull cells towards the floor (digital silence, ln 1e-5) with a soft radius."""
    region, weights = soft_disc(frame, band, radius, (doc.n_mels, doc.frames))
    if region.empty:
        return region
    current = doc.mel[region.slices]
    values = current + weights * (doc.config.floor_ln - current)
    doc.write(region, values)
    return region


def hz_to_band(hz: float | np.ndarray, config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Fractional mel band index of a frequency in Hz (interpolated on the band centres)."""
    centres = mel_frequencies(config)
    return np.asarray(np.interp(hz, centres, np.arange(config.n_mels), left=-1.0, right=float(config.n_mels)))


def band_to_hz(band: float | np.ndarray, config: MelConfig = DEFAULT_CONFIG) -> np.ndarray:
    """Centre frequency in Hz of a fractional mel band index."""
    centres = mel_frequencies(config)
    return np.asarray(np.interp(band, np.arange(config.n_mels), centres))


@dataclass
class HarmonicSettings:
    """Harmonic pen: draws a fundamental and its harmonics at ``level_db``, each harmonic ``rolloff_db``
    quieter than the one below, ``width`` bands wide, up to ``max_harmonics``."""

    level_db: float = -10.0
    rolloff_db: float = 3.0
    width: float = 0.8
    max_harmonics: int = 40


def harmonic_dab(doc: Document, frame: float, f0_hz: float, settings: HarmonicSettings) -> Region:
    """Draw the harmonic comb of ``f0_hz`` into one frame column (raising cells, never lowering them)."""
    col = int(round(frame))
    if not 0 <= col < doc.frames or f0_hz <= 0:
        return Region(0, 0, 0, 0)
    fmax = doc.config.fmax
    k = np.arange(1, settings.max_harmonics + 1)
    k = k[k * f0_hz <= fmax]
    if k.size == 0:
        return Region(0, 0, 0, 0)
    centres = hz_to_band(k * f0_hz, doc.config)
    levels = db_to_ln(settings.level_db - settings.rolloff_db * (k - 1))
    bands = np.arange(doc.n_mels)[:, None]
    weights = np.exp(-0.5 * ((bands - centres[None, :]) / max(settings.width, 0.1)) ** 2)
    # Sum the harmonics' magnitudes in the linear domain (as the mel filterbank would), then take the log.
    magnitude = np.sum(np.exp(np.asarray(levels))[None, :] * weights, axis=1)
    comb = np.log(np.maximum(magnitude, doc.config.log_floor))
    region = Region(col, col + 1, 0, doc.n_mels)
    values = np.maximum(doc.mel[region.slices], comb[:, None].astype(np.float32))
    doc.write(region, values)
    return region


def apply_gain(doc: Document, region: Region, gain_db: float) -> None:
    """Add ``gain_db`` to every cell of ``region`` (one undo step)."""
    region = region.clip(doc.n_mels, doc.frames)
    if region.empty:
        return
    with doc.edit(f"Gain {gain_db:+.1f} dB"):
        doc.write(region, doc.mel[region.slices] + np.float32(db_to_ln(gain_db)))


def clear_region(doc: Document, region: Region) -> None:
    """Set every cell of ``region`` to the floor (silence), one undo step."""
    region = region.clip(doc.n_mels, doc.frames)
    if region.empty:
        return
    with doc.edit("Clear"):
        shape = (region.band1 - region.band0, region.frame1 - region.frame0)
        doc.write(region, np.full(shape, doc.config.floor_ln, np.float32))


def fade_region(doc: Document, region: Region, fade_in: bool = True, depth_db: float = 60.0) -> None:
    """Fade the region in (or out) over its frames: a linear ramp in dB from ``-depth_db`` to 0 dB."""
    region = region.clip(doc.n_mels, doc.frames)
    if region.empty:
        return
    ramp = np.linspace(-depth_db, 0.0, region.frame1 - region.frame0, dtype=np.float32)
    if not fade_in:
        ramp = ramp[::-1]
    values = np.maximum(doc.mel[region.slices] + np.float32(db_to_ln(1.0)) * ramp[None, :], doc.config.floor_ln)
    with doc.edit("Fade in" if fade_in else "Fade out"):
        doc.write(region, values)


def copy_region(doc: Document, region: Region) -> np.ndarray:
    """A copy of the cells of ``region``, float32 ``(bands, frames)`` (the clipboard content)."""
    return np.array(doc.mel[region.clip(doc.n_mels, doc.frames).slices], dtype=np.float32)


def paste(doc: Document, clip: np.ndarray, frame0: int, band0: int = 0) -> Region:
    """Paste a clipboard array with its lowest band at ``band0`` and its first frame at ``frame0``;
    what falls outside the document is cut off. One undo step; returns the region written."""
    bands, frames = clip.shape
    region = Region(frame0, frame0 + frames, band0, band0 + bands).clip(doc.n_mels, doc.frames)
    if region.empty:
        return region
    part = clip[region.band0 - band0 : region.band1 - band0, region.frame0 - frame0 : region.frame1 - frame0]
    with doc.edit("Paste"):
        doc.write(region, part)
    return region
