"""The main window: document tabs, split view, menus, docks, status bar; glue between widgets and engine."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
from PySide6.QtCore import QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QComboBox,
    QDockWidget,
    QFileDialog,
    QHBoxLayout,
    QInputDialog,
    QLabel,
    QMainWindow,
    QMenu,
    QMessageBox,
    QProgressBar,
    QSplitter,
    QTabWidget,
    QVBoxLayout,
    QWidget,
)

from vocoder_studio.audio.io import save_wav
from vocoder_studio.autosave import Autosaver, pending_recoveries, recover
from vocoder_studio.document import PROJECT_SUFFIX, Document, Region, open_document
from vocoder_studio.editing import apply_gain, clear_region, copy_region, fade_region, paste
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.player import playback_status
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.panels import VocoderPanel
from vocoder_studio.ui.prerender import RenderAhead
from vocoder_studio.ui.tools import ToolBar, ToolState
from vocoder_studio.ui.transport import Transport, TransportBar
from vocoder_studio.ui.worker import JobRunner

APP_TITLE = "Vocoder Studio"
OPEN_FILTER = ("Audio, mel or project (*.wav *.flac *.ogg *.oga *.mp3 *.opus *.aiff *.aif *.npy *.vsproj);;"
               "All files (*)")
MAX_RECENT = 10


def _fill_menu(menu: QMenu, actions: list[QAction | None]) -> None:
    """Add actions to ``menu``; None adds a separator."""
    for action in actions:
        if action is None:
            menu.addSeparator()
        else:
            menu.addAction(action)


#: How often documents with unsaved changes are autosaved for crash recovery.
AUTOSAVE_INTERVAL_MS = 20_000


class DocumentTab(QWidget):
    """One open document: its canvas, file path and the mel it was opened with (the "original")."""

    def __init__(self, doc: Document, tools: ToolState, path: Path | None) -> None:
        super().__init__()
        self.doc = doc
        self.path = path
        self.original = np.array(doc.mel, copy=True)
        self.original_doc: Document | None = None
        self.canvas = SpectrogramCanvas(doc, tools)
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addWidget(self.canvas)

    @property
    def name(self) -> str:
        if self.doc.project_path is not None:
            return self.doc.project_path.name
        return self.path.name if self.path is not None else "untitled"

    def original_document(self) -> Document:
        """A read-only-in-spirit document of the mel as opened (for the split view)."""
        if self.original_doc is None:
            self.original_doc = Document(self.original, source=self.doc.source, vocoder=self.doc.vocoder)
        return self.original_doc


class MainWindow(QMainWindow):
    """Vocoder Studio's window.

    Args:
        show_dialogs: False keeps every dialog closed (tests); default: on unless
            ``VOCODER_STUDIO_NO_DIALOGS=1``.
    Signals:
        exportFinished(path), errorShown(message)
    """

    exportFinished = Signal(str)
    errorShown = Signal(str)

    def __init__(self, show_dialogs: bool | None = None) -> None:
        super().__init__()
        if show_dialogs is None:
            show_dialogs = os.environ.get("VOCODER_STUDIO_NO_DIALOGS", "") != "1"
        self.show_dialogs = show_dialogs
        self.last_error: str | None = None
        self.clipboard: np.ndarray | None = None
        self._clip_band0 = 0
        self.tools = ToolState()
        self.runner = JobRunner(self)
        self.cache = RenderCache()
        self.transport = Transport(self.runner, self.cache, self)
        self._active_canvas: SpectrogramCanvas | None = None
        self.split_canvas: SpectrogramCanvas | None = None
        self._split_docs: list[Document] = []
        self.setWindowTitle(APP_TITLE)
        self.resize(1400, 860)

        self.tabs = QTabWidget()
        self.tabs.setTabsClosable(True)
        self.tabs.setMovable(True)
        self.tabs.setDocumentMode(True)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.split_panel = QWidget()
        split_layout = QVBoxLayout(self.split_panel)
        split_layout.setContentsMargins(0, 0, 0, 0)
        head = QHBoxLayout()
        head.addWidget(QLabel("Compare with"))
        self.split_combo = QComboBox()
        self.split_combo.currentIndexChanged.connect(self._on_split_choice)
        head.addWidget(self.split_combo, 1)
        split_layout.addLayout(head)
        self.split_holder = QVBoxLayout()
        split_layout.addLayout(self.split_holder, 1)
        self.split_panel.setVisible(False)
        self.splitter = QSplitter(Qt.Orientation.Horizontal)
        self.splitter.addWidget(self.tabs)
        self.splitter.addWidget(self.split_panel)
        self.splitter.setStretchFactor(0, 1)
        self.splitter.setStretchFactor(1, 1)
        self.setCentralWidget(self.splitter)

        self.vocoder_panel = VocoderPanel()
        self.vocoder_panel.outputChanged.connect(self.transport.configure_output)
        self.vocoder_panel.changed.connect(self._on_vocoder_changed)
        dock = QDockWidget("Vocoder", self)
        dock.setObjectName("vocoder-dock")
        dock.setWidget(self.vocoder_panel)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        dock.setMinimumWidth(250)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        self.vocoder_dock = dock

        self.render_ahead = RenderAhead(self.runner, self.cache, self._render_ahead_target,
                                        self.vocoder_panel.choice, self)
        self.vocoder_panel.changed.connect(self.render_ahead.schedule)

        self.tool_bar = ToolBar(self.tools, self)
        self.transport_bar = TransportBar(self.transport, self)
        self.addToolBar(self.transport_bar)
        self.addToolBar(self.tool_bar)

        self._build_status_bar()
        self._build_actions()
        self._build_menus()
        self.transport.statusMessage.connect(self.show_status)
        self.transport.play_action.triggered.connect(self.toggle_play)
        self.runner.jobStarted.connect(self._on_job_started)
        self.runner.jobProgress.connect(self._on_job_progress)
        self.runner.jobFailed.connect(self._on_job_failed)
        self.runner.jobCancelled.connect(lambda label: self.show_status(f"{label}: cancelled"))
        self.runner.idle.connect(self._on_idle)
        self._update_actions()

        self.autosaver = Autosaver()
        self.autosave_timer = QTimer(self)
        self.autosave_timer.setInterval(AUTOSAVE_INTERVAL_MS)
        self.autosave_timer.timeout.connect(self.autosave_now)
        self.autosave_timer.start()

    # ----- construction -----
    def _build_status_bar(self) -> None:
        bar = self.statusBar()
        self.job_label = QLabel("ready")
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(160)
        self.progress.setMaximumHeight(14)
        self.progress.setVisible(False)
        self.cursor_label = QLabel("")
        self.cursor_label.setMinimumWidth(260)
        self.vocoder_label = QLabel("")
        self.playback_label = QLabel(playback_status() or "playback ready")
        # permanent widgets, so that temporary messages (left) never paint over the worker's state
        bar.addPermanentWidget(self.job_label)
        bar.addPermanentWidget(self.progress)
        bar.addPermanentWidget(self.cursor_label)
        bar.addPermanentWidget(self.vocoder_label)
        bar.addPermanentWidget(self.playback_label)
        self._on_vocoder_changed()

    def _action(self, text: str, slot: Any, shortcut: Any = None, checkable: bool = False,
                tip: str | None = None) -> QAction:
        action = QAction(text, self)
        if shortcut is not None:
            action.setShortcut(QKeySequence(shortcut))
        action.setCheckable(checkable)
        if tip:
            action.setToolTip(tip)
            action.setStatusTip(tip)
        action.triggered.connect(slot)
        self.addAction(action)
        return action

    def _build_actions(self) -> None:
        sk = QKeySequence.StandardKey
        self.open_action = self._action("&Open…", self.open_dialog, sk.Open)
        self.save_action = self._action("&Save project", lambda: self.save_project(), sk.Save)
        self.save_as_action = self._action("Save project &as…", lambda: self.save_project_as(), sk.SaveAs)
        self.export_action = self._action("&Export WAV…", lambda: self.export_dialog(False), "Ctrl+E")
        self.export_sel_action = self._action("Export &selection as WAV…", lambda: self.export_dialog(True))
        self.close_tab_action = self._action("&Close tab", lambda: self.close_tab(self.tabs.currentIndex()),
                                             sk.Close)
        self.quit_action = self._action("&Quit", self.close, sk.Quit)
        self.undo_action = self._action("&Undo", self.undo, "Ctrl+Z")
        self.redo_action = self._action("&Redo", self.redo, "Ctrl+Shift+Z")
        self.copy_action = self._action("&Copy", self.copy, sk.Copy, tip="Copy the selected cells")
        self.paste_action = self._action("&Paste", self.paste, sk.Paste,
                                         tip="Paste at the selection or the cursor of the active canvas")
        self.gain_up_action = self._action("Gain +6 dB", lambda: self.apply_gain_db(6.0), "Ctrl+Up")
        self.gain_down_action = self._action("Gain −6 dB", lambda: self.apply_gain_db(-6.0), "Ctrl+Down")
        self.gain_action = self._action("Gain…", self.gain_dialog, "Ctrl+G")
        self.clear_action = self._action("C&lear selection (silence)", self.clear_selection, sk.Delete)
        self.fade_in_action = self._action("Fade &in", lambda: self.fade(True))
        self.fade_out_action = self._action("Fade &out", lambda: self.fade(False))
        self.deselect_action = self._action("Select &none", self.deselect, "Ctrl+Shift+A")
        self.fit_action = self._action("&Fit", self.fit, "Ctrl+0", tip="Show the whole spectrogram")
        self.zoom_in_action = self._action("Zoom &in", lambda: self.zoom(2.0), sk.ZoomIn)
        self.zoom_out_action = self._action("Zoom &out", lambda: self.zoom(0.5), sk.ZoomOut)
        self.split_action = self._action("&Split view", self.set_split_view, "Ctrl+\\", checkable=True,
                                         tip="Show a second canvas (the original or another tab) beside")
        self.cancel_action = self._action("&Cancel", self.cancel_jobs, Qt.Key.Key_Escape,
                                          tip="Cancel vocoding, export and playback (Esc)")
        self.view_bar = self.addToolBar("View")
        self.view_bar.setObjectName("view")
        for action in (self.fit_action, self.zoom_in_action, self.zoom_out_action, self.split_action):
            self.view_bar.addAction(action)
        self.insertToolBar(self.tool_bar, self.view_bar)
        self.insertToolBarBreak(self.tool_bar)

    def _build_menus(self) -> None:
        menu = self.menuBar()
        file_menu = menu.addMenu("&File")
        file_menu.addAction(self.open_action)
        self.recent_menu = QMenu("Open &recent", self)
        self.recent_menu.aboutToShow.connect(self._fill_recent_menu)
        file_menu.addMenu(self.recent_menu)
        file_menu.addSeparator()
        for action in (self.save_action, self.save_as_action):
            file_menu.addAction(action)
        file_menu.addSeparator()
        file_menu.addAction(self.export_action)
        file_menu.addAction(self.export_sel_action)
        self.wav_float_action = QAction("Export as 32-bit float", self, checkable=True)
        file_menu.addAction(self.wav_float_action)
        file_menu.addSeparator()
        file_menu.addAction(self.close_tab_action)
        file_menu.addAction(self.quit_action)
        edit = menu.addMenu("&Edit")
        _fill_menu(edit, [self.undo_action, self.redo_action, None, self.copy_action, self.paste_action, None,
                          self.gain_up_action, self.gain_down_action, self.gain_action, self.clear_action,
                          self.fade_in_action, self.fade_out_action, None, self.deselect_action])
        view = menu.addMenu("&View")
        _fill_menu(view, [self.fit_action, self.zoom_in_action, self.zoom_out_action, None, self.split_action])
        view.addSeparator()
        view.addAction(self.vocoder_dock.toggleViewAction())
        view.addAction(self.tool_bar.toggleViewAction())
        view.addAction(self.transport_bar.toggleViewAction())
        view.addAction(self.view_bar.toggleViewAction())
        transport = menu.addMenu("&Transport")
        t = self.transport
        self.render_ahead_action = self._action(
            "Render ahead in the background", self.render_ahead.set_enabled, checkable=True,
            tip="vocode while you are idle, so that play and edits are heard at once")
        self.render_ahead_action.setChecked(True)
        _fill_menu(transport, [t.play_action, t.stop_action, t.from_cursor_action, t.loop_action, None,
                               self.render_ahead_action, self.cancel_action])

    # ----- access -----
    def tab(self, index: int | None = None) -> DocumentTab | None:
        widget = self.tabs.widget(self.tabs.currentIndex() if index is None else index)
        return widget if isinstance(widget, DocumentTab) else None

    def current_document(self) -> Document | None:
        tab = self.tab()
        return tab.doc if tab else None

    def current_canvas(self) -> SpectrogramCanvas | None:
        tab = self.tab()
        return tab.canvas if tab else None

    def active_canvas(self) -> SpectrogramCanvas | None:
        """The canvas edit commands act on: the last one clicked (current tab or split view)."""
        canvases = [self.current_canvas(), self.split_canvas]
        if self._active_canvas is not None and self._active_canvas in canvases:
            return self._active_canvas
        return self.current_canvas()

    def active_document(self) -> Document | None:
        canvas = self.active_canvas()
        return canvas.doc if canvas else None

    # ----- messages -----
    def show_status(self, message: str, timeout_ms: int = 8000) -> None:
        self.statusBar().showMessage(message, timeout_ms)
        self.job_label.setText(message)

    def show_error(self, message: str) -> None:
        """Status bar + a non-blocking message box (none when dialogs are off)."""
        self.last_error = message
        self.show_status(f"error: {message}")
        self.errorShown.emit(message)
        if self.show_dialogs:
            box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE, message,
                              QMessageBox.StandardButton.Ok, self)
            box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
            box.open()

    # ----- files -----
    def open_dialog(self) -> None:
        if not self.show_dialogs:
            return
        start = str(self._recent()[0]) if self._recent() else ""
        path, _ = QFileDialog.getOpenFileName(self, "Open", start, OPEN_FILTER)
        if path:
            self.open_path(Path(path))

    def open_path(self, path: Path) -> DocumentTab | None:
        """Open an audio file, ``.npy`` mel or project as a new tab (errors go to :meth:`show_error`)."""
        path = Path(path)
        try:
            doc = open_document(path)
        except VocoderStudioError as exc:
            self.show_error(str(exc))
            return None
        tab = self.add_document(doc, path)
        self._add_recent(path)
        self.show_status(f"opened {path.name}: {doc.frames} frames, {doc.duration:.2f} s")
        return tab

    def add_document(self, doc: Document, path: Path | None = None) -> DocumentTab:
        """Show ``doc`` in a new tab and make it current."""
        tab = DocumentTab(doc, self.tools, path)
        self._connect_canvas(tab.canvas)
        doc.subscribe(self._on_doc_changed)
        doc.subscribe_history(self._on_history_changed)
        index = self.tabs.addTab(tab, tab.name)
        self.tabs.setCurrentIndex(index)
        self._refresh_split_choices()
        self._update_title()
        return tab

    def _connect_canvas(self, canvas: SpectrogramCanvas) -> None:
        canvas.cursorMoved.connect(self._on_cursor)
        canvas.activated.connect(lambda c=canvas: self._set_active(c))
        canvas.selectionChanged.connect(lambda _r: self._update_actions())
        canvas.strokeFinished.connect(self._update_actions)

    def close_tab(self, index: int) -> bool:
        tab = self.tab(index)
        if tab is None:
            return False
        if tab.doc.modified and self.show_dialogs:
            answer = QMessageBox.question(self, APP_TITLE, f"Discard the changes to {tab.name}?")
            if answer != QMessageBox.StandardButton.Yes:
                return False
        if self.transport.canvas is tab.canvas:
            self.transport.stop()
        tab.canvas.detach()
        tab.doc.unsubscribe(self._on_doc_changed)
        tab.doc.unsubscribe_history(self._on_history_changed)
        self.autosaver.forget(tab.doc)
        self.cache.forget(tab.doc.uid)
        self.tabs.removeTab(index)
        tab.deleteLater()
        self._refresh_split_choices()
        self._update_title()
        return True

    def save_project(self, path: Path | None = None) -> Path | None:
        """Save the current document as a project (asks for a path the first time)."""
        doc = self.current_document()
        if doc is None:
            return None
        target = path or doc.project_path
        if target is None:
            return self.save_project_as()
        try:
            saved = doc.save(target)
        except VocoderStudioError as exc:
            self.show_error(str(exc))
            return None
        self._add_recent(saved)
        self.autosaver.discard(doc)
        self.show_status(f"saved {saved}")
        self._update_title()
        return saved

    def save_project_as(self, path: Path | None = None) -> Path | None:
        if path is None:
            if not self.show_dialogs:
                return None
            tab = self.tab()
            base = tab.path.with_suffix(PROJECT_SUFFIX) if tab and tab.path else Path("untitled.vsproj")
            name, _ = QFileDialog.getSaveFileName(self, "Save project", str(base),
                                                  f"Vocoder Studio project (*{PROJECT_SUFFIX})")
            if not name:
                return None
            path = Path(name)
            if path.suffix.lower() != PROJECT_SUFFIX:
                path = path.with_suffix(PROJECT_SUFFIX)
        return self.save_project(Path(path))

    def export_dialog(self, selection_only: bool) -> None:
        if not self.show_dialogs or self.current_document() is None:
            return
        tab = self.tab()
        base = tab.path.with_suffix(".vocoded.wav") if tab and tab.path else Path("vocoded.wav")
        name, _ = QFileDialog.getSaveFileName(self, "Export WAV", str(base), "WAV audio (*.wav)")
        if name:
            fmt = "float32" if self.wav_float_action.isChecked() else "pcm16"
            self.export_wav(Path(name), selection_only, fmt)

    def export_wav(self, path: Path, selection_only: bool = False, fmt: str = "pcm16") -> bool:
        """Vocode the whole document (or the selection's frames) on the worker and write ``path``.

        Emits ``exportFinished(path)`` when the file is written; errors go to :meth:`show_error`.
        """
        canvas = self.active_canvas()
        if canvas is None:
            return False
        doc = canvas.doc
        start, end = 0, doc.frames
        if selection_only:
            if doc.selection is None:
                self.show_status("export selection: nothing is selected")
                return False
            start, end = doc.selection.frame0, doc.selection.frame1
        choice = self.vocoder_panel.choice()
        mel, version, doc_id, cache = doc.mel.copy(), doc.version, doc.uid, self.cache
        target = Path(path)

        def job(progress: Any, cancel: Any) -> str:
            renderer = cache.renderer(doc_id, choice)
            audio = renderer.render(mel, version, start, end, progress, cancel)
            cancel.check()
            progress(1.0, f"writing {target.name}")
            save_wav(target, audio, renderer.vocoder.sample_rate, fmt)
            return str(target)

        def done(result: object) -> None:
            self.show_status(f"exported {result}")
            self.exportFinished.emit(str(result))

        self.runner.submit(f"Export {target.name}", job, on_result=done)
        return True

    # ----- recent files -----
    def _settings(self) -> QSettings:
        from vocoder_studio.paths import config_dir

        return QSettings(str(config_dir() / "settings.ini"), QSettings.Format.IniFormat)

    def _recent(self) -> list[Path]:
        value = self._settings().value("recent_files", [])
        if isinstance(value, str):
            value = [value]
        return [Path(str(v)) for v in value] if isinstance(value, (list, tuple)) else []

    def _add_recent(self, path: Path) -> None:
        items = [str(Path(path).resolve())] + [str(p) for p in self._recent() if p != Path(path).resolve()]
        self._settings().setValue("recent_files", items[:MAX_RECENT])

    def _fill_recent_menu(self) -> None:
        self.recent_menu.clear()
        recent = [p for p in self._recent() if p.exists()]
        for path in recent:
            action = self.recent_menu.addAction(path.name)
            action.setToolTip(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not recent:
            self.recent_menu.addAction("(none)").setEnabled(False)

    # ----- editing -----
    def _set_active(self, canvas: SpectrogramCanvas) -> None:
        self._active_canvas = canvas
        self._update_actions()

    def undo(self) -> None:
        self._history_step(redo=False)

    def redo(self) -> None:
        self._history_step(redo=True)

    def _history_step(self, redo: bool) -> None:
        doc = self.active_document()
        if doc is None:
            return
        label = doc.redo_label if redo else doc.undo_label
        if doc.redo() if redo else doc.undo():
            self.show_status(f"{'redid' if redo else 'undid'} {label}")
        self._update_actions()  # also for a split-view document, which has no history listener here

    def _selection(self) -> tuple[Document, Region] | None:
        doc = self.active_document()
        if doc is None or doc.selection is None or doc.selection.empty:
            self.show_status("select a region first (Select tool, S)")
            return None
        return doc, doc.selection

    def copy(self) -> None:
        sel = self._selection()
        if sel is not None:
            doc, region = sel
            self.clipboard = copy_region(doc, region)
            self._clip_band0 = region.band0
            self.show_status(f"copied {self.clipboard.shape[1]} frames × {self.clipboard.shape[0]} bands")
            self._update_actions()

    def paste(self) -> None:
        canvas = self.active_canvas()
        if canvas is None or self.clipboard is None:
            return
        doc = canvas.doc
        if doc.selection is not None:
            frame0, band0 = doc.selection.frame0, doc.selection.band0
        else:
            frame0, band0 = canvas.cursor_frame, self._clip_band0
        region = paste(doc, self.clipboard, frame0, band0)
        self._update_actions()
        self.show_status(f"pasted at {frame0 * doc.config.frame_seconds:.3f} s ({region.cells} cells)")

    def apply_gain_db(self, gain_db: float) -> None:
        sel = self._selection()
        if sel is not None:
            apply_gain(sel[0], sel[1], gain_db)
            self._update_actions()

    def gain_dialog(self) -> None:
        if self.show_dialogs and self._selection() is not None:
            value, ok = QInputDialog.getDouble(self, "Selection gain", "Gain (dB):", 6.0, -80.0, 80.0, 1)
            if ok:
                self.apply_gain_db(value)

    def clear_selection(self) -> None:
        sel = self._selection()
        if sel is not None:
            clear_region(*sel)
            self._update_actions()

    def fade(self, fade_in: bool) -> None:
        sel = self._selection()
        if sel is not None:
            fade_region(sel[0], sel[1], fade_in)
            self._update_actions()

    def deselect(self) -> None:
        canvas = self.active_canvas()
        if canvas is not None:
            canvas.set_selection(None)

    # ----- view -----
    def fit(self) -> None:
        for canvas in (self.current_canvas(), self.split_canvas):
            if canvas is not None:
                canvas.fit()

    def zoom(self, factor: float) -> None:
        canvas = self.active_canvas()
        if canvas is not None:
            canvas.zoom(factor)

    def set_split_view(self, on: bool) -> None:
        """Show or hide the second canvas (defaults to the original of the current tab)."""
        self.split_action.setChecked(bool(on))
        self.split_panel.setVisible(bool(on))
        if on:
            self._refresh_split_choices()
            if self.split_canvas is None:
                self._on_split_choice(self.split_combo.currentIndex())
            half = max(self.splitter.width() // 2, 200)
            self.splitter.setSizes([half, half])
        else:
            self._drop_split_canvas()

    def _refresh_split_choices(self) -> None:
        docs: list[Document] = []
        labels: list[str] = []
        current = self.tab()
        order = ([current] if current else []) + [self.tab(i) for i in range(self.tabs.count())
                                                   if self.tab(i) is not current]
        for tab in order:
            if tab is None:
                continue
            docs.append(tab.original_document())
            labels.append(f"Original: {tab.name}")
        for i in range(self.tabs.count()):
            tab = self.tab(i)
            if tab is not None:
                docs.append(tab.doc)
                labels.append(tab.name)
        keep = self.split_canvas.doc if self.split_canvas is not None else None
        self._split_docs = docs
        self.split_combo.blockSignals(True)
        self.split_combo.clear()
        self.split_combo.addItems(labels)
        if keep is not None and keep in docs:
            self.split_combo.setCurrentIndex(docs.index(keep))
        self.split_combo.blockSignals(False)
        if keep is not None and keep not in docs:
            self._on_split_choice(self.split_combo.currentIndex())

    def _drop_split_canvas(self) -> None:
        if self.split_canvas is not None:
            if self._active_canvas is self.split_canvas:
                self._active_canvas = None
            if self.transport.canvas is self.split_canvas:
                self.transport.stop()
            self.split_canvas.detach()
            self.split_canvas.setParent(None)
            self.split_canvas.deleteLater()
            self.split_canvas = None

    def _on_split_choice(self, index: int) -> None:
        if not self.split_panel.isVisible() and not self.split_action.isChecked():
            return
        self._drop_split_canvas()
        if 0 <= index < len(self._split_docs):
            self.split_canvas = SpectrogramCanvas(self._split_docs[index], self.tools)
            self._connect_canvas(self.split_canvas)
            self.split_holder.addWidget(self.split_canvas)

    # ----- transport -----
    def toggle_play(self) -> bool:
        """Play / stop the active canvas's document; False if playback did not start."""
        return self.transport.toggle(self.active_canvas(), self.vocoder_panel.choice())

    def cancel_jobs(self) -> None:
        self.transport.stop()
        self.runner.cancel()

    # ----- reactions -----
    def _on_doc_changed(self, doc: Document, region: Region) -> None:
        self.transport.document_changed(doc)  # playing: the edit is re-vocoded into the sound
        self._update_title()
        self.render_ahead.schedule()

    def _on_history_changed(self, doc: Document) -> None:
        if doc is self.active_document():
            self._update_actions()

    def _on_tab_changed(self, _index: int) -> None:
        self._update_title()
        self._update_actions()
        self.render_ahead.schedule()

    def _render_ahead_target(self) -> tuple[Document, int] | None:
        """The document to render ahead and where play would start (selection, else cursor)."""
        canvas = self.current_canvas()
        if canvas is None:
            return None
        doc = canvas.doc
        start = doc.selection.frame0 if doc.selection is not None else canvas.cursor_frame
        return doc, int(min(max(start, 0), doc.frames))

    def _on_cursor(self, seconds: float, hz: float, db: float) -> None:
        self.cursor_label.setText(f"{seconds:7.3f} s   {hz:6.0f} Hz   {db:6.1f} dB")

    def _on_vocoder_changed(self) -> None:
        if hasattr(self, "vocoder_panel"):
            self.vocoder_label.setText(self.vocoder_panel.choice().describe())

    def _on_job_started(self, label: str) -> None:
        self.job_label.setText(f"{label}…")
        self.progress.setValue(0)
        self.progress.setVisible(True)

    def _on_job_progress(self, label: str, fraction: float, message: str) -> None:
        self.job_label.setText(f"{label}: {message}")
        self.progress.setValue(int(1000 * max(0.0, min(1.0, fraction))))

    def _on_job_failed(self, label: str, message: str) -> None:
        self.show_error(message)

    def _on_idle(self) -> None:
        self.progress.setVisible(False)

    def _update_title(self) -> None:
        tab = self.tab()
        for i in range(self.tabs.count()):
            t = self.tab(i)
            if t is not None:
                self.tabs.setTabText(i, t.name + (" *" if t.doc.modified else ""))
        if tab is None:
            self.setWindowTitle(APP_TITLE)
        else:
            self.setWindowTitle(f"{tab.name}{'*' if tab.doc.modified else ''} — {APP_TITLE}")
        self.setWindowModified(False)

    def _update_actions(self) -> None:
        doc = self.active_document()
        has_doc = doc is not None
        has_sel = has_doc and doc is not None and doc.selection is not None
        self.undo_action.setEnabled(bool(doc and doc.can_undo))
        self.redo_action.setEnabled(bool(doc and doc.can_redo))
        self.undo_action.setText(f"&Undo {doc.undo_label}" if doc and doc.undo_label else "&Undo")
        self.redo_action.setText(f"&Redo {doc.redo_label}" if doc and doc.redo_label else "&Redo")
        for action in (self.copy_action, self.gain_up_action, self.gain_down_action, self.gain_action,
                       self.clear_action, self.fade_in_action, self.fade_out_action, self.export_sel_action):
            action.setEnabled(bool(has_sel))
        self.paste_action.setEnabled(has_doc and self.clipboard is not None)
        for action in (self.save_action, self.save_as_action, self.export_action, self.close_tab_action):
            action.setEnabled(has_doc)

    # ----- closing -----
    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        if self.show_dialogs:
            unsaved = [self.tab(i) for i in range(self.tabs.count())
                       if (t := self.tab(i)) is not None and t.doc.modified]
            if unsaved:
                names = ", ".join(t.name for t in unsaved if t is not None)
                answer = QMessageBox.question(self, APP_TITLE, f"Quit and discard the changes to {names}?")
                if answer != QMessageBox.StandardButton.Yes:
                    event.ignore()
                    return
        self.shutdown()
        super().closeEvent(event)

    def autosave_now(self) -> list[Path]:
        """Autosave every document with unsaved changes (crash recovery); returns the files written."""
        written = []
        for i in range(self.tabs.count()):
            tab = self.tab(i)
            if tab is None:
                continue
            try:
                path = self.autosaver.save(tab.doc)
            except OSError as exc:
                self.show_status(f"autosave failed: {exc}")
                continue
            if path is not None:
                written.append(path)
        return written

    def recover_autosaves(self, ask: bool | None = None) -> int:
        """Reopen documents autosaved by a session that did not close cleanly; returns how many."""
        found = pending_recoveries(exclude=self.autosaver.tracked_paths())
        if not found:
            return 0
        if self.show_dialogs if ask is None else ask:
            answer = QMessageBox.question(
                self, APP_TITLE, f"Vocoder Studio did not close cleanly. Recover {len(found)} unsaved document(s)?")
            if answer != QMessageBox.StandardButton.Yes:
                for path in found:
                    path.unlink(missing_ok=True)
                return 0
        count = 0
        for path in found:
            try:
                doc = recover(path)
            except VocoderStudioError as exc:
                self.show_error(str(exc))
                continue
            source = Path(doc.source) if doc.source else None
            tab = self.add_document(doc, source)
            self.tabs.setTabText(self.tabs.indexOf(tab), f"{tab.name} (recovered)")
            count += 1
        self.show_status(f"recovered {count} unsaved document(s)")
        return count

    def shutdown(self) -> None:
        """Stop playback and the worker thread (idempotent); a clean exit leaves no autosaves."""
        self.render_ahead.set_enabled(False)
        self.transport.stop()
        self.runner.shutdown()
        self.autosave_timer.stop()
        for i in range(self.tabs.count()):
            tab = self.tab(i)
            if tab is not None:
                self.autosaver.forget(tab.doc)
                tab.canvas.detach()
                tab.doc.unsubscribe(self._on_doc_changed)
                tab.doc.unsubscribe_history(self._on_history_changed)
        self._drop_split_canvas()
