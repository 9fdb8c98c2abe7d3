"""The waveform lane under the canvas: shares its time axis and zoom, draws source and take, moves the cursor."""

from __future__ import annotations

import numpy as np
import pytest
from PySide6.QtCore import QPointF, Qt

from vocoder_studio.ui.waveform_lane import LaneMode, WaveformLane


def _lane(window) -> WaveformLane:
    canvas = window.current_canvas()
    lane = canvas.findChild(WaveformLane)
    assert lane is not None
    return lane


def _global_x(view, viewbox, seconds: float) -> int:
    scene = viewbox.mapViewToScene(QPointF(seconds, 0.0))
    return int(view.mapToGlobal(view.mapFromScene(scene)).x())


def test_the_lane_shows_the_source_and_follows_the_canvas_zoom(window, qtbot) -> None:
    lane = _lane(window)
    canvas = lane.canvas
    qtbot.waitUntil(lambda: lane.source_peaks is not None, timeout=10000)
    assert lane.source_peaks.n_samples == pytest.approx(canvas.doc.duration * 22050, abs=256)
    assert len(lane.source_curve.getData()[0]) > 100
    canvas.viewbox.setXRange(2.0, 3.0, padding=0.0)
    qtbot.wait(50)
    (x0, x1), _ = lane.viewbox.viewRange()
    assert (x0, x1) == pytest.approx((2.0, 3.0), abs=0.01)  # setXLink matches screen columns
    xs = lane.source_curve.getData()[0]
    assert xs.min() >= 2.0 - 0.01 and xs.max() <= 3.0 + 0.01  # only the visible second is drawn
    for seconds in (2.1, 2.5, 2.9):  # the same time sits at the same screen column in both
        assert abs(_global_x(canvas.view, canvas.viewbox, seconds) - _global_x(lane.view, lane.viewbox, seconds)) <= 2


def test_clicking_the_lane_moves_the_cursor(window, qtbot) -> None:
    lane = _lane(window)
    canvas = lane.canvas
    pos = lane.view.mapFromScene(lane.viewbox.mapViewToScene(QPointF(4.0, 0.0)))
    clicked = []
    canvas.positionClicked.connect(clicked.append)
    qtbot.mouseClick(lane.view.viewport(), Qt.MouseButton.LeftButton, pos=pos)
    frame = 4.0 / canvas.doc.config.frame_seconds
    assert abs(canvas.cursor_frame - frame) <= 2 and clicked == [canvas.cursor_frame]
    assert lane.cursor_line.isVisible() and lane.cursor_line.value() == pytest.approx(canvas.cursor_line.value())


def test_the_take_appears_after_a_render_and_the_modes_switch(window, qtbot, tmp_path) -> None:
    lane = _lane(window)
    qtbot.waitUntil(lambda: lane.source_peaks is not None, timeout=10000)
    with qtbot.waitSignal(window.exportFinished, timeout=60000):
        window.export_wav(tmp_path / "take.wav")
    qtbot.waitUntil(lambda: lane.take_peaks is not None, timeout=10000)
    assert lane.take_peaks.n_samples == lane.canvas.doc.frames * 256
    _, y = lane.take_curve.getData()
    assert np.abs(y).max() > 0.01  # real audio, not silence
    window.station.set_lane_mode(LaneMode.SOURCE)
    assert len(lane.take_curve.getData()[0] or []) == 0 and len(lane.source_curve.getData()[0]) > 0
    window.station.lane_actions[LaneMode.TAKE].trigger()
    assert len(lane.source_curve.getData()[0] or []) == 0 and len(lane.take_curve.getData()[0]) > 0
