"""Screenshot of the real window on the bundled example (used by ``scripts/screenshot.sh`` and a test).

Run under an X server: ``python -m vocoder_studio.ui.snapshot OUT.png [ROOT.png]``.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer

from vocoder_studio.audio.mel import ln_to_db
from vocoder_studio.document import Region
from vocoder_studio.editing import HarmonicSettings, band_to_hz, harmonic_dab


def _pump(app: object, ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def main(out: str | Path, root_png: str | Path | None = None, demo: bool = True, wait_ms: int = 2000) -> int:
    """Open the window on the example (with a demo edit and selection), wait, and save ``window.grab()``."""
    os.environ.setdefault("VOCODER_STUDIO_NO_DIALOGS", "1")
    from vocoder_studio.paths import example_path
    from vocoder_studio.ui.app import create_main_window, ensure_app

    app = ensure_app()
    window = create_main_window([example_path()], show_dialogs=False)
    window.resize(1560, 940)
    window.move(20, 20)
    window.show()
    _pump(app, 300)
    canvas = window.current_canvas()
    if demo and canvas is not None:
        doc = canvas.doc
        with doc.edit("Harmonic"):  # a drawn harmonic sweep in the pause at the end
            for frame in range(doc.frames - 110, doc.frames - 20):
                f0 = 140.0 + 0.8 * (frame - (doc.frames - 110))
                harmonic_dab(doc, float(frame), f0, HarmonicSettings(level_db=-5.0))
        selection = Region(250, 420, 8, 52)
        canvas.set_selection(selection)
        canvas.set_cursor_frame(250)
        seconds = doc.config.frame_seconds
        window.statusBar().showMessage(
            f"selection {selection.frame0 * seconds:.3f} s – {selection.frame1 * seconds:.3f} s, "
            f"bands {selection.band0} – {selection.band1}", 60000)
        cell_frame, band = 277, 40  # the read-out as if the mouse rested on this cell
        window._on_cursor(cell_frame * seconds, float(band_to_hz(band)), float(ln_to_db(doc.mel[band, cell_frame])))
    _pump(app, wait_ms)
    ok = window.grab().save(str(out))
    if root_png is not None and shutil.which("import"):
        subprocess.run(["import", "-window", "root", str(root_png)], check=False, timeout=30)
    window.shutdown()
    window.close()
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], sys.argv[2] if len(sys.argv) > 2 else None))
