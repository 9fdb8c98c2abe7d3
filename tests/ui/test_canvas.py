"""The spectrogram canvas on the real example with real widgets and mouse events: axis ticks, colour levels,
the selection read-out and overlay, the cursor line, a document that changes length, and the theme."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pytest
from PySide6.QtCore import QPoint, Qt, QTimer
from PySide6.QtGui import QImage, QPainter
from PySide6.QtWidgets import QApplication, QGraphicsItem, QLabel, QMenu, QTabWidget

from vocoder_studio.audio.mel import ln_to_db, mel_frequencies
from vocoder_studio.document import Document, Region, open_document
from vocoder_studio.paths import example_path
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.tools import Tool, ToolState


@pytest.fixture
def canvas(qtbot) -> Iterator[SpectrogramCanvas]:
    """A canvas on the real example, shown at 1100 × 700 px."""
    from vocoder_studio.ui.app import ensure_app

    ensure_app()
    widget = SpectrogramCanvas(open_document(example_path()), ToolState())
    qtbot.addWidget(widget)
    widget.resize(1100, 700)
    widget.show()
    qtbot.waitExposed(widget)
    qtbot.wait(150)  # the layout settles before scene coordinates map right
    yield widget
    widget.detach()


def _drawn_labels(axis) -> list[str]:
    """The tick labels the axis draws now (pyqtgraph's own layout, after it hides labels that do not fit)."""
    image = QImage(10, 10, QImage.Format.Format_RGB32)
    painter = QPainter(image)
    try:
        specs = axis.generateDrawSpecs(painter)
    finally:
        painter.end()
    assert specs is not None
    return [text for _rect, _flags, text in specs[2]]


def _label_hz(label: str) -> float:
    return float(label[:-1]) * 1000.0 if label.endswith("k") else float(label)


def _pixels(widget) -> np.ndarray:
    """The widget as a (height, width, 3) uint8 array."""
    image = widget.grab().toImage().convertToFormat(QImage.Format.Format_RGB888)
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    return data[:, : width * 3].reshape(height, width, 3).copy()


def _drag(qtbot, canvas: SpectrogramCanvas, cells: list[tuple[float, float]]) -> None:
    viewport = canvas.view.viewport()
    points = [canvas.widget_pos_of_cell(x, y) for x, y in cells]
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=points[0])
    for p in points[1:]:
        qtbot.wait(20)  # pyqtgraph drops moves closer than 10 ms
        qtbot.mouseMove(viewport, p)
    qtbot.wait(20)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=points[-1])
    qtbot.wait(20)


# ----- rough edge 7: the axes -----------------------------------------------------------------------------------
def test_frequency_axis_is_labelled_up_to_fmax(canvas, qtbot) -> None:
    labels = _drawn_labels(canvas.plot.getAxis("left"))
    hz = [_label_hz(s) for s in labels]
    fmax = canvas.doc.config.fmax
    assert max(hz) == fmax, labels  # "8k" at the top edge
    top_fifth = [h for h in hz if h >= float(mel_frequencies(canvas.doc.config)[int(0.8 * canvas.doc.n_mels)])]
    assert len(top_fifth) >= 2, labels  # the top fifth is labelled (it was not above 4 kHz)
    assert len(set(labels)) == len(labels) and len(labels) >= 8


def test_frequency_axis_keeps_several_ticks_zoomed_in(canvas, qtbot) -> None:
    for band0 in (2.0, 40.0, 74.0):
        canvas.viewbox.setYRange(band0, band0 + 5.0, padding=0.0)
        qtbot.wait(30)
        labels = _drawn_labels(canvas.plot.getAxis("left"))
        assert len(labels) >= 3, (band0, labels)  # one tick remained before
        lo, hi = (float(np.interp(y, np.arange(canvas.doc.n_mels) + 0.5, mel_frequencies(canvas.doc.config)))
                  for y in (band0 + 0.5, band0 + 4.5))
        assert all(lo - 200 <= _label_hz(s) <= hi + 200 for s in labels), (band0, labels)


def test_time_axis_reads_seconds_at_any_zoom(canvas, qtbot) -> None:
    seconds = canvas.doc.config.frame_seconds
    for frame0, frame1 in [(0, canvas.doc.frames), (100, 400), (300, 340), (300, 316)]:  # 316: the closest zoom
        canvas.viewbox.setXRange(frame0 * seconds, frame1 * seconds, padding=0.0)
        qtbot.wait(30)
        labels = _drawn_labels(canvas.plot.getAxis("bottom"))
        values = [float(s) for s in labels]
        assert len(values) >= 3 and values == sorted(values) and len(set(labels)) == len(labels), labels
        assert all(frame0 * seconds - 1e-3 <= v <= frame1 * seconds + 1e-3 for v in values), labels
        steps = np.diff(values)
        np.testing.assert_allclose(steps, steps[0], rtol=1e-6, err_msg=str(labels))  # one step, in order
        decimals = {len(s.partition(".")[2]) for s in labels}
        assert len(decimals) == 1, labels  # "3.5, 3.55, 3.6" mixed two levels of labels


# ----- rough edge 8: colour levels ------------------------------------------------------------------------------
def _at_top(db: np.ndarray, high: float) -> float:
    return float(np.mean(db >= high))


def test_open_sets_levels_from_the_documents_percentiles(canvas) -> None:
    db = ln_to_db(np.asarray(canvas.doc.mel))
    low, high = canvas.levels()
    assert tuple(canvas.image_item.levels) == (low, high)
    assert _at_top(db, high) < 0.01  # peaks keep their shape: under 1 % of cells saturate
    assert high <= float(db.max()) + 1.0  # the range fits the document: no unused colours at the top
    assert low >= float(np.percentile(db, 1.0)) - 1.0  # nor at the bottom
    assert 20.0 <= high - low <= 80.0


def test_auto_levels_resets_a_changed_range(canvas, qtbot) -> None:
    db = ln_to_db(np.asarray(canvas.doc.mel))
    opened = canvas.levels()
    seen: list[tuple[float, float]] = []
    canvas.levelsChanged.connect(lambda lo, hi: seen.append((lo, hi)))
    canvas.set_levels(-70.0, -10.0)  # the old default: low harmonics became solid yellow
    assert _at_top(db, -10.0) > 0.03  # 4 % of the cells saturated
    canvas.levels_button.click()  # the canvas's own "Auto levels" button
    assert canvas.levels() == opened and tuple(canvas.image_item.levels) == opened
    assert seen[-1] == opened
    canvas.set_levels(-50.0, 0.0)
    assert canvas.auto_levels() == opened


def test_right_click_menu_offers_auto_levels(canvas, qtbot) -> None:
    opened = canvas.levels()
    canvas.set_levels(-60.0, -20.0)
    texts: list[str] = []

    def pick() -> None:
        menu = QApplication.activePopupWidget()
        assert isinstance(menu, QMenu)
        texts.extend(a.text() for a in menu.actions())
        next(a for a in menu.actions() if a.text() == "Auto levels").trigger()
        menu.close()

    QTimer.singleShot(200, pick)
    qtbot.mouseClick(canvas.view.viewport(), Qt.MouseButton.RightButton, pos=canvas.widget_pos_of_cell(300, 40))
    qtbot.waitUntil(lambda: bool(texts), timeout=3000)
    assert "Auto levels" in texts
    assert canvas.levels() == opened


# ----- rough edge 9: the selection read-out and overlay ---------------------------------------------------------
def test_selection_drag_shows_time_and_hz_readout(canvas, qtbot) -> None:
    canvas.tools.tool = Tool.SELECT
    texts: list[str] = []
    canvas.selectionTextChanged.connect(texts.append)
    assert canvas.selection_label.text() == ""
    _drag(qtbot, canvas, [(100.5, 10.5), (150.5, 25.5), (199.5, 39.5)])
    assert canvas.doc.selection == Region(100, 200, 10, 40)
    seconds = canvas.doc.config.frame_seconds
    centres = mel_frequencies(canvas.doc.config)
    hz0 = (centres[9] + centres[10]) / 2  # the edge between band 9 and band 10
    hz1 = (centres[39] + centres[40]) / 2
    text = canvas.selection_label.text()
    assert canvas.selection_label.isVisible() and texts[-1] == text
    assert f"{100 * seconds:.3f} – {200 * seconds:.3f} s" in text, text
    assert f"{hz0:.0f} – {hz1:.0f} Hz" in text, text
    qtbot.mouseClick(canvas.view.viewport(), Qt.MouseButton.LeftButton, pos=canvas.widget_pos_of_cell(400, 60))
    qtbot.wait(20)
    assert canvas.doc.selection is None and canvas.selection_label.text() == "" and texts[-1] == ""


def test_selection_overlay_does_not_darken_cells(canvas, qtbot) -> None:
    region = Region(250, 420, 8, 52)
    before = _pixels(canvas.view).astype(np.float64)
    canvas.set_selection(region)
    qtbot.wait(50)
    after = _pixels(canvas.view).astype(np.float64)
    a = canvas.widget_pos_of_cell(region.frame0, region.band1)  # top-left corner (bands grow upwards)
    b = canvas.widget_pos_of_cell(region.frame1, region.band0)
    inside = (slice(a.y() + 4, b.y() - 4), slice(a.x() + 4, b.x() - 4))  # the cells, not the outline
    assert before[inside].size > 10_000
    assert after[inside].mean() >= before[inside].mean() - 0.5
    darker = (before[inside].sum(axis=2) - after[inside].sum(axis=2)) > 24
    assert float(darker.mean()) < 0.01
    luma = np.array([0.299, 0.587, 0.114])
    assert float(np.mean(before[inside] @ luma - after[inside] @ luma > 6.0)) < 0.01  # no cell darker
    assert float(np.abs(after[inside] - before[inside]).mean()) < 2.0  # the cells keep their colours
    outline = after[a.y() - 1 : a.y() + 2, a.x() + 10 : b.x() - 10]  # the top edge is drawn
    assert np.abs(outline - before[a.y() - 1 : a.y() + 2, a.x() + 10 : b.x() - 10]).max() > 40


# ----- rough edge 14: the cursor line stays inside the view box --------------------------------------------------
def _cursor_columns(pixels: np.ndarray) -> np.ndarray:
    """Columns holding the cursor's blue (the colour map, the axes and the background hold none)."""
    r, g, b = (pixels[..., i].astype(int) for i in range(3))
    blue = (b > r + 60) & (b > 120) & (g > r)
    return np.flatnonzero(blue.sum(axis=0) >= 20)


def test_cursor_line_is_clipped_to_the_view_and_not_drawn_on_the_axis(window, qtbot) -> None:
    canvas = window.current_canvas()  # in the window, where the line at frame 0 showed on the axis
    assert canvas.cursor_line.parentItem() is canvas.viewbox.childGroup
    assert canvas.viewbox.flags() & QGraphicsItem.GraphicsItemFlag.ItemClipsChildrenToShape
    axis_x = canvas.view.mapFromScene(canvas.viewbox.sceneBoundingRect().topLeft()).x()
    assert canvas.cursor_frame == 0 and _cursor_columns(_pixels(canvas.view)).size == 0  # as opened
    canvas.set_cursor_frame(0)
    qtbot.wait(30)
    assert _cursor_columns(_pixels(canvas.view)).size == 0
    canvas.set_cursor_frame(300)
    qtbot.wait(30)
    columns = _cursor_columns(_pixels(canvas.view))
    x = canvas.widget_pos_of_cell(300, 40).x()
    assert columns.size and np.all(np.abs(columns - x) <= 2) and np.all(columns > axis_x + 2)
    canvas.viewbox.setXRange(400 * canvas.doc.config.frame_seconds, 600 * canvas.doc.config.frame_seconds,
                             padding=0.0)  # the cursor is left of the view now: nothing over the axis
    qtbot.wait(30)
    assert _cursor_columns(_pixels(canvas.view)).size == 0


# ----- a document that grows or shrinks -------------------------------------------------------------------------
def test_document_of_another_length_resets_image_and_limits(canvas, qtbot) -> None:
    doc: Document = canvas.doc
    old = np.asarray(doc.mel).copy()
    canvas.set_selection(Region(700, 760, 0, 80))
    canvas.set_cursor_frame(750)
    longer = np.concatenate([old, old[:, :200]], axis=1)
    doc.replace(longer)
    qtbot.wait(30)
    np.testing.assert_allclose(canvas.image_item.image, ln_to_db(longer), rtol=1e-6)
    (t0, t1), _ = canvas.view_range()
    assert t1 == pytest.approx(longer.shape[1] * doc.config.frame_seconds, rel=1e-3)  # it showed all: it still does
    shorter = old[:, :500]
    doc.replace(shorter)
    qtbot.wait(30)
    assert canvas.image_item.image.shape == shorter.shape
    np.testing.assert_allclose(canvas.image_item.image, ln_to_db(shorter), rtol=1e-6)
    (t0, t1), _ = canvas.view_range()
    assert t1 <= 500 * doc.config.frame_seconds + 1e-6
    assert canvas.cursor_frame == 499 and canvas.doc.selection is None
    assert not canvas.selection_item.isVisible()
    with doc.edit("Brush"):  # edits after the change reach the image
        doc.write(Region(10, 20, 5, 15), np.zeros((10, 10), np.float32))
    qtbot.wait(30)
    np.testing.assert_allclose(canvas.image_item.image[5:15, 10:20], 0.0)


# ----- rough edge 14: the theme ---------------------------------------------------------------------------------
def test_tab_bar_has_no_bright_base_line_nor_orange_close_button(qtbot) -> None:
    from vocoder_studio.ui.app import ensure_app
    from vocoder_studio.ui.theme import apply_theme

    apply_theme(ensure_app())  # pytest-qt made the QApplication: theme it as the app does
    tabs = QTabWidget()  # as the main window makes them
    tabs.setTabsClosable(True)
    tabs.setDocumentMode(True)
    tabs.addTab(QLabel("a"), "example.flac")
    tabs.addTab(QLabel("b"), "other.npy")
    qtbot.addWidget(tabs)
    tabs.resize(500, 150)
    tabs.show()
    qtbot.waitExposed(tabs)
    qtbot.wait(30)
    pixels = _pixels(tabs).astype(int)
    bar = tabs.tabBar().height()
    under = pixels[bar - 3 : bar + 3, tabs.tabBar().sizeHint().width() + 10 :]  # beside the tabs, under the bar
    assert under.max() < 110, under.max()  # was a 255-white line
    r, g, b = pixels[:bar, :, 0], pixels[:bar, :, 1], pixels[:bar, :, 2]
    orange = (r > 180) & (g < 160) & (b < 130)
    assert int(orange.sum()) == 0  # the close button was an orange-red square
    close = tabs.tabBar().tabButton(0, tabs.tabBar().ButtonPosition.RightSide)
    assert close is not None and close.isVisible()
    centre = close.mapTo(tabs, QPoint(close.width() // 2, close.height() // 2))
    patch = pixels[centre.y() - 4 : centre.y() + 5, centre.x() - 4 : centre.x() + 5]
    assert patch.max() > 110  # a visible cross is still there
