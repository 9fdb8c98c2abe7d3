"""The main window: composes the document tabs, split view, docks, toolbars, status bar, actions and the
commands (files, edits, view, session) around one application model and wires their signals. The work itself
lives in those parts and in the engine; the parts receive the model (:class:`AppModel`) and the few Qt objects
they draw on, never the window."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
from PySide6.QtCore import Qt, Signal
from PySide6.QtGui import QCloseEvent
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QWidget

from vocoder_studio.document import Document
from vocoder_studio.engine.app_model import AppModel
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.paths import APP_TITLE
from vocoder_studio.ui.actions import Actions
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.compare_dialog import CompareDialog, compare_dialog, open_compare
from vocoder_studio.ui.dialogs import error_box
from vocoder_studio.ui.edit_commands import EditCommands
from vocoder_studio.ui.files import FileCommands
from vocoder_studio.ui.generate import GeneratePanel
from vocoder_studio.ui.panels import VocoderPanel
from vocoder_studio.ui.prerender import RenderAhead
from vocoder_studio.ui.session import Session
from vocoder_studio.ui.split_view import SplitView
from vocoder_studio.ui.status import StatusBar
from vocoder_studio.ui.tabs import DocumentTab, DocumentTabs, ReadOnlyDocument, is_read_only
from vocoder_studio.ui.tools import ToolBar, ToolState
from vocoder_studio.ui.transport import Transport, TransportBar
from vocoder_studio.ui.view_commands import ViewCommands
from vocoder_studio.ui.worker import JobRunner
from vocoder_studio.ui.workstation import Workstation


class MainWindow(QMainWindow):
    """Vocoder Studio's window.

    Args:
        show_dialogs: False keeps every dialog closed (tests); default: on unless
            ``VOCODER_STUDIO_NO_DIALOGS=1``.
    Attributes:
        model: the application model every part receives (documents, the current and active one, the vocoder
            choice, the transport state, the clipboard, messages).
        tabs, split, status, files, edits, view, session, window_actions: the parts (see their modules); the actions
        are ``window.window_actions.<name>_action``.
    Signals:
        exportFinished(path), errorShown(message)
    """

    exportFinished = Signal(str)
    errorShown = Signal(str)

    def __init__(self, show_dialogs: bool | None = None) -> None:
        super().__init__()
        if show_dialogs is None:
            show_dialogs = os.environ.get("VOCODER_STUDIO_NO_DIALOGS", "") != "1"
        self.model = AppModel(interactive=show_dialogs)
        self.last_error: str | None = None
        self._active_canvas: SpectrogramCanvas | None = None
        self.setWindowTitle(APP_TITLE)
        self.resize(1400, 860)
        self.tools, self.runner, self.cache = ToolState(), JobRunner(self), RenderCache()
        self.transport = Transport(self.runner, self.cache, self)
        self.transport.view_canvas = self.active_canvas

        self.tabs = DocumentTabs()
        self.split = SplitView(self.tabs, self.tools)
        self.splitter = self._central_splitter(self.tabs, self.split)
        self.vocoder_panel = VocoderPanel()
        self.vocoder_dock = self._right_dock("Vocoder", "vocoder-dock", self.vocoder_panel)
        self.generate_panel = GeneratePanel(self)
        self.generate_dock = self._right_dock("Generate", "generate-dock", self.generate_panel)
        self.tabifyDockWidget(self.vocoder_dock, self.generate_dock)
        self.vocoder_dock.raise_()
        self.render_ahead = RenderAhead(self.runner, self.cache, self._render_ahead_target,
                                        lambda: self.model.vocoder, self)
        self.tool_bar, self.transport_bar = ToolBar(self.tools, self), TransportBar(self.transport, self)
        self.addToolBar(self.transport_bar)
        self.addToolBar(self.tool_bar)

        self.status = StatusBar(self.statusBar(), self.runner, self.transport)
        self.status.show_playback_in(getattr(self.vocoder_panel, "playback_label", None))
        self.cursor_label = self.status.cursor_label
        model, tabs = self.model, self.tabs
        self.files = FileCommands(model, tabs, self.runner, self.cache, self)
        self.edits = EditCommands(model, self.active_canvas, self)
        self.session = Session(model, tabs, self)
        self.view = ViewCommands(model, self.current_canvas, self.active_canvas, self.split, self)
        self.window_actions = Actions(
            self, self.files, self.edits, self.view, close_tab=lambda: self.close_tab(tabs.currentIndex()),
            quit_app=self.close, cancel=self.cancel_jobs, render_ahead=self.render_ahead.set_enabled,
            compare=self.open_compare)
        self.station = Workstation(self, model, self.vocoder_panel, self.active_canvas, self.runner, self.cache,
                                   self.transport.source)
        self._build_bars_and_menus()
        self._wire()
        self.update_actions()
        self.station.restore()

    # ----- layout -----
    def _central_splitter(self, left: QWidget, right: QWidget) -> QSplitter:
        """``left | right`` at equal stretch as the central widget."""
        splitter = QSplitter(Qt.Orientation.Horizontal)
        splitter.addWidget(left)
        splitter.addWidget(right)
        splitter.setStretchFactor(0, 1)
        splitter.setStretchFactor(1, 1)
        self.setCentralWidget(splitter)
        return splitter

    def _right_dock(self, title: str, name: str, widget: QWidget, min_width: int = 250) -> QDockWidget:
        """``widget`` in a movable, floatable (not closable) dock on the right."""
        dock = QDockWidget(title, self)
        dock.setObjectName(name)
        dock.setWidget(widget)
        dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                         | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
        dock.setMinimumWidth(min_width)
        self.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
        return dock

    def _build_bars_and_menus(self) -> None:
        """The view toolbar (above the tool bar) and the menu bar."""
        view_bar = self.addToolBar("View")
        view_bar.setObjectName("view")
        for action in self.window_actions.view_actions():
            view_bar.addAction(action)
        self.insertToolBar(self.tool_bar, view_bar)
        self.insertToolBarBreak(self.tool_bar)
        self.window_actions.build_menus(self.menuBar(), self.transport, [
            self.vocoder_dock.toggleViewAction(), self.tool_bar.toggleViewAction(),
            self.transport_bar.toggleViewAction(), view_bar.toggleViewAction()])
        self.station.install(self.menuBar(), view_bar)

    def _wire(self) -> None:
        events = self.model.events
        events.added.connect(self._on_added)
        events.removed.connect(self._on_removed)
        events.saved.connect(lambda _doc, _path: self.update_title())
        events.exported.connect(lambda path: self.exportFinished.emit(str(path)))
        events.commands.connect(self.update_actions)
        events.status.connect(self.show_status)
        events.error.connect(self.show_error)
        self.tabs.tabCloseRequested.connect(self.close_tab)
        self.tabs.currentChanged.connect(self._on_tab_changed)
        self.tabs.tabOpened.connect(lambda tab: self._connect_canvas(tab.canvas))
        self.tabs.tabClosing.connect(self._on_tab_closing)
        self.tabs.tabsChanged.connect(self.update_title)
        self.tabs.documentChanged.connect(self._on_doc_changed)
        self.tabs.historyChanged.connect(self._on_history_changed)
        self.split.canvasCreated.connect(self._connect_canvas)
        self.split.canvasRemoved.connect(self._on_split_canvas_removed)
        self.vocoder_panel.outputChanged.connect(self.transport.configure_output)
        self.vocoder_panel.changed.connect(self._on_vocoder_changed)
        self.vocoder_panel.changed.connect(self.render_ahead.schedule)
        self.transport.statusMessage.connect(self.show_status)
        self.transport.playingChanged.connect(lambda playing: setattr(self.model, "playing", playing))
        self.transport.play_action.triggered.connect(self.toggle_play)
        self.runner.jobFailed.connect(lambda _label, message: self.show_error(message))
        self.runner.jobCancelled.connect(lambda label: self.show_status(f"{label}: cancelled"))
        self._on_vocoder_changed()

    # ----- access -----
    def current_document(self) -> Document | None:
        tab = self.tabs.tab()
        return tab.doc if tab else None

    def current_canvas(self) -> SpectrogramCanvas | None:
        tab = self.tabs.tab()
        return tab.canvas if tab else None

    def active_canvas(self) -> SpectrogramCanvas | None:
        """The canvas commands and Play act on: the last one clicked (current tab or split view)."""
        if self._active_canvas is not None and self._active_canvas in (self.current_canvas(), self.split.canvas):
            return self._active_canvas
        return self.current_canvas()

    def active_document(self) -> Document | None:
        canvas = self.active_canvas()
        return canvas.doc if canvas else None

    @property
    def split_canvas(self) -> SpectrogramCanvas | None:
        return self.split.canvas

    @property
    def clipboard(self) -> np.ndarray | None:
        return self.edits.clipboard

    @property
    def show_dialogs(self) -> bool:
        """Whether commands may open dialogs (the model's ``interactive``)."""
        return self.model.interactive

    # ----- messages -----
    def show_status(self, message: str, timeout_ms: int = 8000) -> None:
        self.status.show(message, timeout_ms)

    def show_error(self, message: str) -> None:
        """Status bar + a non-blocking message box (none when dialogs are off)."""
        self.last_error = message
        self.show_status(f"error: {message}")
        self.errorShown.emit(message)
        if self.model.interactive:
            error_box(self, message)

    # ----- documents (file commands live in self.files) -----
    def open_path(self, path: Path) -> DocumentTab | None:
        return self.files.open_path(path)

    def save_project(self, path: Path | None = None) -> Path | None:
        return self.files.save_project(path)

    def export_wav(self, path: Path, selection_only: bool = False, fmt: str = "pcm16") -> bool:
        return self.files.export_wav(path, selection_only, fmt)

    def close_tab(self, index: int) -> bool:
        return self.files.close_tab(index)

    def add_document(self, doc: Document, path: Path | None = None) -> DocumentTab:
        """Open ``doc`` into the model: it is shown in a new tab, made current."""
        self.model.add(doc, path)
        tab = self.tabs.tab_of(doc)
        assert tab is not None
        return tab

    def _on_added(self, doc: Document, path: Path | None) -> None:
        if self.tabs.tab_of(doc) is None:
            self.tabs.open(doc, self.tools, path)

    def _on_removed(self, doc: Document) -> None:
        if (tab := self.tabs.tab_of(doc)) is not None:
            self.tabs.remove(tab)

    def open_compare(self) -> CompareDialog:
        """Show the Compare view (made on first use, kept with its cache)."""
        return open_compare(self.model, self.runner, self.cache, self.transport, self.active_canvas, self)

    def _on_tab_closing(self, tab: DocumentTab) -> None:
        if self.transport.canvas is tab.canvas:
            self.transport.stop()
        self.cache.forget(tab.doc.uid)

    def _connect_canvas(self, canvas: SpectrogramCanvas) -> None:
        self.station.attach(canvas)
        canvas.cursorMoved.connect(self.status.set_cursor)
        canvas.activated.connect(lambda c=canvas: self._set_active(c))
        canvas.selectionChanged.connect(lambda _r: self._on_position_changed())
        canvas.positionClicked.connect(lambda _f: self._on_position_changed())
        canvas.strokeFinished.connect(self.update_actions)
        if isinstance(canvas.doc, ReadOnlyDocument) and self.show_status not in canvas.doc.refused:
            canvas.doc.refused.append(self.show_status)

    # ----- editing (commands live in self.edits, view commands in self.view), transport -----
    def _set_active(self, canvas: SpectrogramCanvas) -> None:
        self._active_canvas = canvas
        self._on_position_changed()

    def apply_gain_db(self, gain_db: float) -> None:
        self.edits.apply_gain_db(gain_db)

    def _on_split_canvas_removed(self, canvas: SpectrogramCanvas) -> None:
        if self._active_canvas is canvas:
            self._active_canvas = None
        if self.transport.canvas is canvas:
            self.transport.stop()
        self._sync_model()

    def toggle_play(self) -> bool:
        """Play / stop the active canvas's document; False if playback did not start."""
        return self.transport.toggle(self.active_canvas(), self.model.vocoder)

    def cancel_jobs(self) -> None:
        self.transport.cancel()  # a live continuation is dropped (Stop keeps what was heard)
        self.runner.cancel()

    def _render_ahead_target(self) -> tuple[Document, int] | None:
        """What render-ahead vocodes: the document Play would play, from where Play would start."""
        canvas = self.active_canvas()
        return (canvas.doc, self.transport.range_for(canvas)[0]) if canvas is not None else None

    # ----- reactions -----
    def _on_doc_changed(self, doc: Document) -> None:
        self.transport.document_changed(doc)  # playing: the edit is re-vocoded into the sound
        self.update_title()
        self.render_ahead.schedule()

    def _on_history_changed(self, doc: Document) -> None:
        if doc is self.active_document():
            self.update_actions()

    def _on_tab_changed(self, _index: int) -> None:
        self.update_title()
        self._on_position_changed()

    def _on_position_changed(self) -> None:
        """The active canvas, its cursor or its selection changed: where Play starts changed."""
        self._sync_model()
        self.update_actions()
        self.transport.refresh_time()
        self.render_ahead.schedule()

    def _sync_model(self) -> None:
        """The model's current and active document follow the tabs and the canvas last clicked."""
        self.model.current = self.current_document()
        self.model.active = self.active_document()

    def _on_vocoder_changed(self) -> None:
        panel = self.vocoder_panel
        self.model.set_vocoder(panel.choice(), {name: p.values() for name, p in panel.panels.items()})
        self.status.set_vocoder(self.model.vocoder.describe())

    def update_title(self) -> None:
        self.tabs.refresh_titles()
        tab = self.tabs.tab()
        self.setWindowTitle(f"{tab.name}{'*' if tab.doc.modified else ''} — {APP_TITLE}" if tab else APP_TITLE)

    def update_actions(self) -> None:
        doc = self.active_document()
        self.window_actions.update(doc, self.edits.clipboard is not None, editable=not is_read_only(doc))

    # ----- session (autosave, recovery, close: self.session) -----
    def autosave_now(self) -> list[Path]:
        return self.session.autosave_now()

    def recover_autosaves(self, ask: bool | None = None) -> int:
        return self.session.recover_autosaves(ask)

    def closeEvent(self, event: QCloseEvent) -> None:  # noqa: N802 (Qt naming)
        if not self.session.may_close():
            event.ignore()
            return
        self.station.save()
        self.shutdown()
        super().closeEvent(event)

    def shutdown(self) -> None:
        """Stop playback and the worker thread (idempotent); a clean exit leaves no autosaves."""
        self.render_ahead.set_enabled(False)
        if (compare := compare_dialog(self)) is not None:
            compare.shutdown()
        self.transport.stop()
        self.runner.shutdown()
        self.session.shutdown()
        for tab in self.tabs:
            self.tabs.release(tab)
        self.split.drop_canvas()
