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


def test_fade_copy_paste(doc: Document) -> None:
    region = Region(0, 100, 0, 80)
    fade_region(doc, region, fade_in=True, depth_db=60)
    assert doc.mel[:, 0].max() <= np.log(1e-5) + 1e-4 or doc.mel[:, 0].max() < doc.mel[:, 99].max()
    clip = copy_region(doc, Region(100, 120, 0, 80))
    written = paste(doc, clip, 280)
    assert written == Region(280, 300, 0, 80)
    np.testing.assert_array_equal(doc.mel[:, 280:300], clip[:, :20])
