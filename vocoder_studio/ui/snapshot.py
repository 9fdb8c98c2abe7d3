"""Screenshot of the real window on the bundled example (used by ``scripts/screenshot.sh`` and a test).

Run under an X server: ``python -m vocoder_studio.ui.snapshot OUT.png [ROOT.png]``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QEventLoop, QPoint, Qt, QTimer
from PySide6.QtTest import QTest

from vocoder_studio.editing import HarmonicSettings, harmonic_dab

if TYPE_CHECKING:
    from vocoder_studio.ui.canvas import SpectrogramCanvas


def _pump(app: object, ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _drag(app: object, canvas: SpectrogramCanvas, cells: list[tuple[float, float]]) -> None:
    """A real left-button drag through ``cells`` (frame, band) on the canvas (events ≥ 20 ms apart)."""
    viewport = canvas.view.viewport()
    points: list[QPoint] = [canvas.widget_pos_of_cell(x, y) for x, y in cells]
    QTest.mousePress(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[0])
    for point in points[1:]:
        _pump(app, 20)
        QTest.mouseMove(viewport, point)
    _pump(app, 20)
    QTest.mouseRelease(viewport, Qt.MouseButton.LeftButton, Qt.KeyboardModifier.NoModifier, points[-1])


def main(out: str | Path, root_png: str | Path | None = None, demo: bool = True, wait_ms: int = 2000) -> int:
    """Open the window on the example, wait, and save ``window.grab()`` to ``out`` (and the X root window to
    ``root_png`` with ImageMagick's ``import`` when given).

    With ``demo``, it does what a user would, through the real widgets: draws a harmonic sweep into the pause at
    the end, drags a selection with the Select tool and rests the mouse on a cell, so the canvas's selection
    read-out and the status bar's cursor read-out are the app's own.
    """
    os.environ.setdefault("VOCODER_STUDIO_NO_DIALOGS", "1")
    from vocoder_studio.paths import example_path
    from vocoder_studio.ui.app import create_main_window, ensure_app
    from vocoder_studio.ui.tools import Tool

    app = ensure_app()
    window = create_main_window([example_path()], show_dialogs=False)
    window.resize(1560, 940)
    window.move(20, 20)
    window.show()
    _pump(app, 500)
    canvas = window.current_canvas()
    if demo and canvas is not None:
        doc = canvas.doc
        with doc.edit("Harmonic"):  # a drawn harmonic sweep in the pause at the end
            for frame in range(doc.frames - 110, doc.frames - 20):
                f0 = 140.0 + 0.8 * (frame - (doc.frames - 110))
                harmonic_dab(doc, float(frame), f0, HarmonicSettings(level_db=-5.0))
        window.tool_bar.set_tool(Tool.SELECT)
        _drag(app, canvas, [(250.2, 8.2), (330.5, 30.5), (419.7, 51.7)])
        _pump(app, 50)
        QTest.mouseMove(canvas.view.viewport(), canvas.widget_pos_of_cell(277.5, 40.5))
    _pump(app, wait_ms)
    ok = window.grab().save(str(out))
    if root_png is not None and shutil.which("import"):
        subprocess.run(["import", "-window", "root", str(root_png)], check=False, timeout=30)
    window.shutdown()
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
