"""Where the window's widgets sit: tabs and split view side by side in the centre, the vocoder dock on the
right, the transport, view and tool bars on top."""

from __future__ import annotations

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QDockWidget, QMainWindow, QSplitter, QToolBar, QWidget


def central_splitter(window: QMainWindow, left: QWidget, right: QWidget) -> QSplitter:
    """``left | right`` at equal stretch as the window's central widget."""
    splitter = QSplitter(Qt.Orientation.Horizontal)
    splitter.addWidget(left)
    splitter.addWidget(right)
    splitter.setStretchFactor(0, 1)
    splitter.setStretchFactor(1, 1)
    window.setCentralWidget(splitter)
    return splitter


def right_dock(window: QMainWindow, title: str, name: str, widget: QWidget, min_width: int = 250) -> QDockWidget:
    """``widget`` in a movable, floatable (not closable) dock on the right."""
    dock = QDockWidget(title, window)
    dock.setObjectName(name)
    dock.setWidget(widget)
    dock.setFeatures(QDockWidget.DockWidgetFeature.DockWidgetMovable
                     | QDockWidget.DockWidgetFeature.DockWidgetFloatable)
    dock.setMinimumWidth(min_width)
    window.addDockWidget(Qt.DockWidgetArea.RightDockWidgetArea, dock)
    return dock


def top_bars(window: QMainWindow, *bars: QToolBar) -> None:
    """Tool bars on top, in order."""
    for bar in bars:
        window.addToolBar(bar)
