"""Follow playback in the window: the View menu's Page / Scroll / Off items and the toolbar toggle; each
canvas's view follows its playhead (the rule: :func:`vocoder_studio.engine.follow.follow_range`)."""

from __future__ import annotations

from PySide6.QtCore import QObject, Signal
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMenu, QWidget

from vocoder_studio.engine.follow import FollowMode, follow_range
from vocoder_studio.ui.canvas import SpectrogramCanvas

_LABELS = {FollowMode.PAGE: "&Page", FollowMode.SCROLL: "&Scroll", FollowMode.OFF: "&Off"}


class FollowPlayback(QObject):
    """The follow mode and its actions.

    Attributes:
        mode: the current :class:`FollowMode` (Page by default, as in Sonic Visualiser).
        toggle_action: the toolbar's check button: on follows in the last mode used (Page at first), off stops.
    Signals:
        modeChanged(str): the mode's value ("page", "scroll", "off").
    """

    modeChanged = Signal(str)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.mode = FollowMode.PAGE
        self._last_on = FollowMode.PAGE
        self.group = QActionGroup(self)
        self.actions: dict[FollowMode, QAction] = {}
        for mode in FollowMode:
            action = QAction(_LABELS[mode], self, checkable=True)
            action.triggered.connect(lambda _=False, m=mode: self.set_mode(m))
            self.group.addAction(action)
            self.actions[mode] = action
        self.toggle_action = QAction("Follow", self, checkable=True)
        self.toggle_action.setToolTip("Follow playback: the view moves with the playhead (View ▸ Follow playback)")
        self.toggle_action.triggered.connect(lambda on: self.set_mode(self._last_on if on else FollowMode.OFF))
        self.set_mode(FollowMode.PAGE)

    def set_mode(self, mode: FollowMode | str) -> None:
        """Follow in ``mode`` (a :class:`FollowMode` or its value; an unknown value means Page)."""
        try:
            mode = FollowMode(mode)
        except ValueError:
            mode = FollowMode.PAGE
        self.mode = mode
        if mode != FollowMode.OFF:
            self._last_on = mode
        self.actions[mode].setChecked(True)
        self.toggle_action.setChecked(mode != FollowMode.OFF)
        self.modeChanged.emit(mode.value)

    def attach(self, canvas: SpectrogramCanvas) -> None:
        """Make ``canvas``'s view follow its playhead."""
        canvas.playhead.sigPositionChanged.connect(lambda line, c=canvas: self._moved(c, float(line.value())))

    def _moved(self, canvas: SpectrogramCanvas, seconds: float) -> None:
        if not canvas.playhead.isVisible():
            return
        view, _ = canvas.view_range()
        extent, _ = canvas.full_range()
        target = follow_range(self.mode, view, seconds, extent)
        if target is not None:
            canvas.viewbox.setXRange(*target, padding=0.0)

    def menu(self, parent: QWidget) -> QMenu:
        menu = QMenu("&Follow playback", parent)
        for action in self.actions.values():
            menu.addAction(action)
        return menu
