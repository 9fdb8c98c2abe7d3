"""View commands: fit, zoom, the colour range, and the split view on or off."""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QObject, Signal

from vocoder_studio.engine.app_model import AppModel
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.split_view import SplitView

CanvasFn = Callable[[], SpectrogramCanvas | None]


class ViewCommands(QObject):
    """The View menu's commands.

    Args:
        model: the application model (its messages).
        current_canvas, active_canvas: the current tab's canvas; the canvas last clicked (see ``AppModel.active``).
        split: the split view.
    Signals:
        splitChanged(bool): the split view was turned on or off (the action's check mark follows it).
    """

    splitChanged = Signal(bool)

    def __init__(self, model: AppModel, current_canvas: CanvasFn, active_canvas: CanvasFn, split: SplitView,
                 parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.model, self.current_canvas, self.active_canvas, self.split = model, current_canvas, active_canvas, split

    def fit(self) -> None:
        """Show the whole spectrogram in both canvases."""
        for canvas in (self.current_canvas(), self.split.canvas):
            if canvas is not None:
                canvas.fit()

    def zoom(self, factor: float) -> None:
        canvas = self.active_canvas()
        if canvas is not None:
            canvas.zoom(factor)

    def reset_levels(self) -> None:
        """The colour range from the document's levels (where the canvas offers ``auto_levels``)."""
        auto_levels = getattr(self.active_canvas(), "auto_levels", None)
        if callable(auto_levels):
            auto_levels()
        else:
            self.model.say("this canvas has no automatic colour range")

    def set_split_view(self, on: bool) -> None:
        """Show or hide the second canvas (the current tab's read-only original unless another was chosen)."""
        self.splitChanged.emit(bool(on))
        self.split.set_on(on)
