"""Transport ▸ Continue live in the real window: the shipped MelNet continues a short document past its end while
it plays through the real player (the PulseAudio null sink under CI), the canvas grows, Stop keeps what was heard
as one undo step, Esc drops it."""

from __future__ import annotations

import numpy as np
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QLabel

from vocoder_studio.document import Document
from vocoder_studio.engine.audio_output import playback_status
from vocoder_studio.engine.continuation import LABEL

from ..conftest import MODELS, require


def _continue_live(window, qtbot, mel: np.ndarray):
    """Open ``mel`` as a document, check Transport ▸ Continue live from the menu and press Play; returns the
    document once MelNet's first frames are in it and playing."""
    require(playback_status() is None, f"no audio output here: {playback_status()}")
    require((MODELS / "melnet.pt").exists(), "the shipped models/melnet.pt is missing")
    doc = Document(mel.copy(), source="live test")
    window.add_document(doc)
    menu = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Transport")
    action = next(a for a in menu.actions() if a.text() == LABEL)
    assert action is window.transport.live_action and action.isCheckable()
    action.trigger()
    assert action.isChecked()
    window.transport.play_action.trigger()
    assert window.transport.is_playing and window.transport.live.active
    qtbot.waitUntil(lambda: doc.frames > mel.shape[1], timeout=60_000)  # MelNet's frames arrive in the document
    qtbot.waitUntil(lambda: window.transport.player.open_end, timeout=30_000)  # the play job opened it
    canvas = window.current_canvas()
    assert canvas.doc is doc
    qtbot.waitUntil(lambda: canvas.image_item.image.shape == doc.mel.shape, timeout=5_000)  # and on the canvas
    return doc


def test_continue_live_plays_melnet_past_the_end_and_stop_keeps_what_was_heard(
        window, qtbot, example_mel) -> None:
    original = example_mel[:, :60]  # 0.7 s: MelNet starts at once (it starts 3 s before the end)
    doc = _continue_live(window, qtbot, original)
    player = window.transport.player
    hop = doc.config.hop_length
    # the sound goes on past the document's end: the continuation's audio reaches the device
    qtbot.waitUntil(lambda: player.position > (60 + 20) * hop, timeout=60_000)
    assert window.transport.is_playing
    audio = player.snapshot()
    assert audio.size > 80 * hop and float(np.abs(audio[60 * hop :]).max()) > 1e-3
    labels = [label.text() for label in window.statusBar().findChildren(QLabel)]
    assert any("continuing live" in t or "waiting for" in t for t in labels), labels
    grown = doc.frames
    window.transport.stop_action.trigger()
    assert not window.transport.is_playing
    heard = player.position // hop
    assert 80 <= doc.frames == heard <= grown  # what was heard stays, what was sampled ahead is dropped
    np.testing.assert_array_equal(doc.mel[:, :60], np.maximum(original, doc.config.floor_ln))
    assert doc.undo_label == LABEL
    window.window_actions.undo_action.trigger()  # one step restores the document
    assert doc.frames == 60 and not doc.can_undo
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30_000)  # the sampler and its vocoding stopped


def test_esc_cancels_the_continuation_and_drops_its_frames(window, qtbot, example_mel) -> None:
    original = example_mel[:, :60]
    doc = _continue_live(window, qtbot, original)
    window.activateWindow()
    window.setFocus()
    qtbot.keyClick(window, Qt.Key.Key_Escape)
    assert not window.transport.is_playing  # Esc: Transport ▸ Cancel
    assert doc.frames == 60 and not doc.can_undo and doc.redo_label == LABEL  # dropped; Redo brings it back
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30_000)
    assert doc.frames == 60  # nothing arrives after Esc
    assert window.last_error is None


def test_turning_continue_live_off_lets_the_sound_end_after_the_frames_sampled(
        window, qtbot, example_mel) -> None:
    doc = _continue_live(window, qtbot, example_mel[:, :60])
    window.transport.live_action.trigger()  # off: no new frames, the sound plays out what was sampled
    assert not window.transport.live_action.isChecked()
    sampled = doc.frames
    qtbot.waitUntil(lambda: not window.transport.is_playing, timeout=60_000)
    assert doc.frames == sampled and doc.undo_label == LABEL  # all of it was heard: all of it stays
    assert window.transport.player.position == sampled * doc.config.hop_length
    qtbot.waitUntil(lambda: not window.transport.live.active, timeout=5_000)  # the session ended with the sound
    assert doc.frames == sampled


def test_an_edit_of_the_continued_frames_is_re_vocoded_into_the_sound(window, qtbot, example_mel) -> None:
    """Continued frames whose audio the player already holds are turned down while the continuation plays:
    the player's audio of them becomes the renderer's audio of the edited document (quieter), without stopping."""
    from vocoder_studio.document import Region
    from vocoder_studio.editing import apply_gain

    doc = _continue_live(window, qtbot, example_mel[:, :60])
    player, hop = window.transport.player, doc.config.hop_length
    renderer = window.cache.renderer(doc.uid, window.vocoder_panel.choice())
    qtbot.waitUntil(lambda: player.supplied_end >= 130 * hop, timeout=120_000)  # continued frames in the player
    a, b = 62, player.supplied_end // hop - 2
    before = player.snapshot()[a * hop : b * hop].copy()
    apply_gain(doc, Region(a, b, 0, 80), -40.0)  # as a tool would, while it plays
    session = window.transport.live._session
    qtbot.waitUntil(lambda: session.update is not None and session.update.done, timeout=60_000)
    assert window.transport.is_playing and window.transport.live.active
    after = player.snapshot()[a * hop : b * hop]
    np.testing.assert_array_equal(after, renderer._audio[a * hop : b * hop])
    assert float(np.abs(after).mean()) < 0.5 * float(np.abs(before).mean())
    window.transport.stop_action.trigger()
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30_000)
    assert window.last_error is None


def test_deleting_continued_frames_while_they_play_stops_the_playback(window, qtbot, example_mel) -> None:
    """Frames deleted in the continued part: the audio already given to the player no longer matches the
    document's numbering, so playback stops, as for a delete in the played range."""
    doc = _continue_live(window, qtbot, example_mel[:, :60])
    qtbot.waitUntil(lambda: doc.frames >= 70, timeout=60_000)
    doc.delete_frames(62, 66)  # as Edit ▸ Delete would
    assert not window.transport.is_playing and not window.transport.live.active
    qtbot.waitUntil(lambda: not window.runner.busy, timeout=30_000)
