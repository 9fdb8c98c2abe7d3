"""The window's actions (with shortcuts), its menus and the view toolbar, and which actions are enabled."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu, QMenuBar, QWidget

from vocoder_studio.document import Document
from vocoder_studio.ui.edit_commands import EditCommands
from vocoder_studio.ui.files import FileCommands
from vocoder_studio.ui.transport import Transport
from vocoder_studio.ui.view_commands import ViewCommands


def _fill_menu(menu: QMenu, actions: list[QAction | None]) -> None:
    """Add actions to ``menu``; None adds a separator."""
    for action in actions:
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)


class Actions(QObject):
    """Every command as a ``QAction`` named ``<command>_action`` (``undo_action`` …).

    Args:
        owner: the widget whose shortcuts these are (the window); each action is added to it.
        files, edits, view: the command modules the actions trigger.
        close_tab: closes the current tab. quit_app: closes the window. cancel: cancels jobs and playback.
        render_ahead: turns rendering ahead on or off. compare: opens the Compare view.
    """

    def __init__(self, owner: QWidget, files: FileCommands, edits: EditCommands, view: ViewCommands, *,
                 close_tab: Callable[[], object], quit_app: Callable[[], object], cancel: Callable[[], object],
                 render_ahead: Callable[[bool], object], compare: Callable[[], object]) -> None:
        super().__init__(owner)
        self.owner, self.files = owner, files
        sk = QKeySequence.StandardKey
        self.open_action = self._make("&Open…", files.open_dialog, sk.Open)
        self.save_action = self._make("&Save project", lambda: files.save_project(), sk.Save)
        self.save_as_action = self._make("Save project &as…", lambda: files.save_project_as(), sk.SaveAs)
        self.export_action = self._make("&Export WAV…", lambda: files.export_dialog(False, self.wav_format()),
                                        "Ctrl+E")
        self.export_sel_action = self._make("Export &selection as WAV…",
                                            lambda: files.export_dialog(True, self.wav_format()))
        self.wav_float_action = self._make("Export as 32-bit float", None, checkable=True)
        self.close_tab_action = self._make("&Close tab", close_tab, sk.Close)
        self.quit_action = self._make("&Quit", quit_app, sk.Quit)
        self.undo_action = self._make("&Undo", edits.undo, "Ctrl+Z")
        self.redo_action = self._make("&Redo", edits.redo, "Ctrl+Shift+Z")
        self.copy_action = self._make("&Copy", edits.copy, sk.Copy, tip="Copy the selected cells")
        self.paste_action = self._make("&Paste", edits.paste, sk.Paste,
                                       tip="Paste at the selection or the cursor of the active canvas")
        self.gain_up_action = self._make("Gain +6 dB", lambda: edits.apply_gain_db(6.0), "Ctrl+Up")
        self.gain_down_action = self._make("Gain −6 dB", lambda: edits.apply_gain_db(-6.0), "Ctrl+Down")
        self.gain_action = self._make("Gain…", edits.gain_dialog, "Ctrl+G")
        self.clear_action = self._make("C&lear selection (silence)", edits.clear_selection, sk.Delete)
        self.fade_in_action = self._make("Fade &in", lambda: edits.fade(True))
        self.fade_out_action = self._make("Fade &out", lambda: edits.fade(False))
        self.deselect_action = self._make("Select &none", edits.deselect, "Ctrl+Shift+A")
        self.fit_action = self._make("&Fit", view.fit, "Ctrl+0", tip="Show the whole spectrogram")
        self.zoom_in_action = self._make("Zoom &in", lambda: view.zoom(2.0), sk.ZoomIn)
        self.zoom_out_action = self._make("Zoom &out", lambda: view.zoom(0.5), sk.ZoomOut)
        self.levels_action = self._make("&Reset colour range", view.reset_levels,
                                        tip="Set the colour range from the document's levels")
        self.split_action = self._make("&Split view", view.set_split_view, "Ctrl+\\", checkable=True,
                                       tip="Show a second canvas (the read-only original or another tab) beside")
        view.splitChanged.connect(self.split_action.setChecked)
        self.cancel_action = self._make("&Cancel", cancel, Qt.Key.Key_Escape,
                                        tip="Cancel vocoding, export and playback (Esc)")
        self.render_ahead_action = self._make(
            "Render ahead in the background", render_ahead, checkable=True,
            tip="vocode while you are idle, so that play and edits are heard at once")
        self.render_ahead_action.setChecked(True)
        self.compare_action = self._make("&Compare vocoders…", compare,
                                         tip="Render the selection with several vocoders, score them, switch by ear")

    def wav_format(self) -> str:
        """The export format the File menu's check box picks: "float32" or "pcm16"."""
        return "float32" if self.wav_float_action.isChecked() else "pcm16"

    def _make(self, text: str, slot: Callable[..., Any] | None, shortcut: Any = None, checkable: bool = False,
              tip: str | None = None) -> QAction:
        action = QAction(text, self.owner)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        if slot is not None:
            action.triggered.connect(slot)
        self.owner.addAction(action)  # shortcuts work without the menu open
        return action

    def view_actions(self) -> list[QAction]:
        """The actions of the view toolbar."""
        return [self.fit_action, self.zoom_in_action, self.zoom_out_action, self.split_action]

    def build_menus(self, menu: QMenuBar, transport: Transport, panel_toggles: list[QAction]) -> None:
        """The menu bar: File, Edit, View (``panel_toggles`` show or hide docks and bars), Transport."""
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        recent_menu = QMenu("Open &recent", menu)
        recent_menu.aboutToShow.connect(lambda: self.files.fill_recent_menu(recent_menu))
        file_menu.addMenu(recent_menu)
        _fill_menu(file_menu, [None, self.save_action, self.save_as_action, None, self.export_action,
                               self.export_sel_action, self.wav_float_action, None, self.close_tab_action,
                               self.quit_action])
        _fill_menu(menu.addMenu("&Edit"), [
            self.undo_action, self.redo_action, None, self.copy_action, self.paste_action, None,
            self.gain_up_action, self.gain_down_action, self.gain_action, self.clear_action, self.fade_in_action,
            self.fade_out_action, None, self.deselect_action])
        _fill_menu(menu.addMenu("&View"), [
            self.fit_action, self.zoom_in_action, self.zoom_out_action, self.levels_action, None,
            self.split_action, self.compare_action, None, *panel_toggles])
        t = transport
        _fill_menu(menu.addMenu("&Transport"), [t.play_action, t.stop_action, t.from_cursor_action, t.loop_action,
                                                t.live_action, None, self.render_ahead_action, self.cancel_action])

    def update(self, doc: Document | None, has_clipboard: bool, editable: bool) -> None:
        """Enable what applies to ``doc`` (the active canvas's document): editing needs ``editable``."""
        has_sel = doc is not None and doc.selection is not None
        self.undo_action.setEnabled(bool(editable and doc and doc.can_undo))
        self.redo_action.setEnabled(bool(editable and doc and doc.can_redo))
        self.undo_action.setText(f"&Undo {doc.undo_label}" if doc and doc.undo_label else "&Undo")
        self.redo_action.setText(f"&Redo {doc.redo_label}" if doc and doc.redo_label else "&Redo")
        for action in (self.copy_action, self.export_sel_action):
            action.setEnabled(has_sel)
        for action in (self.gain_up_action, self.gain_down_action, self.gain_action, self.clear_action,
                       self.fade_in_action, self.fade_out_action):
            action.setEnabled(has_sel and editable)
        self.paste_action.setEnabled(doc is not None and has_clipboard and editable)
        for action in (self.save_action, self.save_as_action, self.export_action, self.close_tab_action):
            action.setEnabled(doc is not None)
