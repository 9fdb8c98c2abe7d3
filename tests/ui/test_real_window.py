"""The real window on an X server (Xvfb, xcb platform), in a subprocess: the screenshot is not blank."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.xvfb

ROOT = Path(__file__).resolve().parents[2]


def _require(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"{tool} is required under CI=true but is not installed")
        pytest.skip(f"{tool} is not installed")
    return path


def _pixels(png: Path) -> np.ndarray:
    from PySide6.QtGui import QImage

    image = QImage(str(png)).convertToFormat(QImage.Format.Format_RGB888)
    assert not image.isNull(), png
    width, height, stride = image.width(), image.height(), image.bytesPerLine()
    data = np.frombuffer(image.constBits(), np.uint8, count=stride * height).reshape(height, stride)
    return data[:, : width * 3].reshape(height, width, 3).copy()  # a copy: the QImage's memory goes with it


def _assert_not_blank(png: Path, min_width: int) -> None:
    pixels = _pixels(png)
    assert pixels.shape[1] >= min_width and pixels.shape[0] >= 400, pixels.shape
    assert pixels.std() > 20.0
    colours = np.unique(pixels[::4, ::4].reshape(-1, 3), axis=0)
    assert len(colours) > 200, len(colours)


def test_real_window_screenshot_under_xvfb(tmp_path, qapp) -> None:
    xvfb = _require("xvfb-run")
    have_import = shutil.which("import") is not None
    grab, root = tmp_path / "window.png", tmp_path / "root.png"
    code = ("import sys; from vocoder_studio.ui.snapshot import main; "
            f"sys.exit(main({str(grab)!r}, {str(root)!r} if {have_import} else None))")
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY")}
    cmd = [xvfb, "-a", "-s", "-screen 0 1600x1000x24", "env", "QT_QPA_PLATFORM=xcb",
           "VOCODER_STUDIO_NO_DIALOGS=1", sys.executable, "-c", code]
    result = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr[-2000:]
    _assert_not_blank(grab, 1200)
    if have_import:
        _assert_not_blank(root, 1600)
