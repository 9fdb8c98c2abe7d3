"""Follow playback (Page, Scroll, Off) as view ranges."""

from __future__ import annotations

import pytest

from vocoder_studio.engine.follow import FollowMode, follow_range

EXTENT = (0.0, 10.0)


def test_page_stays_while_the_playhead_is_in_view_then_turns_a_page() -> None:
    assert follow_range(FollowMode.PAGE, (0.0, 2.0), 1.5, EXTENT) is None
    assert follow_range(FollowMode.PAGE, (0.0, 2.0), 2.05, EXTENT) == pytest.approx((2.05, 4.05))
    assert follow_range(FollowMode.PAGE, (4.0, 6.0), 1.0, EXTENT) == pytest.approx((1.0, 3.0))  # a loop restarted


def test_page_stops_at_the_end_of_the_document() -> None:
    assert follow_range(FollowMode.PAGE, (6.0, 9.0), 9.5, EXTENT) == pytest.approx((7.0, 10.0))


def test_scroll_keeps_the_playhead_centred_inside_the_document() -> None:
    assert follow_range(FollowMode.SCROLL, (0.0, 2.0), 5.0, EXTENT) == pytest.approx((4.0, 6.0))
    assert follow_range(FollowMode.SCROLL, (0.0, 2.0), 0.5, EXTENT) is None  # the start clamps
    assert follow_range(FollowMode.SCROLL, (0.0, 2.0), 9.9, EXTENT) == pytest.approx((8.0, 10.0))


def test_off_never_moves_and_a_view_wider_than_the_document_stays_at_its_start() -> None:
    assert follow_range(FollowMode.OFF, (0.0, 2.0), 7.0, EXTENT) is None
    assert follow_range(FollowMode.SCROLL, (0.5, 20.5), 7.0, EXTENT) == pytest.approx((0.0, 20.0))
