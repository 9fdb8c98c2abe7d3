"""Each window and engine module reads as one idea (issue 22: the Compare view, one file, grew to 612 lines): at
most :data:`MAX_LINES` lines a file, so a module that grows past it is split by what it does, as the Compare view was
(``compare_dialog.py`` what is compared and when, ``compare_grid.py`` the drawing, ``compare_playback.py`` the
sound)."""

from __future__ import annotations

import pytest

from .conftest import ROOT

MAX_LINES = 450
PACKAGES = ("ui", "engine")


@pytest.mark.parametrize("package", PACKAGES)
def test_every_module_is_at_most_450_lines(package: str) -> None:
    files = sorted((ROOT / "vocoder_studio" / package).glob("*.py"))
    assert len(files) > 10  # the folder is the package's, not an empty glob
    too_long = {str(path.relative_to(ROOT)): n for path in files
                if (n := len(path.read_text(encoding="utf-8").splitlines())) > MAX_LINES}
    assert not too_long, f"split by what each part does (≤ {MAX_LINES} lines a file): {too_long}"

