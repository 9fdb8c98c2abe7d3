"""Edit commands on the active canvas: undo/redo, copy/paste, gain, clear, fade, select none.

A read-only document (the split view's original) refuses every command with a status message; copying from
it is allowed.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject
from PySide6.QtWidgets import QInputDialog, QWidget

from vocoder_studio.document import Document, Region
from vocoder_studio.editing import apply_gain, clear_region, copy_region, fade_region, paste
from vocoder_studio.engine.app_model import AppModel, Clip
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.tabs import READ_ONLY_MESSAGE, is_read_only


class EditCommands(QObject):
    """The Edit menu's commands on ``model``'s active document; the clipboard is the model's.

    Args:
        model: the application model (its active document, clipboard and messages).
        active_canvas: the canvas of the active document (paste goes to its cursor; select none clears its
            selection).
        parent: the owner and the parent of the gain dialog.
    """

    def __init__(self, model: AppModel, active_canvas: Callable[[], SpectrogramCanvas | None],
                 parent: QWidget) -> None:
        super().__init__(parent)
        self.model, self.active_canvas, self.parent_widget = model, active_canvas, parent

    @property
    def clipboard(self) -> np.ndarray | None:
        """The cells copied, ``(bands, frames)`` float32, or None."""
        clip = self.model.clipboard
        return None if clip is None else clip.cells

    def _editable(self) -> Document | None:
        doc = self.model.active
        if doc is not None and is_read_only(doc):
            self.model.say(READ_ONLY_MESSAGE)
            return None
        return doc

    def _selection(self, editing: bool = True) -> tuple[Document, Region] | None:
        doc = self._editable() if editing else self.model.active
        if doc is None:
            return None
        if doc.selection is None or doc.selection.empty:
            self.model.say("select a region first (Select tool, S)")
            return None
        return doc, doc.selection

    def _done(self) -> None:
        self.model.commands_changed()

    def undo(self) -> None:
        self._history_step(redo=False)

    def redo(self) -> None:
        self._history_step(redo=True)

    def _history_step(self, redo: bool) -> None:
        doc = self._editable()
        if doc is None:
            return
        label = doc.redo_label if redo else doc.undo_label
        if doc.redo() if redo else doc.undo():
            self.model.say(f"{'redid' if redo else 'undid'} {label}")
        self._done()  # also for a split-view document, which has no history listener here

    def copy(self) -> None:
        sel = self._selection(editing=False)
        if sel is not None:
            doc, region = sel
            cells = copy_region(doc, region)
            self.model.clipboard = Clip(cells, region.band0)
            self.model.say(f"copied {cells.shape[1]} frames × {cells.shape[0]} bands")

    def paste(self) -> None:
        canvas, clip = self.active_canvas(), self.model.clipboard
        if canvas is None or clip is None or self._editable() is None:
            return
        doc = canvas.doc
        if doc.selection is not None:
            frame0, band0 = doc.selection.frame0, doc.selection.band0
        else:
            frame0, band0 = canvas.cursor_frame, clip.band0
        region = paste(doc, clip.cells, frame0, band0)
        self._done()
        self.model.say(f"pasted at {frame0 * doc.config.frame_seconds:.3f} s ({region.cells} cells)")

    def apply_gain_db(self, gain_db: float) -> None:
        sel = self._selection()
        if sel is not None:
            apply_gain(sel[0], sel[1], gain_db)
            self._done()

    def gain_dialog(self) -> None:
        if self.model.interactive and self._selection() is not None:
            value, ok = QInputDialog.getDouble(self.parent_widget, "Selection gain", "Gain (dB):", 6.0, -80.0, 80.0, 1)
            if ok:
                self.apply_gain_db(value)

    def clear_selection(self) -> None:
        sel = self._selection()
        if sel is not None:
            clear_region(*sel)
            self._done()

    def fade(self, fade_in: bool) -> None:
        sel = self._selection()
        if sel is not None:
            fade_region(sel[0], sel[1], fade_in)
            self._done()

    def deselect(self) -> None:
        canvas = self.active_canvas()
        if canvas is not None:
            canvas.set_selection(None)
