from __future__ import annotations

import numpy as np
import pytest

from vocoder_studio.audio import db_to_ln
from vocoder_studio.document import Document, Region
from vocoder_studio.editing import (
    BrushSettings,
    HarmonicSettings,
    apply_gain,
    band_to_hz,
    brush_dab,
    clear_region,
    copy_region,
    erase_dab,
    fade_region,
    harmonic_dab,
    hz_to_band,
    paste,
    stroke_points,
)


@pytest.fixture
def doc(example_mel: np.ndarray) -> Document:
    return Document(example_mel[:, :300])


def test_stroke_points_leave_no_gaps() -> None:
    points = stroke_points((0.0, 0.0), (150.0, 10.0), spacing=0.5)
    assert np.all(np.abs(np.diff(points, axis=0)).max(axis=1) <= 0.5 + 1e-9)
    assert tuple(points[-1]) == (150.0, 10.0)


def test_brush_raises_near_the_point_only(doc: Document) -> None:
    before = doc.mel.copy()
    brush_dab(doc, 100, 40, BrushSettings(radius=3, gain_db=6))
    diff = doc.mel - before
    assert diff[40, 100] == pytest.approx(db_to_ln(6), rel=1e-5)
    assert diff[40, 104] == 0 and diff[44, 100] == 0
    assert np.all(diff >= 0)


def test_eraser_moves_the_centre_to_the_floor(doc: Document) -> None:
    erase_dab(doc, 50, 20, radius=2)
    assert doc.mel[20, 50] == pytest.approx(np.log(1e-5), abs=1e-5)


def test_harmonic_pen_draws_the_harmonics(doc: Document) -> None:
    clear_region(doc, doc.full_region)
    harmonic_dab(doc, 10, 200.0, HarmonicSettings(level_db=0, rolloff_db=0))
    column = doc.mel[:, 10]
    for k in (1, 2, 5, 10):
        band = int(round(float(hz_to_band(200.0 * k))))
        assert column[band - 1 : band + 2].max() > -0.5
    assert column[int(round(float(hz_to_band(300.0))))] < column[int(round(float(hz_to_band(400.0))))]
    assert np.all(doc.mel[:, 11] == np.float32(np.log(1e-5)))


def test_band_hz_round_trip() -> None:
    for hz in (150.0, 1000.0, 6000.0):
        assert float(band_to_hz(hz_to_band(hz))) == pytest.approx(hz, rel=1e-6)


def test_selection_gain_is_exact_inside_and_nothing_outside(doc: Document) -> None:
    before = doc.mel.copy()
    region = Region(10, 50, 5, 25)
    apply_gain(doc, region, 6.0)
    diff = doc.mel - before
    np.testing.assert_allclose(diff[region.slices], db_to_ln(6.0), rtol=1e-4)
    diff[region.slices] = 0
    assert not diff.any()
    doc.undo()
    np.testing.assert_array_equal(doc.mel, before)


@pytest.mark.parametrize("fade_in", [True, False], ids=["fade-in", "fade-out"])
def test_fade_ramps_the_level_in_db_over_the_region_only(doc: Document, fade_in: bool) -> None:
    before = doc.mel.copy()
    region = Region(20, 80, 10, 50)
    fade_region(doc, region, fade_in=fade_in, depth_db=60)
    after = doc.mel.copy()
    outside = np.ones(before.shape, bool)
    outside[region.slices] = False
    np.testing.assert_array_equal(after[outside], before[outside])
    # the attenuation in dB, frame by frame across the region, where the floor did not cut it off
    floor = doc.config.floor_ln
    inside_before, inside_after = before[region.slices], after[region.slices]
    assert np.all(inside_after >= floor) and np.all(inside_after <= inside_before)
    quiet_end, full_end = (0, -1) if fade_in else (-1, 0)
    np.testing.assert_array_equal(inside_after[:, full_end], inside_before[:, full_end])
    uncut = inside_before[:, quiet_end] - db_to_ln(60.0) > floor
    assert uncut.any()
    np.testing.assert_allclose(inside_after[uncut, quiet_end], inside_before[uncut, quiet_end] - db_to_ln(60.0),
                               rtol=1e-5)
    np.testing.assert_allclose(inside_after[~uncut, quiet_end], floor)
    # the ramp is linear in dB from -60 dB to 0 dB, cell by cell (where the floor does not cut it off)
    ramp = np.linspace(-60.0, 0.0, region.frame1 - region.frame0)
    ramp = np.broadcast_to(ramp if fade_in else ramp[::-1], inside_before.shape)
    uncut = inside_before + db_to_ln(ramp) > floor + 1e-3
    assert uncut.any(axis=0).all()  # every frame has cells to check
    gain_db = (inside_after - inside_before) / db_to_ln(1.0)
    np.testing.assert_allclose(gain_db[uncut], ramp[uncut], atol=1e-3)
    assert doc.undo_label == ("Fade in" if fade_in else "Fade out")
    doc.undo()
    np.testing.assert_array_equal(doc.mel, before)


def test_copy_paste_cuts_at_the_document_end(doc: Document) -> None:
    clip = copy_region(doc, Region(100, 120, 0, 80))
    written = paste(doc, clip, 290)
    assert written == Region(290, 300, 0, 80)
    np.testing.assert_array_equal(doc.mel[:, 290:300], clip[:, :10])
    assert doc.undo_label == "Paste"
