"""The pictures of docs/ that show the workstation (issue 22), made by the real window under an X server:

- ``docs/waveform_lane.png``: the window zoomed to two seconds, the waveform lane showing the source recording
  and the vocoded take (our iSTFT vocoder) overlaid under the canvas;
- ``docs/export_spectrogram.png``: what File ▸ Export image… writes for the spectrogram (axes, colour bar);
- ``docs/compare.png``: the Compare view after comparing Griffin-Lim, HiFi-GAN and the iSTFT vocoder on a
  selection;
- ``docs/export_compare.png``: what File ▸ Export image of the Compare view… writes for that comparison;
- ``docs/phase.png``: the Compare view's Phase… of that comparison (issue 20: each output's instantaneous frequency
  beside the original's, and Griffin-Lim's spectral convergence per iteration from a random start and from PGHI).

Run under Xvfb (``scripts/docs_pictures.sh [OUT_DIR]``, default build/docs); every step goes through the
window's own commands.
"""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

from PySide6.QtCore import QEventLoop, QTimer


def _pump(ms: int) -> None:
    loop = QEventLoop()
    QTimer.singleShot(ms, loop.quit)
    loop.exec()


def _wait(what: str, ready, timeout_s: float = 600.0) -> None:  # type: ignore[no-untyped-def]
    start = time.monotonic()
    while not ready():
        if time.monotonic() - start > timeout_s:
            raise SystemExit(f"docs_pictures: timed out waiting for {what}")
        _pump(100)


def main(out: Path) -> int:
    os.environ.setdefault("VOCODER_STUDIO_NO_DIALOGS", "1")
    from vocoder_studio.document import Region
    from vocoder_studio.paths import example_path
    from vocoder_studio.ui.app import create_main_window, ensure_app
    from vocoder_studio.ui.compare_dialog import compare_dialog
    from vocoder_studio.ui.waveform_lane import LaneMode, WaveformLane

    out.mkdir(parents=True, exist_ok=True)
    ensure_app()
    window = create_main_window([example_path()], show_dialogs=False)
    window.resize(1560, 940)
    window.move(20, 20)
    window.show()
    _pump(500)
    canvas = window.current_canvas()
    assert canvas is not None
    window.vocoder_panel.set_vocoder("istft", device="cpu")
    lane = canvas.findChild(WaveformLane)
    assert lane is not None
    window.station.set_lane_mode(LaneMode.BOTH)
    _wait("the source waveform", lambda: lane.source_peaks is not None)
    # render ahead (on by default) vocodes the document while the window is idle: the lane draws the take
    _wait("the vocoded take", lambda: lane.take_peaks is not None and lane.take_peaks.n_samples
          >= canvas.doc.frames * canvas.doc.config.hop_length)
    canvas.viewbox.setXRange(3.2, 4.7, padding=0.0)
    canvas.set_cursor_frame(int(3.6 / canvas.doc.config.frame_seconds))
    _pump(800)
    window.grab().save(str(out / "waveform_lane.png"))

    canvas.fit()
    _pump(300)
    written = window.station.export_image(out / "export_spectrogram.png", width=1400)
    assert written is not None, window.last_error

    seconds = canvas.doc.config.frame_seconds
    canvas.set_selection(Region(int(1.16 / seconds), int(4.64 / seconds), 0, canvas.doc.n_mels))
    window.window_actions.compare_action.trigger()
    dialog = compare_dialog(window)
    assert dialog is not None
    dialog.resize(1400, 900)
    dialog.set_vocoders(["griffin-lim", "hifigan", "istft"])
    assert dialog.compare()
    _wait("the comparison", lambda: dialog.comparison is not None and not dialog.busy)
    _pump(800)
    dialog.grab().save(str(out / "compare.png"))
    written = window.station.export_image(out / "export_compare.png", width=1400, compare=True)
    assert written is not None, window.last_error
    phase = dialog.show_phase()
    assert phase is not None
    phase.resize(1400, 1100)
    _pump(800)
    phase.grab().save(str(out / "phase.png"))
    phase.close()
    dialog.close()
    window.shutdown()
    window.close()
    for name in ("waveform_lane.png", "export_spectrogram.png", "compare.png", "export_compare.png", "phase.png"):
        print(out / name)
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1]) if len(sys.argv) > 1 else Path("build/docs")))
