"""The window's actions (with shortcuts), its menus and the view toolbar, and which actions are enabled."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from PySide6.QtCore import QObject, Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMenu

from vocoder_studio.document import Document
from vocoder_studio.ui.compare import open_compare

if TYPE_CHECKING:
    from vocoder_studio.ui.main_window import MainWindow


def _fill_menu(menu: QMenu, actions: list[QAction | None]) -> None:
    """Add actions to ``menu``; None adds a separator."""
    for action in actions:
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)


class Actions(QObject):
    """Every command of ``window`` as a ``QAction`` named ``<command>_action`` (``undo_action`` …)."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window
        w, files, edits, view, sk = window, window.files, window.edits, window.view, QKeySequence.StandardKey
        self.open_action = self._make("&Open…", files.open_dialog, sk.Open)
        self.save_action = self._make("&Save project", lambda: files.save_project(), sk.Save)
        self.save_as_action = self._make("Save project &as…", lambda: files.save_project_as(), sk.SaveAs)
        self.export_action = self._make("&Export WAV…", lambda: files.export_dialog(False), "Ctrl+E")
        self.export_sel_action = self._make("Export &selection as WAV…", lambda: files.export_dialog(True))
        self.wav_float_action = self._make("Export as 32-bit float", None, checkable=True)
        self.close_tab_action = self._make("&Close tab", lambda: files.close_tab(w.tabs.currentIndex()), sk.Close)
        self.quit_action = self._make("&Quit", w.close, sk.Quit)
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
        self.cancel_action = self._make("&Cancel", w.cancel_jobs, Qt.Key.Key_Escape,
                                        tip="Cancel vocoding, export and playback (Esc)")
        self.render_ahead_action = self._make(
            "Render ahead in the background", w.render_ahead.set_enabled, checkable=True,
            tip="vocode while you are idle, so that play and edits are heard at once")
        self.render_ahead_action.setChecked(True)
        self.compare_action = self._make("&Compare vocoders…", lambda: open_compare(w),
                                         tip="Render the selection with several vocoders, score them, switch by ear")

    def _make(self, text: str, slot: Callable[..., Any] | None, shortcut: Any = None, checkable: bool = False,
              tip: str | None = None) -> QAction:
        action = QAction(text, self.window)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        if slot is not None:
            action.triggered.connect(slot)
        self.window.addAction(action)  # shortcuts work without the menu open
        return action

    def build_menus(self) -> None:
        """The menu bar and the view toolbar (above the tool bar)."""
        w = self.window
        view_bar = w.addToolBar("View")
        view_bar.setObjectName("view")
        for action in (self.fit_action, self.zoom_in_action, self.zoom_out_action, self.split_action):
            view_bar.addAction(action)
        w.insertToolBar(w.tool_bar, view_bar)
        w.insertToolBarBreak(w.tool_bar)
        menu = w.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        recent_menu = QMenu("Open &recent", w)
        recent_menu.aboutToShow.connect(lambda: w.files.fill_recent_menu(recent_menu))
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
            self.split_action, self.compare_action, None, w.vocoder_dock.toggleViewAction(),
            w.tool_bar.toggleViewAction(), w.transport_bar.toggleViewAction(), view_bar.toggleViewAction()])
        t = w.transport
        _fill_menu(menu.addMenu("&Transport"), [t.play_action, t.stop_action, t.from_cursor_action, t.loop_action,
                                                None, self.render_ahead_action, self.cancel_action])

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
