"""Where playback starts and ends: one rule for the transport, render-ahead and the time read-out (no Qt)."""

from __future__ import annotations

from vocoder_studio.document import Region


def play_range(frames: int, selection: Region | None, cursor_frame: int, from_cursor: bool) -> tuple[int, int]:
    """The frames ``[start, end)`` that Play plays.

    - A non-empty selection plays its frames (whatever *From cursor* says; Loop repeats them).
    - Otherwise play runs to the end of the document from the cursor (*From cursor* on) or from frame 0 (off).
    - A cursor at or past the end starts again from frame 0, so Play always plays something.

    Args:
        frames: the document's length in frames (> 0).
        selection: the document's selection, or None.
        cursor_frame: the last clicked frame (any int; clipped).
        from_cursor: the transport's *From cursor* toggle.
    Returns:
        ``(start, end)`` with ``0 <= start < end <= frames`` (``(0, 0)`` for an empty document).
    """
    frames = max(0, int(frames))
    if selection is not None and not selection.empty:
        start, end = max(0, selection.frame0), min(frames, selection.frame1)
        if start < end:
            return start, end
    start = min(max(int(cursor_frame), 0), frames) if from_cursor else 0
    if start >= frames:
        start = 0
    return start, frames


def is_selection_range(frames: int, selection: Region | None) -> bool:
    """Whether :func:`play_range` plays ``selection`` (then Loop applies), not the document from a point."""
    return selection is not None and not selection.empty and max(0, selection.frame0) < min(frames, selection.frame1)
