"""``scripts/screenshot.sh`` (``make screenshot``): a real window under Xvfb, written to build/ unless asked."""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ..conftest import require

pytestmark = pytest.mark.xvfb

ROOT = Path(__file__).resolve().parents[2]


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest() if path.exists() else ""


def test_screenshot_leaves_the_tracked_picture_alone(tmp_path) -> None:
    """Rough edge 15: without an argument the script writes build/screenshot.png, not docs/screenshot.png."""
    require(shutil.which("xvfb-run") is not None, "xvfb-run is not installed")
    tracked, built = ROOT / "docs" / "screenshot.png", ROOT / "build" / "screenshot.png"
    before = _digest(tracked)
    if built.exists():
        built.unlink()
    env = {k: v for k, v in os.environ.items() if k not in ("QT_QPA_PLATFORM", "DISPLAY", "OUT")}
    env["PYTHON"] = sys.executable
    result = subprocess.run(["bash", str(ROOT / "scripts" / "screenshot.sh")], cwd=tmp_path, env=env,
                            capture_output=True, text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip().splitlines()[-1] == "build/screenshot.png"
    assert built.stat().st_size > 50_000
    assert _digest(tracked) == before
