"""The Compare view: render the current mel (or the selection) with several vocoders, see each output analysed
again beside the original with its difference map and scores, and switch playback between them while it plays.

The work is :class:`vocoder_studio.evaluation.comparison.CompareCache` (a job on the worker's long lane, cached per
document version and vocoder settings). Keys:
1–9 play vocoder 1–9, 0 the original recording (when the document came from one and the range is unedited),
Space plays / stops. While the view is open it follows the document: an edit of the compared document renders
it again (debounced by :data:`RERENDER_DELAY_MS`, on the worker, the stale job cancelled, only the frames the edit
reaches vocoded again); meanwhile the outdated result is dimmed, a result for an older version is never shown,
and playback continues with the new takes at the same time.

This module holds what is compared and when; the drawing is :mod:`vocoder_studio.ui.compare_grid` (also the
picture File ▸ Export image… writes), the sound :mod:`vocoder_studio.ui.compare_playback`.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Qt, QTimer, Signal
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import (
    QCheckBox,
    QDialog,
    QGraphicsOpacityEffect,
    QHBoxLayout,
    QLabel,
    QProgressBar,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

from vocoder_studio.document import Document
from vocoder_studio.engine.app_model import AppModel
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.jobs import CancelToken, JobHandle
from vocoder_studio.engine.play_range import is_selection_range
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.evaluation.comparison import CompareCache, Comparison
from vocoder_studio.ui.canvas import DEFAULT_LEVELS, SpectrogramCanvas
from vocoder_studio.ui.compare_grid import CompareGrid
from vocoder_studio.ui.compare_playback import ComparePlayback
from vocoder_studio.ui.image_export import ask_image_path
from vocoder_studio.ui.transport import Transport, format_time
from vocoder_studio.ui.worker import LONG_LANE, JobRunner
from vocoder_studio.vocoders.choice import VocoderChoice
from vocoder_studio.vocoders.registry import DEFAULT_VOCODER, list_vocoders

COMPARE_LABEL = "Compare vocoders"
#: After an edit, the view waits this long without further edits before it renders again (a brush stroke is
#: many edits; each one restarts the wait).
RERENDER_DELAY_MS = 400
#: The opacity of a result that the document has moved past, until the new one is shown.
OUTDATED_OPACITY = 0.35


class CompareDialog(QDialog):
    """The Compare view (non-modal; one per window, see :func:`open_compare`).

    Args:
        model: the application model (its documents, active document, vocoder settings and transport state).
        runner: the worker the compare jobs run on.
        cache: the window's render cache (the vocoders, loaded once).
        transport: the window's playback (its output device; stopped when the comparison plays).
        active_canvas: the active document's canvas (its colour range is used).
        parent: the window.
    Attributes:
        cache: the results, per document version, range and vocoder settings.
        comparison: the comparison shown, or None.
        grid: the plots of the comparison shown (:class:`CompareGrid`: its images, titles and scores).
        playback: its takes' playback (:class:`ComparePlayback`; take 0 = the original recording, k = vocoder k).
        follow_box: whether an edit of the compared document renders it again by itself (on by default).
        rerender_timer: the single-shot wait (:data:`RERENDER_DELAY_MS`) between an edit and rendering again.
        dim: the view's opacity effect: :data:`OUTDATED_OPACITY` while the result shown is outdated, else 1.
    Signals:
        comparisonShown(Comparison): a result was shown (never one for a version the document has moved past
            while a new rendering is on its way).
    """

    comparisonShown = Signal(object)

    def __init__(self, model: AppModel, runner: JobRunner, cache: RenderCache, transport: Transport,
                 active_canvas: Callable[[], SpectrogramCanvas | None], parent: QWidget) -> None:
        super().__init__(parent)
        self.model, self.runner, self.transport, self.active_canvas = model, runner, transport, active_canvas
        self.setWindowTitle("Compare vocoders")
        self.setModal(False)
        self.resize(1240, 760)
        self.cache = CompareCache(cache)
        self.comparison: Comparison | None = None
        self._job: JobHandle | None = None  # the compare job under way; replacing it cancels it (never stale)
        self._followed: int | None = None  # Document.uid of the document last compared

        picks = self._picks_row()
        self.message = QLabel("Check two or more vocoders and press Compare.")
        self.message.setWordWrap(True)
        self.grid = CompareGrid()
        self.dim = QGraphicsOpacityEffect(self.grid)
        self.dim.setOpacity(1.0)
        self.grid.setGraphicsEffect(self.dim)
        self.playback = ComparePlayback(self.grid, transport, self.message.setText)
        layout = QVBoxLayout(self)
        layout.addLayout(picks)
        layout.addWidget(self.message)
        layout.addWidget(self.grid, 1)
        layout.addLayout(self.playback.row())

        self.rerender_timer = QTimer(self)
        self.rerender_timer.setSingleShot(True)
        self.rerender_timer.setInterval(RERENDER_DELAY_MS)
        self.rerender_timer.timeout.connect(self._rerender)
        model.events.edited.connect(self._on_document_changed)
        model.events.vocoder.connect(self._on_settings_changed)
        model.events.removed.connect(self._on_document_closed)
        model.events.playing.connect(self._on_transport_playing)

    def _picks_row(self) -> QHBoxLayout:
        """The top row: a check box per ready vocoder, Compare, Cancel, the progress bar, Follow edits."""
        self.vocoder_boxes: dict[str, QCheckBox] = {}
        picks = QHBoxLayout()
        picks.addWidget(QLabel("Vocoders:"))
        ready = [e for e in list_vocoders() if e.unavailable_reason() is None]
        default = {DEFAULT_VOCODER, "griffin-lim"}
        for entry in ready:
            box = QCheckBox(entry.label)
            box.setToolTip(entry.summary() or entry.weights)
            box.setChecked(entry.name in default)
            box.setFocusPolicy(Qt.FocusPolicy.NoFocus)  # digits go to the view's switching keys
            self.vocoder_boxes[entry.name] = box
            picks.addWidget(box)
        picks.addStretch(1)
        self.compare_button = QPushButton("Compare")
        self.compare_button.setToolTip("Render the selection (or the whole document) with each checked vocoder")
        self.compare_button.clicked.connect(self.compare)
        self.cancel_button = QPushButton("Cancel")
        self.cancel_button.setEnabled(False)
        self.cancel_button.clicked.connect(self.cancel)
        self.progress = QProgressBar()
        self.progress.setRange(0, 1000)
        self.progress.setFixedWidth(160)
        self.progress.setTextVisible(False)
        self.phase_button = QPushButton("Phase…")
        self.phase_button.setToolTip("The phase of each output beside the original's, and Griffin-Lim's convergence")
        self.phase_button.clicked.connect(self.show_phase)
        self.image_button = QPushButton("Image…")
        self.image_button.setToolTip("Save the comparison as drawn as a PNG or SVG picture")
        self.image_button.clicked.connect(self.export_image_dialog)
        for button in (self.compare_button, self.cancel_button, self.phase_button, self.image_button):
            button.setAutoDefault(False)
            button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
            picks.addWidget(button)
        picks.addWidget(self.progress)
        self.follow_box = QCheckBox("Follow edits")
        self.follow_box.setToolTip("Render again by itself when the compared document is edited")
        self.follow_box.setChecked(True)
        self.follow_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        picks.addWidget(self.follow_box)
        return picks

    def _on_transport_playing(self, playing: bool) -> None:
        if playing:  # one sound at a time: the window's Play stops the comparison's
            self.playback.stop()

    # ----- what to compare -----
    def set_vocoders(self, names: list[str]) -> None:
        """Check exactly the vocoders ``names`` (in the registry's order).

        Raises:
            KeyError: a name that is not a ready vocoder.
        """
        for name in names:
            if name not in self.vocoder_boxes:
                raise KeyError(name)
        for name, box in self.vocoder_boxes.items():
            box.setChecked(name in names)

    def choices(self) -> list[VocoderChoice]:
        """The checked vocoders with the model's vocoder settings (the device, each one's parameters)."""
        return [self.model.choice_for(name) for name, box in self.vocoder_boxes.items() if box.isChecked()]

    @staticmethod
    def range_of(doc: Document) -> tuple[int, int]:
        """The frames compared: the selection's, else the whole document."""
        if is_selection_range(doc.frames, doc.selection):
            assert doc.selection is not None
            return max(0, doc.selection.frame0), min(doc.frames, doc.selection.frame1)
        return 0, doc.frames

    # ----- the job -----
    def compare(self, doc: Document | None = None) -> bool:
        """Render ``doc``'s selection (or all of it) with each checked vocoder on the worker; ``doc`` defaults
        to the active document. A compare job under way is cancelled (its finished takes stay cached).

        Returns False (and says why) without a document or with fewer than two vocoders checked.
        """
        self.rerender_timer.stop()
        doc = doc if doc is not None else self.model.active
        choices = self.choices()
        if doc is None or doc.frames == 0:
            self.message.setText("Open a document to compare vocoders on.")
            return False
        if len(choices) < 2:
            self.message.setText("Check two or more vocoders to compare.")
            return False
        self.cancel()
        start, end = self.range_of(doc)
        try:
            job = self.cache.job(doc.mel.copy(), doc.uid, doc.version, start, end, choices, doc.source, doc.config)
        except VocoderStudioError as exc:
            self.message.setText(str(exc))
            return False
        seconds = doc.config.frame_seconds
        what = "the selection" if (start, end) != (0, doc.frames) else "the whole document"
        self.message.setText(f"Rendering {what} ({format_time(start * seconds)}–{format_time(end * seconds)}) "
                             f"with {', '.join(c.name for c in choices)}…")
        self.progress.setValue(0)
        self.cancel_button.setEnabled(True)
        self._followed = doc.uid

        def run(progress: Any, cancel: CancelToken) -> Comparison:
            return job(progress, cancel)

        handle = self.runner.submit(COMPARE_LABEL, run, on_result=self._on_result, on_error=self._on_error,
                                    lane=LONG_LANE)
        handle.events.progress.connect(self._on_progress)
        handle.events.cancelled.connect(self._on_cancelled)
        self._job = handle
        return True

    def cancel(self) -> None:
        """Stop a compare job under way, or one waiting to follow an edit (its finished takes stay cached)."""
        self.rerender_timer.stop()
        self._drop_job()
        self.cancel_button.setEnabled(False)

    def _drop_job(self) -> None:
        """Cancel the job under way (its result will never be shown)."""
        if self._job is not None:
            self._job.cancel()
        self._job = None

    @property
    def busy(self) -> bool:
        """Whether a compare job runs or is about to (an edit waiting for :data:`RERENDER_DELAY_MS`)."""
        return self._job is not None or self.rerender_timer.isActive()

    @property
    def outdated(self) -> bool:
        """Whether the result shown is of a version the document has moved past (shown dimmed)."""
        result = self.comparison
        doc = None if result is None else self._document(result.uid)
        return doc is not None and result is not None and doc.version != result.version

    def _document(self, uid: int) -> Document | None:
        """The open document ``uid``, or None."""
        return self.model.document(uid)

    def _newer_job_pending(self) -> bool:
        return self.rerender_timer.isActive() or (self._job is not None and not self._job.cancelled)

    def _on_progress(self, fraction: float, message: str) -> None:
        self.progress.setValue(int(round(1000 * fraction)))
        self.progress.setToolTip(message)

    def _on_cancelled(self) -> None:
        if not self._newer_job_pending():  # not a job a newer one replaced
            self._job = None
            self.cancel_button.setEnabled(False)
            self.progress.setValue(0)
            self.message.setText("Compare cancelled.")

    def _on_error(self, message: str) -> None:
        self._job = None
        self.cancel_button.setEnabled(False)
        self.progress.setValue(0)
        self.message.setText(message)

    def _on_document_changed(self, doc: Document) -> None:
        if doc.uid != self._followed:
            return
        if self.comparison is not None and self.comparison.uid == doc.uid:
            self.dim.setOpacity(OUTDATED_OPACITY)
        if self.isVisible() and self.follow_box.isChecked():
            self._drop_job()  # its result would be of an older version
            self.rerender_timer.start()  # restarted by each edit: renders once the edits pause
            self.cancel_button.setEnabled(True)
            self.progress.setValue(0)
            self.message.setText("The document changed: rendering it again when the edits pause "
                                 "(only what the edit reaches is vocoded again)…")
        elif self.comparison is not None and self.comparison.uid == doc.uid:
            self.message.setText("The document changed since: press Compare to render it again "
                                 "(only what the edit reaches is vocoded again).")

    def _on_settings_changed(self, _choice: VocoderChoice | None = None) -> None:
        """A vocoder's parameters or the device changed in the panel: the takes it shows were rendered with the
        old settings, so render again once the changes pause (the other takes come from the cache)."""
        if self.comparison is None or self._followed is None:
            return
        if self.isVisible() and self.follow_box.isChecked():
            self._drop_job()
            self.dim.setOpacity(OUTDATED_OPACITY)
            self.rerender_timer.start()
            self.cancel_button.setEnabled(True)
            self.progress.setValue(0)
            self.message.setText("The vocoder settings changed: rendering again when the changes pause…")
        else:
            self.message.setText("The vocoder settings changed since: press Compare to render again.")

    def _rerender(self) -> None:
        """The edits paused: render the followed document again (if the view is still open)."""
        doc = None if self._followed is None else self._document(self._followed)
        if doc is not None and self.isVisible():
            self.compare(doc)

    def _on_document_closed(self, doc: Document) -> None:
        self.cache.forget(doc.uid)
        if doc.uid == self._followed:
            self.rerender_timer.stop()
            self._followed = None

    def _on_result(self, result: Comparison) -> None:
        """The job's result (a replaced job's never comes): shown unless the document moved on and is followed."""
        doc = self._document(result.uid)
        if doc is not None and doc.version != result.version and self.rerender_timer.isActive():
            return  # the document changed while it rendered: the new rendering is on its way
        self.show_comparison(result)

    def show_phase(self) -> QDialog | None:
        """Open the Phase view (:mod:`vocoder_studio.ui.phase_view`) of the comparison shown, if any."""
        from vocoder_studio.ui.phase_view import PhaseView

        if self.comparison is None:
            self.message.setText("Compare first: the Phase view shows the phase of the compared outputs.")
            return None
        view = PhaseView(self.comparison, [t.choice.title() for t in self.comparison.takes], self)
        view.show()
        return view

    # ----- showing -----
    def _levels(self) -> tuple[float, float]:
        canvas = self.active_canvas()
        return canvas.levels() if canvas is not None else DEFAULT_LEVELS

    def show_comparison(self, result: Comparison) -> None:
        """Show ``result``: a row per take (the original first), each with its difference map and scores.

        Playing the same range of the same document (a re-rendering after an edit), playback goes on at the
        same time with the new takes (:meth:`ComparePlayback.load`); otherwise it stops.
        """
        previous = self.comparison
        keep = (previous is not None and self.playback.is_playing
                and (previous.uid, previous.start, previous.end) == (result.uid, result.start, result.end))
        self._job = None
        self.cancel_button.setEnabled(False)
        self.progress.setValue(1000)
        self.comparison = result
        self.grid.draw(result, self._levels())
        self.playback.load(result, keep)
        self.dim.setOpacity(1.0)
        seconds = result.config.frame_seconds
        done = f"{len(result.takes)} vocoders on {format_time(result.start * seconds)}–" \
               f"{format_time(result.end * seconds)}"
        self.message.setText(f"{done}. mel-L1: the output analysed again against the document's mel (lower is "
                             f"closer). {result.note}".strip())
        if self.outdated:  # shown all the same: nothing is on its way (Follow edits is off, or hidden)
            self.dim.setOpacity(OUTDATED_OPACITY)
            self.message.setText("The document changed since: press Compare to render it again "
                                 "(only what the edit reaches is vocoded again).")
        self.comparisonShown.emit(result)

    def export_image(self, path: str | os.PathLike[str], width: int | None = None) -> Path:
        """Write the comparison shown, as drawn, to ``path`` (.png or .svg; PNG ``width`` in pixels, default the
        view's own).

        Raises:
            AudioFileError: no comparison shown yet, another suffix, or the file cannot be written.
        """
        return self.grid.export(path, width)

    def export_image_dialog(self) -> Path | None:
        """Ask where to save a picture of the comparison shown and write it (errors go to the message line)."""
        if self.comparison is None:
            self.message.setText("Compare first: the picture is of the comparison shown.")
            return None
        path = ask_image_path(self, "Export image of the comparison", "compare.png") if self.model.interactive \
            else None
        if path is None:
            return None
        try:
            written = self.export_image(path)
        except VocoderStudioError as exc:
            self.message.setText(str(exc))
            return None
        self.message.setText(f"Exported image {written}")
        return written

    # ----- keys, closing -----
    def keyPressEvent(self, event: QKeyEvent) -> None:  # noqa: N802 (Qt naming)
        key = event.key()
        if Qt.Key.Key_0 <= key <= Qt.Key.Key_9 and not event.modifiers() & ~Qt.KeyboardModifier.KeypadModifier:
            self.playback.select(int(key) - int(Qt.Key.Key_0))
            event.accept()
            return
        if key == Qt.Key.Key_Space:
            self.playback.toggle()
            event.accept()
            return
        super().keyPressEvent(event)

    def done(self, result: int) -> None:
        """Closing the view stops its playback and its job."""
        self.shutdown()
        super().done(result)

    def shutdown(self) -> None:
        """Stop playback and cancel the job (the window's shutdown calls it)."""
        self.playback.stop()
        self.cancel()

    def closeEvent(self, event: Any) -> None:  # noqa: N802
        self.shutdown()
        super().closeEvent(event)


def open_compare(model: AppModel, runner: JobRunner, cache: RenderCache, transport: Transport,
                 active_canvas: Callable[[], SpectrogramCanvas | None], window: QWidget) -> CompareDialog:
    """Show ``window``'s Compare view (made on first use, kept with its cache) and return it; the arguments are
    :class:`CompareDialog`'s."""
    dialog = compare_dialog(window)
    if dialog is None:
        dialog = CompareDialog(model, runner, cache, transport, active_canvas, window)
    dialog.show()
    dialog.raise_()
    dialog.activateWindow()
    return dialog


def compare_dialog(window: QWidget) -> CompareDialog | None:
    """``window``'s Compare view if it was opened, else None."""
    return window.findChild(CompareDialog)
