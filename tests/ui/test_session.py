"""Rough edges 11 and 12: what a kill leaves to recover, the discard prompt's default, where dialogs open."""

from __future__ import annotations

from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from vocoder_studio.document import Region
from vocoder_studio.paths import example_path
from vocoder_studio.ui.dialogs import dialog_start_folder, discard_prompt
from vocoder_studio.ui.files import FOLDER_KEY, settings
from vocoder_studio.ui.tools import Tool


def test_a_window_without_real_changes_leaves_nothing_to_recover(window, qtbot) -> None:
    from vocoder_studio.ui.app import create_main_window

    doc = window.current_document()
    canvas = window.current_canvas()
    assert window.autosave_now() == []  # opened, never edited
    silent = np.argwhere(doc.mel <= doc.config.floor_ln + 1e-6)
    canvas.set_selection(Region(100, 140, 10, 30))
    window.window_actions.gain_up_action.trigger()
    window.window_actions.undo_action.trigger()  # an edit undone: the content is as opened
    window.tool_bar.set_tool(Tool.ERASER)
    if silent.size:  # an eraser click on silence writes the same values
        band, frame = silent[0]
        qtbot.mouseClick(canvas.view.viewport(), Qt.MouseButton.LeftButton,
                         pos=canvas.widget_pos_of_cell(frame + 0.5, band + 0.5))
    assert doc.modified  # the document's own flag says "changed" ...
    assert window.autosave_now() == []  # ... but there is nothing to lose
    # the app is killed here; the next start offers nothing
    after_kill = create_main_window([], show_dialogs=False)
    qtbot.addWidget(after_kill)
    try:
        assert after_kill.recover_autosaves(ask=False) == 0
    finally:
        after_kill.shutdown()


def test_discard_prompt_defaults_to_cancel(qtbot) -> None:
    box = discard_prompt(None, "Discard the changes to x?")
    qtbot.addWidget(box)
    cancel = box.button(QMessageBox.StandardButton.Cancel)
    assert box.defaultButton() is cancel and box.escapeButton() is cancel
    box.open()
    qtbot.waitExposed(box)
    qtbot.keyClick(box, Qt.Key.Key_Return)
    assert box.clickedButton() is cancel


def test_enter_on_closing_an_edited_tab_keeps_it(qtbot) -> None:
    from vocoder_studio.ui.app import create_main_window

    win = create_main_window([example_path()], show_dialogs=True)
    qtbot.addWidget(win)
    pressed: list[str] = []

    def press(key: Qt.Key, name: str) -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            pressed.append(name)
            qtbot.keyClick(box, key)

    try:
        win.current_canvas().set_selection(Region(10, 40, 0, 80))
        win.window_actions.gain_up_action.trigger()
        QTimer.singleShot(300, lambda: press(Qt.Key.Key_Return, "enter"))
        QTimer.singleShot(5000, lambda: press(Qt.Key.Key_Escape, "fallback"))  # never hang the suite
        assert not win.close_tab(0)
        assert pressed == ["enter"] and win.tabs.count() == 1
    finally:
        win.shutdown()


def test_dialogs_start_in_the_last_folder_else_home(window, tmp_path: Path) -> None:
    home = tmp_path / "home"
    home.mkdir()
    assert dialog_start_folder(None, home) == home
    assert dialog_start_folder(str(tmp_path), home) == tmp_path
    assert dialog_start_folder(str(tmp_path / "gone"), home) == home
    settings().remove(FOLDER_KEY)
    suggested = window.files.suggested_path(".vocoded.wav", "vocoded")
    assert suggested == Path.home() / "example.vocoded.wav"  # not beside the bundled example
    assert example_path().parent not in suggested.parents
    window.files.remember_folder(tmp_path / "mine.wav")  # an export there
    assert window.files.suggested_path(".vocoded.wav", "vocoded") == tmp_path / "example.vocoded.wav"
    settings().remove(FOLDER_KEY)
