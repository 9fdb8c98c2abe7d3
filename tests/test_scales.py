"""Axis scales and their ticks (no Qt): round values across the visible range, never crowded, at any zoom."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, ln_to_db, mel_frequencies
from vocoder_studio.scales import (
    MAX_LEVEL_SPAN_DB,
    MIN_FREQ_TICK_PX,
    MIN_LEVEL_SPAN_DB,
    MIN_TIME_TICK_PX,
    Tick,
    auto_levels,
    format_hz,
    hz_to_view,
    mel_band_scale,
    time_ticks,
    view_to_cell,
    view_to_hz,
)

CFG = DEFAULT_CONFIG
N = CFG.n_mels


def _check(ticks: list[Tick], view0: float, view1: float, pixels: float, min_px: float) -> None:
    positions = np.array([t.position for t in ticks])
    assert np.all(np.diff(positions) > 0), "strictly increasing"
    eps = 1e-6 * (view1 - view0)
    assert np.all(positions >= view0 - eps) and np.all(positions <= view1 + eps), "inside the view"
    labels = [t.label for t in ticks]
    assert len(set(labels)) == len(labels), labels
    gaps_px = np.diff(positions) * pixels / (view1 - view0)
    assert np.all(gaps_px >= min_px - 1e-6), (labels, gaps_px)


def test_full_view_is_labelled_up_to_fmax() -> None:
    """Rough edge 7: the top fifth (4 kHz … 8 kHz) carries ticks, and 8 kHz sits at the top edge."""
    ticks = mel_band_scale(CFG).ticks(0.0, float(N), 620.0, MIN_FREQ_TICK_PX)
    values = [t.value for t in ticks]
    assert values[0] == CFG.fmin and values[-1] == CFG.fmax
    assert ticks[-1].position == pytest.approx(N)
    assert ticks[-1].label == "8k"
    top_fifth = [t for t in ticks if t.position >= 0.8 * N]
    assert len(top_fifth) >= 2, [t.label for t in ticks]
    assert {"1k", "2k", "4k", "8k"} <= {t.label for t in ticks}
    assert any(0.0 < t.value < 1000.0 for t in ticks)  # the bass takes a third of the height: labelled too
    assert {"1.5k", "2.5k", "3.5k"} <= {t.label for t in ticks}  # gaps split evenly where there is room
    _check(ticks, 0.0, float(N), 620.0, MIN_FREQ_TICK_PX)


def test_all_ticks_are_round_values() -> None:
    for view0, view1 in [(0.0, N), (0.0, 4.0), (76.0, N), (30.0, 50.0), (10.3, 11.9)]:
        for tick in mel_band_scale(CFG).ticks(view0, view1, 600.0, MIN_FREQ_TICK_PX):
            mantissa = tick.value / 10 ** np.floor(np.log10(tick.value)) if tick.value else 1.0
            assert round(mantissa * 100) % 5 == 0, tick  # 1, 1.5, 2, 2.5 … × 10^k Hz: no 1234 Hz


def test_zoomed_in_keeps_several_ticks() -> None:
    """Rough edge 7: zoomed in to 4 bands, more than one tick remains (anywhere on the axis)."""
    scale = mel_band_scale(CFG)
    for band in range(0, N - 4 + 1, 4):
        ticks = scale.ticks(float(band), band + 4.0, 600.0, MIN_FREQ_TICK_PX)
        assert len(ticks) >= 4, (band, [t.label for t in ticks])


def test_view_and_hz_are_inverse_and_match_band_centres() -> None:
    centres = mel_frequencies(CFG)
    np.testing.assert_allclose(view_to_hz(np.arange(N) + 0.5, CFG), centres)
    np.testing.assert_allclose(hz_to_view(centres, CFG), np.arange(N) + 0.5)
    assert view_to_hz(0.0, CFG) == CFG.fmin and view_to_hz(float(N), CFG) == CFG.fmax
    y = np.linspace(0.0, N, 1001)
    np.testing.assert_allclose(hz_to_view(view_to_hz(y, CFG), CFG), y, atol=1e-9)


def test_view_to_cell_bridges_the_canvas_and_the_editing_band_conventions() -> None:
    from vocoder_studio.editing import band_to_hz

    y = np.linspace(0.5, N - 0.5, 317)
    frame, band = view_to_cell(12.5, y)
    assert frame == 12.0
    np.testing.assert_allclose(band_to_hz(band, CFG), view_to_hz(y, CFG), rtol=1e-9)


def test_another_config_reads_its_own_bands() -> None:
    cfg = MelConfig(n_mels=40, fmax=11025.0)
    ticks = mel_band_scale(cfg).ticks(0.0, 40.0, 600.0, MIN_FREQ_TICK_PX)
    assert ticks[-1].value == 11025.0 or ticks[-1].value <= 11025.0
    assert max(t.position for t in ticks) <= 40.0 + 1e-9
    assert any(t.value >= 10000.0 for t in ticks)


def test_labels() -> None:
    assert [format_hz(v) for v in (0.0, 50.0, 250.0, 1000.0, 1500.0, 7250.0, 8000.0)] == [
        "0", "50", "250", "1k", "1.5k", "7.25k", "8k"]


@settings(max_examples=300, deadline=None)
@given(
    start=st.floats(0.0, N - 1.0),
    span=st.floats(1.0, float(N)),
    pixels=st.floats(5 * MIN_FREQ_TICK_PX, 3000.0),
)
def test_frequency_ticks_properties(start: float, span: float, pixels: float) -> None:
    """At any zoom of at least one band: ≥ 2 ticks, strictly increasing, inside the view, unique labels,
    never closer than the minimum spacing."""
    view0 = start
    view1 = min(float(N), start + span)
    if view1 - view0 < 1.0:
        view0 = view1 - 1.0
    ticks = mel_band_scale(CFG).ticks(view0, view1, pixels, MIN_FREQ_TICK_PX)
    assert len(ticks) >= 2, (view0, view1, pixels, [t.label for t in ticks])
    _check(ticks, view0, view1, pixels, MIN_FREQ_TICK_PX)


@settings(max_examples=300, deadline=None)
@given(
    start=st.floats(0.0, 600.0),
    span=st.floats(16 * CFG.frame_seconds, 600.0),
    pixels=st.floats(5 * MIN_TIME_TICK_PX, 4000.0),
)
def test_time_ticks_properties(start: float, span: float, pixels: float) -> None:
    """Seconds ticks: ≥ 2 at any zoom down to 16 frames, evenly spaced round steps, distinct readable labels."""
    ticks = time_ticks(start, start + span, pixels, MIN_TIME_TICK_PX)
    assert len(ticks) >= 2, (start, span, pixels)
    _check(ticks, start, start + span, pixels, MIN_TIME_TICK_PX)
    steps = np.diff([t.value for t in ticks])
    np.testing.assert_allclose(steps, steps[0], rtol=1e-6)
    for tick in ticks:
        assert float(tick.label) == pytest.approx(tick.value, abs=1e-9)


def test_time_labels_use_the_steps_decimals() -> None:
    assert [t.label for t in time_ticks(0.0, 9.0, 1000.0)] == [str(i) for i in range(10)]
    labels = [t.label for t in time_ticks(1.23, 1.41, 800.0)]
    assert labels[0] == "1.24" and "1.30" in labels


def test_empty_or_inverted_ranges() -> None:
    scale = mel_band_scale(CFG)
    assert scale.ticks(10.0, 10.0, 600.0, MIN_FREQ_TICK_PX) == []
    assert scale.ticks(20.0, 10.0, 600.0, MIN_FREQ_TICK_PX) == []
    assert scale.ticks(0.0, 80.0, 0.0, MIN_FREQ_TICK_PX) == []


FLOOR_DB = float(ln_to_db(np.array([CFG.floor_ln]))[0])


def test_auto_levels_on_the_example(example_mel: np.ndarray) -> None:
    """Rough edge 8: peaks of real speech keep their shape (< 1 % of cells at the top of the range)."""
    db = ln_to_db(example_mel)
    low, high = auto_levels(db, FLOOR_DB)
    assert float(np.mean(db >= high)) < 0.01
    assert float(np.mean(db >= -10.0)) > 0.03  # what the old −70 … −10 dB range saturated
    assert high <= float(db.max()) + 1.0 and low == int(low) and high == int(high)
    assert MIN_LEVEL_SPAN_DB <= high - low <= MAX_LEVEL_SPAN_DB


def test_auto_levels_ignore_digital_silence(example_mel: np.ndarray) -> None:
    db = ln_to_db(example_mel)
    padded = np.concatenate([np.full_like(db, FLOOR_DB), db, np.full_like(db, FLOOR_DB)], axis=1)
    assert auto_levels(padded, FLOOR_DB) == auto_levels(db, FLOOR_DB)
    assert auto_levels(padded)[0] < auto_levels(db)[0]  # without the floor known, silence drags the low end


def test_auto_levels_span_limits() -> None:
    assert auto_levels(np.full((80, 100), -30.0)) == (-50.0, -30.0)  # flat: 20 dB wide
    wide = np.linspace(-200.0, 0.0, 10_000)
    low, high = auto_levels(wide)
    assert high == 0.0 and low == -MAX_LEVEL_SPAN_DB
    assert auto_levels(np.full((4, 4), FLOOR_DB), FLOOR_DB) == (np.floor(FLOOR_DB), np.floor(FLOOR_DB) + 20)
    assert auto_levels(np.array([np.nan, np.inf, -20.0, -40.0])) == (-40.0, -20.0)
