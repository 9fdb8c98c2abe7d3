"""The main window with real widgets and real mouse events (offscreen platform)."""

from __future__ import annotations

import numpy as np
import pytest
import soundfile as sf
from PySide6.QtCore import QPoint, Qt
from PySide6.QtWidgets import QLabel

from vocoder_studio.audio.mel import db_to_ln, ln_to_db
from vocoder_studio.document import Region
from vocoder_studio.engine.audio_output import playback_status
from vocoder_studio.ui.tools import Tool

from ..conftest import require
from .conftest import drag


def test_open_example_shows_mel_in_db(window) -> None:
    doc = window.current_document()
    canvas = window.current_canvas()
    assert window.tabs.count() == 1
    assert doc.mel.shape == (80, doc.frames) and doc.frames > 500
    image = canvas.image_item.image
    assert image.shape == doc.mel.shape
    np.testing.assert_allclose(image, ln_to_db(doc.mel), rtol=1e-6)
    assert "example.flac" in window.windowTitle() and "*" not in window.windowTitle()


def test_brush_stroke_undo_redo(window, qtbot) -> None:
    canvas = window.current_canvas()
    doc = canvas.doc
    window.tool_bar.set_tool(Tool.BRUSH)
    window.tools.brush_radius = 2.0
    window.tools.brush_gain_db = 12.0
    before = doc.mel.copy()
    path = [(100.5 + 40 * i, 20.5 + 4 * i) for i in range(6)]  # 200 frames, 20 bands: a fast drag
    drag(qtbot, canvas, path)
    after = doc.mel.copy()
    changed = after != before
    for t in np.linspace(0.0, 1.0, 60):  # every cell along the path changed (interpolated stroke)
        x, y = 100.5 + 200 * t, 20.5 + 20 * t
        assert changed[int(y), int(x)], (x, y)
    assert not changed[60:, :].any() and not changed[:, 400:].any() and not changed[:, :90].any()
    assert np.all(after[changed] > before[changed])
    assert window.windowTitle().startswith("example.flac*")
    assert doc.undo_label == "Brush"
    window.window_actions.undo_action.trigger()
    assert np.array_equal(doc.mel, before)
    assert not doc.can_undo  # the whole stroke was one undo step
    qtbot.wait(10)
    assert np.array_equal(canvas.image_item.image, ln_to_db(before))
    window.window_actions.redo_action.trigger()
    assert np.array_equal(doc.mel, after)


def test_ctrl_z_shortcut_undoes(window, qtbot) -> None:
    canvas = window.current_canvas()
    doc = canvas.doc
    before = doc.mel.copy()
    drag(qtbot, canvas, [(300.5, 30.5), (330.5, 35.5), (360.5, 30.5)])
    assert not np.array_equal(doc.mel, before)
    window.activateWindow()
    canvas.view.setFocus()
    qtbot.keyClick(canvas.view, Qt.Key.Key_Z, Qt.KeyboardModifier.ControlModifier)
    assert np.array_equal(doc.mel, before)


def test_select_and_gain_is_one_undo_step(window, qtbot) -> None:
    canvas = window.current_canvas()
    doc = canvas.doc
    window.tool_bar.set_tool(Tool.SELECT)
    drag(qtbot, canvas, [(200.5, 10.5), (260.5, 25.5), (320.5, 40.5)])  # cell centres: a pixel is about a frame
    region = doc.selection
    assert region == Region(200, 321, 10, 41)
    assert canvas.selection_item.isVisible()
    before = doc.mel.copy()
    window.window_actions.gain_up_action.trigger()
    after = doc.mel.copy()
    inside = np.zeros(before.shape, bool)
    inside[region.slices] = True
    assert np.array_equal(after[inside], before[inside] + np.float32(db_to_ln(6.0)))
    assert np.array_equal(after[~inside], before[~inside])
    assert doc.undo_label.startswith("Gain +6")
    window.window_actions.undo_action.trigger()
    assert np.array_equal(doc.mel, before) and not doc.can_undo


def test_zoom_and_fit(window, qtbot) -> None:
    canvas = window.current_canvas()
    full = canvas.view_range()
    assert full[0][0] == pytest.approx(0.0, abs=1e-6)
    assert full[0][1] == pytest.approx(canvas.doc.duration, rel=1e-3)
    window.window_actions.zoom_in_action.trigger()
    zoomed = canvas.view_range()
    assert zoomed[0][1] - zoomed[0][0] == pytest.approx((full[0][1] - full[0][0]) / 2, rel=0.05)
    window.window_actions.fit_action.trigger()
    np.testing.assert_allclose(canvas.view_range(), full, atol=1e-6)


def test_export_wav_griffin_lim(window, qtbot, tmp_path) -> None:
    doc = window.current_document()
    out = tmp_path / "out.wav"
    with qtbot.waitSignal(window.exportFinished, timeout=120_000) as blocker:
        assert window.export_wav(out)
    assert blocker.args == [str(out)]
    audio, rate = sf.read(out)
    assert rate == doc.config.sample_rate
    assert audio.shape == (doc.frames * doc.config.hop_length,)
    assert np.sqrt(np.mean(audio**2)) > 1e-3
    assert window.last_error is None


def test_export_selection_float32(window, qtbot, tmp_path) -> None:
    canvas = window.current_canvas()
    canvas.set_selection(Region(100, 200, 0, 80))
    out = tmp_path / "sel.wav"
    with qtbot.waitSignal(window.exportFinished, timeout=120_000):
        assert window.export_wav(out, selection_only=True, fmt="float32")
    info = sf.info(out)
    assert info.frames == 100 * window.current_document().config.hop_length and info.subtype == "FLOAT"


def test_play_in_the_window_moves_playhead_and_meter(window, qtbot) -> None:
    require(playback_status() is None, f"no audio output here: {playback_status()}")
    window.current_canvas().set_selection(Region(100, 200, 0, 80))
    assert window.toggle_play()
    qtbot.waitUntil(lambda: window.transport.meter.value() > 0, timeout=30_000)
    qtbot.waitUntil(lambda: window.transport.player.position > 100 * 256 + 2048, timeout=10_000)
    window.transport.stop_action.trigger()
    assert not window.transport.is_playing


def test_unusable_audio_output_says_playback_is_unavailable(window, qtbot) -> None:
    # Without any audio output, Play stops before it reaches a device (playback_status): this test needs one
    # (CI has a PulseAudio null sink) so that the device itself is tried and refused.
    require(playback_status() is None, f"no audio output here: {playback_status()}")
    window.transport.configure_output(9999, 512)  # no such device
    assert not window.toggle_play()  # issue 7: Play says at once that it did not start
    assert "cannot open the audio output" in window.transport.failure  # the device was opened, and refused
    qtbot.waitUntil(lambda: not window.transport.is_playing, timeout=5_000)
    labels = [label.text() for label in window.statusBar().findChildren(QLabel)]
    assert any(text.startswith("playback unavailable: cannot open") for text in labels), labels
    window.window_actions.cancel_action.trigger()  # Esc with nothing running is harmless
    # the failure does not wedge the transport: the default output plays again
    window.transport.configure_output(None, 512)
    window.current_canvas().set_selection(Region(100, 200, 0, 80))
    assert window.toggle_play()
    qtbot.waitUntil(lambda: window.transport.meter.value() > 0, timeout=30_000)
    window.transport.stop_action.trigger()
    assert "playback ready" in [label.text() for label in window.statusBar().findChildren(QLabel)]


def test_play_and_render_ahead_start_at_the_same_place(window) -> None:
    canvas = window.current_canvas()
    canvas.set_cursor_frame(300)

    def starts() -> tuple[int, int]:
        return window._render_ahead_target()[1], window.transport.range_for(canvas)[0]

    window.transport.from_cursor_action.setChecked(False)
    assert starts() == (0, 0)
    window.transport.from_cursor_action.setChecked(True)
    assert starts() == (300, 300)
    canvas.set_selection(Region(100, 200, 0, 80))
    assert starts() == (100, 100)


def test_split_view_copy_paste(window, qtbot) -> None:
    window.window_actions.split_action.trigger()
    assert window.split_canvas is not None and window.split.isVisible()
    qtbot.wait(150)
    original = window.split_canvas.doc
    edited = window.current_document()
    assert original is not edited and np.array_equal(original.mel, edited.mel)
    window.split_canvas.set_selection(Region(10, 40, 0, 80))
    window._set_active(window.split_canvas)
    window.window_actions.copy_action.trigger()
    assert window.clipboard is not None and window.clipboard.shape == (80, 30)
    canvas = window.current_canvas()
    canvas.set_cursor_frame(500)
    window._set_active(canvas)
    window.window_actions.paste_action.trigger()
    assert np.array_equal(edited.mel[:, 500:530], original.mel[:, 10:40])
    window.window_actions.split_action.trigger()
    assert window.split_canvas is None


def test_project_round_trip_and_bad_file(window, qtbot, tmp_path) -> None:
    doc = window.current_document()
    doc.selection = Region(0, 10, 0, 10)
    window.apply_gain_db(-6.0)
    path = window.save_project(tmp_path / "p.vsproj")
    assert path is not None and not doc.modified and "*" not in window.windowTitle()
    tab = window.open_path(path)
    assert tab is not None and np.array_equal(tab.doc.mel, doc.mel) and window.tabs.count() == 2
    bad = tmp_path / "bad.wav"
    bad.write_bytes(b"not audio at all" * 10)
    assert window.open_path(bad) is None
    assert window.last_error and "bad.wav" in window.last_error
    assert window.tabs.count() == 2
    assert window.close_tab(1) and window.tabs.count() == 1


def test_cancel_long_export(window, qtbot, tmp_path) -> None:
    window.vocoder_panel.set_vocoder("griffin-lim", iterations=200)
    out = tmp_path / "cancelled.wav"
    with qtbot.waitSignal(window.runner.jobCancelled, timeout=60_000):
        window.export_wav(out)
        qtbot.wait(50)
        window.window_actions.cancel_action.trigger()
    assert not out.exists()


def test_cursor_readout(window, qtbot) -> None:
    canvas = window.current_canvas()
    qtbot.mouseMove(canvas.view.viewport(), canvas.widget_pos_of_cell(86.5, 40.5))
    qtbot.wait(30)
    text = window.cursor_label.text()
    assert " s" in text and "Hz" in text and "dB" in text
    assert isinstance(canvas.widget_pos_of_cell(0, 0), QPoint)


def test_pan_tool_moves_view_and_eraser_click(window, qtbot) -> None:
    canvas = window.current_canvas()
    doc = canvas.doc
    window.window_actions.zoom_in_action.trigger()
    window.window_actions.zoom_in_action.trigger()
    (t0, t1), _ = canvas.view_range()
    window.tool_bar.set_tool(Tool.PAN)
    mid = (t0 + t1) / 2 / doc.config.frame_seconds
    before = doc.mel.copy()
    drag(qtbot, canvas, [(mid, 40.0), (mid - 20, 40.0), (mid - 40, 40.0)])
    (u0, u1), _ = canvas.view_range()
    assert u0 > t0 + 0.1 and u1 - u0 == pytest.approx(t1 - t0, rel=1e-3)
    assert np.array_equal(doc.mel, before)  # panning does not edit
    window.tool_bar.set_tool(Tool.ERASER)
    frame = int((u0 + u1) / 2 / doc.config.frame_seconds)
    viewport = canvas.view.viewport()
    qtbot.mouseClick(viewport, Qt.MouseButton.LeftButton, pos=canvas.widget_pos_of_cell(frame + 0.5, 30.5))
    qtbot.wait(20)
    assert doc.mel[30, frame] < before[30, frame] and doc.undo_label == "Eraser"
    assert canvas.cursor_frame == frame
    window.window_actions.undo_action.trigger()
    assert np.array_equal(doc.mel, before)


def test_harmonic_pen_draws_harmonics(window, qtbot) -> None:
    canvas = window.current_canvas()
    doc = canvas.doc
    window.tool_bar.set_tool(Tool.HARMONIC)
    before = doc.mel.copy()
    drag(qtbot, canvas, [(700.5, 10.5), (720.5, 10.5), (740.5, 10.5)])
    changed_cols = np.flatnonzero(np.any(doc.mel != before, axis=0))
    assert changed_cols.size >= 30 and changed_cols.min() >= 699 and changed_cols.max() <= 741
    assert np.all(doc.mel >= before)
    assert doc.undo_label == "Harmonic"


def test_unsaved_work_is_autosaved_and_recovered_after_a_crash(window, qtbot) -> None:
    from vocoder_studio.ui.app import create_main_window

    doc = window.current_document()
    window.current_canvas().set_selection(Region(50, 90, 10, 30))
    window.window_actions.gain_up_action.trigger()
    written = window.autosave_now()
    assert len(written) == 1 and written[0].exists()
    # a second window stands for the next start after a crash: the first never closed cleanly, and the
    # kernel dropped its claim on its autosaves (issue 7: a running copy's autosaves are never offered)
    window.session.autosaver.close()
    after_crash = create_main_window([], show_dialogs=False)
    qtbot.addWidget(after_crash)
    try:
        assert after_crash.recover_autosaves(ask=False) == 1
        recovered = after_crash.current_document()
        assert recovered is not None and recovered.modified
        np.testing.assert_array_equal(recovered.mel, doc.mel)
        assert not written[0].exists()
    finally:
        after_crash.shutdown()


def test_a_vocoder_that_cannot_run_explains_why(window, qtbot, tmp_path) -> None:
    from vocoder_studio.vocoders.hifigan import cpu_has_native_bfloat16

    if cpu_has_native_bfloat16():
        pytest.skip("this CPU runs bfloat16 natively")
    window.vocoder_panel.set_vocoder("hifigan", device="cpu", precision="bfloat16")
    with qtbot.waitSignal(window.errorShown, timeout=30_000) as blocker:
        window.export_wav(tmp_path / "x.wav")
    assert "emulated on this CPU" in blocker.args[0]
    assert not (tmp_path / "x.wav").exists()


def test_render_ahead_vocodes_edits_in_the_background(window, qtbot, tmp_path) -> None:
    doc = window.current_document()
    choice = window.vocoder_panel.choice()
    renderer = window.cache.renderer(doc.uid, choice)
    qtbot.waitUntil(lambda: renderer.version == doc.version and renderer.is_complete(), timeout=60_000)
    window.current_canvas().set_selection(Region(200, 240, 0, 80))
    vocoded = renderer.vocoded_frames  # before the edit: a fast vocoder may re-vocode it before the next line
    window.window_actions.gain_down_action.trigger()
    qtbot.waitUntil(lambda: renderer.version == doc.version and renderer.is_complete(), timeout=60_000)
    c = renderer.vocoder.receptive_field_frames
    assert renderer.vocoded_frames - vocoded == 40 + 2 * c  # only the reach of the edit
    # an export now comes straight from the cache, and a foreground job cancels a background one quietly
    with qtbot.waitSignal(window.exportFinished, timeout=60_000):
        window.export_wav(tmp_path / "cached.wav")
    assert renderer.vocoded_frames - vocoded == 40 + 2 * c
    assert window.last_error is None


def test_editing_while_a_loop_plays_is_heard_without_stopping(window, qtbot) -> None:
    from vocoder_studio.editing import apply_gain

    require(playback_status() is None, f"no audio output here: {playback_status()}")
    doc = window.current_document()
    window.current_canvas().set_selection(Region(100, 200, 0, 80))
    window.transport.loop_action.setChecked(True)
    assert window.toggle_play()
    qtbot.waitUntil(lambda: window.transport.meter.value() > 0, timeout=30_000)
    renderer = window.cache.renderer(doc.uid, window.vocoder_panel.choice())
    apply_gain(doc, Region(120, 140, 0, 80), -40.0)  # as a tool would, while the loop plays
    qtbot.waitUntil(lambda: renderer.version == doc.version and not window.runner.foreground_busy, timeout=30_000)
    assert window.transport.is_playing
    # the vocoder's take throughout, but for a crossfade (engine/take_switch.CROSSFADE) where the playhead was
    # when a take was written (a preview playback's edit is answered while the play job runs)
    differs = np.flatnonzero(window.transport.player.snapshot() != renderer._audio[100 * 256 : 200 * 256])
    fades = np.split(differs, np.flatnonzero(np.diff(differs) > 128) + 1) if differs.size else []
    assert len(fades) <= 2 and all(f[-1] - f[0] < 128 for f in fades)
    window.transport.stop_action.trigger()
    assert not window.transport.is_playing
