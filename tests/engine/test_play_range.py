"""The one rule for where playback starts (transport, render-ahead and the time read-out use it)."""

from __future__ import annotations

from vocoder_studio.document import Region
from vocoder_studio.engine.play_range import is_selection_range, play_range


def test_a_selection_plays_its_frames_whatever_from_cursor_says() -> None:
    sel = Region(100, 200, 0, 80)
    assert play_range(1000, sel, cursor_frame=500, from_cursor=True) == (100, 200)
    assert play_range(1000, sel, cursor_frame=500, from_cursor=False) == (100, 200)
    assert is_selection_range(1000, sel)


def test_without_a_selection_from_cursor_decides() -> None:
    assert play_range(1000, None, cursor_frame=300, from_cursor=True) == (300, 1000)
    assert play_range(1000, None, cursor_frame=300, from_cursor=False) == (0, 1000)
    assert not is_selection_range(1000, None)


def test_empty_or_outside_selections_and_cursors_past_the_end() -> None:
    assert play_range(1000, Region(50, 50, 0, 80), cursor_frame=300, from_cursor=True) == (300, 1000)
    assert not is_selection_range(1000, Region(50, 50, 0, 80))
    assert play_range(1000, Region(1200, 1300, 0, 80), cursor_frame=10, from_cursor=True) == (10, 1000)
    assert play_range(1000, Region(900, 1300, 0, 80), cursor_frame=10, from_cursor=True) == (900, 1000)
    assert play_range(1000, None, cursor_frame=1000, from_cursor=True) == (0, 1000)
    assert play_range(1000, None, cursor_frame=-5, from_cursor=True) == (0, 1000)
