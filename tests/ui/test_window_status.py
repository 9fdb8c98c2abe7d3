"""Rough edge 6: the status bar and the transport's time read-out tell the truth (real window, real jobs)."""

from __future__ import annotations

from PySide6.QtWidgets import QLabel

from vocoder_studio.document import Region
from vocoder_studio.engine.audio_output import playback_status
from vocoder_studio.paths import example_path
from vocoder_studio.ui.transport import format_time

from ..conftest import require


def _labels(window) -> list[str]:
    """The texts of the status bar's visible labels (its permanent widgets)."""
    return [label.text() for label in window.statusBar().findChildren(QLabel) if label.isVisible()]


def test_render_ahead_message_clears_when_the_job_ends(window, qtbot) -> None:
    doc = window.current_document()
    renderer = window.cache.renderer(doc.uid, window.vocoder_panel.choice())
    qtbot.waitUntil(lambda: any(text.startswith("Render ahead") for text in _labels(window)), timeout=30_000)
    qtbot.waitUntil(lambda: renderer.is_complete() and not window.runner.busy, timeout=60_000)
    qtbot.wait(50)
    assert not any("Render ahead" in text for text in _labels(window)), _labels(window)
    assert "ready" in _labels(window)


def test_a_message_shows_in_one_place_only(window, qtbot) -> None:
    window.show_status("a message shown once")
    texts = [window.statusBar().currentMessage(), *_labels(window)]
    assert sum("a message shown once" in text for text in texts) == 1, texts


def test_playback_state_says_playing_while_audio_plays(window, qtbot) -> None:
    require(playback_status() is None, f"no audio output here: {playback_status()}")
    window.current_canvas().set_selection(Region(100, 400, 0, 80))
    assert "playback ready" in _labels(window)
    assert window.toggle_play()
    qtbot.waitUntil(lambda: window.transport.meter.value() > 0, timeout=30_000)
    assert "playback ready" not in _labels(window) and "playing" in _labels(window)
    assert window.vocoder_panel.playback_label.text() == "playing"
    window.transport.stop_action.trigger()
    assert "playback ready" in _labels(window)


def test_time_readout_returns_to_the_start_and_follows_the_tab(window, qtbot) -> None:
    require(playback_status() is None, f"no audio output here: {playback_status()}")
    canvas = window.current_canvas()
    seconds = canvas.doc.config.frame_seconds
    canvas.set_selection(Region(100, 140, 0, 80))
    assert window.toggle_play()
    qtbot.waitUntil(lambda: window.transport.player is not None and window.transport.player.position > 110 * 256,
                    timeout=30_000)
    qtbot.waitUntil(lambda: not window.transport.is_playing and not window.transport._timer.isActive(),
                    timeout=30_000)
    qtbot.wait(50)
    assert window.transport.time_label.text() == format_time(100 * seconds)  # where Play starts again
    other = window.open_path(example_path())  # a second tab: its own position, not the first tab's
    assert other is not None and window.current_canvas() is other.canvas
    assert window.transport.time_label.text() == format_time(0.0)
    other.canvas.set_cursor_frame(500)
    other.canvas.positionClicked.emit(500)
    assert window.transport.time_label.text() == format_time(500 * seconds)
    window.tabs.setCurrentIndex(0)
    assert window.transport.time_label.text() == format_time(100 * seconds)
