"""Qt test set-up: headless (offscreen) platform, no dialogs, settings and autosaves in a temporary folder."""

from __future__ import annotations

import os
import tempfile

from vocoder_studio.paths import cache_dir

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
os.environ["VOCODER_STUDIO_NO_DIALOGS"] = "1"
# The prepared corpus is read-only data, not the user's state: it stays where it was before the fresh home (set for
# the whole session, so the model-layer tests collected beside these still find it).
os.environ.setdefault("VOCODER_STUDIO_DATA", str(cache_dir() / "corpus"))
os.environ["VOCODER_STUDIO_HOME"] = tempfile.mkdtemp(prefix="vs-ui-home-")

from collections.abc import Iterator  # noqa: E402

import pytest  # noqa: E402
from PySide6.QtCore import Qt  # noqa: E402

from vocoder_studio.paths import example_path  # noqa: E402


@pytest.fixture
def window(qtbot) -> Iterator:
    """The main window on the bundled example, shown, with fast Griffin-Lim (4 iterations)."""
    from vocoder_studio.ui.app import create_main_window

    win = create_main_window([example_path()], show_dialogs=False)
    qtbot.addWidget(win)
    win.vocoder_panel.set_vocoder("griffin-lim", device="cpu", iterations=4)
    win.resize(1300, 800)
    win.show()
    qtbot.waitExposed(win)
    qtbot.wait(150)  # let the layout settle before mapping scene coordinates
    yield win
    win.shutdown()


def drag(qtbot, canvas, cells: list[tuple[float, float]]) -> None:
    """Press at the first cell, move through the others (≥ 15 ms apart), release at the last."""
    viewport = canvas.view.viewport()
    points = [canvas.widget_pos_of_cell(x, y) for x, y in cells]
    qtbot.mousePress(viewport, Qt.MouseButton.LeftButton, pos=points[0])
    for p in points[1:]:
        qtbot.wait(20)
        qtbot.mouseMove(viewport, p)
    qtbot.wait(20)
    qtbot.mouseRelease(viewport, Qt.MouseButton.LeftButton, pos=points[-1])
    qtbot.wait(20)
