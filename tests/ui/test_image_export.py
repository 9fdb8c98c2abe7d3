"""Pictures of the spectrogram: File ▸ Export image… (PNG, SVG) and `vocoder-studio mel IN --png`."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest
from PySide6.QtGui import QImage
from PySide6.QtSvg import QSvgRenderer

from vocoder_studio.paths import example_path
from vocoder_studio.ui.workstation import menu_named


def test_export_image_png_and_svg_from_the_window(window, tmp_path) -> None:
    files = menu_named(window.menuBar(), "File")
    assert files is not None and window.station.export_image_action in files.actions()
    png = window.station.export_image(tmp_path / "mel.png", width=1000)
    image = QImage(str(png))
    canvas = window.current_canvas()
    aspect = canvas.view.height() / canvas.view.width()
    assert image.width() == 1000 and image.height() == pytest.approx(1000 * aspect, abs=3)
    # the picture is the plot: not one flat colour (axes, colour bar and spectrogram drawn)
    assert len({image.pixel(x, image.height() // 2) for x in range(0, 1000, 10)}) > 20
    svg = window.station.export_image(tmp_path / "mel.svg")
    assert QSvgRenderer(str(svg)).isValid() and b"Time (s)" in svg.read_bytes()
    assert oct(svg.stat().st_mode & 0o777) != oct(0o600)  # the umask's permissions, not mkstemp's


def test_export_image_refuses_other_suffixes(window, tmp_path) -> None:
    assert window.station.export_image(tmp_path / "mel.jpg") is None
    assert "png or .svg" in (window.last_error or "") and not (tmp_path / "mel.jpg").exists()


def test_the_command_line_draws_a_mel_picture(tmp_path) -> None:
    out = tmp_path / "example.png"
    env = dict(os.environ, QT_QPA_PLATFORM="offscreen")
    done = subprocess.run([sys.executable, "-m", "vocoder_studio", "mel", str(example_path()), "--png", str(out)],
                          capture_output=True, text=True, env=env, timeout=300)
    assert done.returncode == 0, done.stderr
    image = QImage(str(out))
    assert image.width() == 1400 and image.height() > 300
    bad = subprocess.run([sys.executable, "-m", "vocoder_studio", "mel", str(example_path()), "--png",
                          str(tmp_path / "x.gif")], capture_output=True, text=True, env=env, timeout=300)
    assert bad.returncode == 2 and bad.stderr.strip().count("\n") == 0 and not (tmp_path / "x.gif").exists()
