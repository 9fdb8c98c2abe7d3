"""The workstation features composed for the window: colour maps and levels (``ui/levels.py``), follow
playback (``ui/follow.py``) and the settings that persist (``ui/settings.py``); their menu items and toolbar
button. The window makes one :class:`Workstation`, attaches each canvas to it, and lets it restore the settings
at start and save them at close.
"""

from __future__ import annotations

from collections.abc import Callable

from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction
from PySide6.QtWidgets import QMainWindow, QMenu, QMenuBar, QToolBar

from vocoder_studio.engine.app_model import AppModel
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.follow import FollowPlayback
from vocoder_studio.ui.levels import ColormapChoice, attach_display
from vocoder_studio.ui.panels import VocoderPanel
from vocoder_studio.ui.settings import WindowSettings, set_aside_damaged


def menu_named(bar: QMenuBar, title: str) -> QMenu | None:
    """The menu of ``bar`` whose title, without ``&``, is ``title``."""
    for action in bar.actions():
        menu = action.menu()
        if isinstance(menu, QMenu) and action.text().replace("&", "") == title:
            return menu
    return None


class Workstation:
    """Colour maps, follow playback and settings for one window.

    Args:
        window: the main window (menus, geometry and dock layout).
        model: the application model (messages).
        panel: the vocoder panel (its settings persist).
        active_canvas: gives the canvas the View menu's colour map applies to.
    Attributes:
        colormaps, follow, settings: the parts. settings_message: what :func:`set_aside_damaged` said at start.
    """

    def __init__(self, window: QMainWindow, model: AppModel, panel: VocoderPanel,
                 active_canvas: Callable[[], SpectrogramCanvas | None]) -> None:
        self.model = model
        self.settings_message = set_aside_damaged()
        self.colormaps = ColormapChoice(active_canvas, window)
        self.follow = FollowPlayback(window)
        self.settings = WindowSettings(window, panel, self.colormaps, self.follow)

    def install(self, bar: QMenuBar, view_bar: QToolBar) -> None:
        """Add the View menu's *Colour map* and *Follow playback* menus and the toolbar's Follow button."""
        view_bar.addSeparator()
        view_bar.addAction(self.follow.toggle_action)
        view = menu_named(bar, "View")
        if view is not None and view.actions():
            first: QAction = view.actions()[0]
            view.insertMenu(first, self.colormaps.menu(view))
            view.insertMenu(first, self.follow.menu(view))
            view.insertSeparator(first)

    def attach(self, canvas: SpectrogramCanvas) -> None:
        """Show ``canvas`` with its document's display, add its levels box, make it follow playback."""
        attach_display(canvas, self.colormaps.current)
        self.follow.attach(canvas)
        canvas.activated.connect(lambda c=canvas: self.colormaps.follow(c))

    def restore(self) -> None:
        """Apply the saved settings; say once if the settings file was damaged and set aside."""
        self.settings.restore()
        if self.settings_message:  # once the event loop runs: after the "opened …" of the files given at start
            QTimer.singleShot(0, lambda: self.model.say(self.settings_message or ""))

    def save(self) -> None:
        self.settings.save()
