"""Follow playback: where the view goes as the playhead moves (Sonic Visualiser's Page, Scroll and Off). No Qt."""

from __future__ import annotations

from enum import Enum


class FollowMode(str, Enum):
    """How the view follows the playhead.

    PAGE: the view stays until the playhead leaves it, then turns a page (the playhead at its left edge).
    SCROLL: the view scrolls with the playhead, which stays at its centre.
    OFF: the view never moves by itself.
    """

    PAGE = "page"
    SCROLL = "scroll"
    OFF = "off"


def follow_range(mode: FollowMode, view: tuple[float, float], playhead: float,
                 extent: tuple[float, float]) -> tuple[float, float] | None:
    """The time range to show so that the view follows ``playhead``, or None to leave it as it is.

    The width of the view never changes (following is not zooming) and the range stays inside ``extent``
    where the view fits in it.

    Args:
        mode: the follow mode.
        view: the visible time range ``(t0, t1)`` in seconds.
        playhead: the playhead's time in seconds.
        extent: the document's time range ``(0, duration)`` in seconds.
    Returns:
        the new ``(t0, t1)`` in seconds, or None when the view should stay.
    """
    t0, t1 = view
    width = t1 - t0
    if mode == FollowMode.OFF or width <= 0:
        return None
    if mode == FollowMode.PAGE:
        if t0 <= playhead < t1:
            return None
        start = playhead
    else:
        start = playhead - width / 2.0
    low, high = extent
    start = max(low, min(start, high - width)) if high - low >= width else low
    if abs(start - t0) < 1e-9:
        return None
    return start, start + width
