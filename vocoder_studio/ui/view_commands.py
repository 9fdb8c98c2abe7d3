"""View commands: fit, zoom, the colour range, and the split view on or off."""

from __future__ import annotations

from typing import TYPE_CHECKING

from PySide6.QtCore import QObject

if TYPE_CHECKING:
    from vocoder_studio.ui.main_window import MainWindow


class ViewCommands(QObject):
    """The View menu's commands for ``window``."""

    def __init__(self, window: MainWindow) -> None:
        super().__init__(window)
        self.window = window

    def fit(self) -> None:
        """Show the whole spectrogram in both canvases."""
        for canvas in (self.window.current_canvas(), self.window.split.canvas):
            if canvas is not None:
                canvas.fit()

    def zoom(self, factor: float) -> None:
        canvas = self.window.active_canvas()
        if canvas is not None:
            canvas.zoom(factor)

    def reset_levels(self) -> None:
        """The colour range from the document's levels (where the canvas offers ``auto_levels``)."""
        auto_levels = getattr(self.window.active_canvas(), "auto_levels", None)
        if callable(auto_levels):
            auto_levels()
        else:
            self.window.show_status("this canvas has no automatic colour range")

    def set_split_view(self, on: bool) -> None:
        """Show or hide the second canvas (the current tab's read-only original unless another was chosen)."""
        self.window.window_actions.split_action.setChecked(bool(on))
        self.window.split.set_on(on)
