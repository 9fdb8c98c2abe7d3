"""The min/max pyramid: exact per column, one pass over an hour of audio, each zoom reads one level."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest

from vocoder_studio.engine.peaks import BASE_BIN, Peaks


def _brute(audio: np.ndarray, positions: np.ndarray, end: int) -> tuple[np.ndarray, np.ndarray]:
    bounds = [*positions.astype(int), end]
    pairs = [(audio[a:b].min(), audio[a:b].max()) for a, b in zip(bounds[:-1], bounds[1:], strict=True)]
    return np.array([p[0] for p in pairs]), np.array([p[1] for p in pairs])


@pytest.mark.parametrize("start, end, pixels", [(0, 60_000, 500), (12_345, 54_321, 800), (1000, 1900, 1200),
                                               (0, 60_001, 1), (59_000, 60_001, 37)])
def test_each_column_is_the_exact_min_and_max_of_its_samples(start: int, end: int, pixels: int) -> None:
    audio = np.random.default_rng(1).normal(0, 0.3, 60_001).astype(np.float32)
    peaks = Peaks.from_blocks(audio[i : i + 4097] for i in range(0, audio.size, 4097))  # odd block sizes
    positions, mins, maxs = peaks.read(start, end, pixels)
    assert 1 <= positions.size <= pixels
    size = peaks.bin_size(peaks.last_level)
    assert positions[0] == start // size * size
    ref_lo, ref_hi = _brute(audio, positions, min(audio.size, -(-end // size) * size))
    np.testing.assert_array_equal(mins, ref_lo)
    np.testing.assert_array_equal(maxs, ref_hi)


def test_an_hour_is_read_once_and_each_zoom_reads_about_a_pixel_a_bin() -> None:
    rate, block = 22050, 1 << 18
    n = rate * 3600
    passes = {"blocks": 0}

    def blocks() -> Iterator[np.ndarray]:
        t = np.arange(block, dtype=np.float32)
        for i in range(0, n, block):
            passes["blocks"] += 1
            yield (0.5 * np.sin(t * 0.01 + i)).astype(np.float32)[: min(block, n - i)]

    peaks = Peaks.from_blocks(blocks())
    assert passes["blocks"] == -(-n // block)  # every block read exactly once
    assert peaks.n_samples == n
    assert peaks.levels[0][0].size == -(-n // BASE_BIN) and peaks.levels[-1][0].size == 1
    pixels = 1200
    seen = set()
    for seconds in (3600, 600, 60, 5, 0.5):  # zooming in
        positions, mins, maxs = peaks.read(1800 * rate, 1800 * rate + seconds * rate, pixels)
        seen.add(peaks.last_level)
        assert pixels / 4 <= positions.size <= pixels or peaks.last_level == 0
        assert mins.min() >= -0.5 - 1e-6 and maxs.max() <= 0.5 + 1e-6
        assert (maxs - mins).min() >= 0
        assert peaks.bin_size(peaks.last_level) <= max(BASE_BIN, seconds * rate / pixels)
    assert len(seen) >= 4  # the zooms read different levels


def test_empty_and_tiny_signals() -> None:
    peaks = Peaks.from_audio(np.array([0.25, -0.5, 0.1], np.float32))
    positions, mins, maxs = peaks.read(0, 3, 100)
    assert positions.tolist() == [0.0] and mins.tolist() == [-0.5] and maxs.tolist() == [0.25]
    assert peaks.read(5, 9, 10)[0].size == 0
