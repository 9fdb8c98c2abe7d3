"""The window carries the studio's icon and names its desktop entry (what ``vocoder-studio install-desktop``
writes), so a desktop shows the same icon in the menu, the title bar and the task switcher."""

from __future__ import annotations


def test_the_window_carries_the_icon_and_names_its_desktop_entry(window) -> None:
    from PySide6.QtWidgets import QApplication

    app = QApplication.instance()
    assert isinstance(app, QApplication)
    assert app.desktopFileName() == "vocoder-studio"
    icon = window.windowIcon()  # a window without its own icon shows the application's
    assert not icon.isNull()
    image = icon.pixmap(64, 64).toImage()
    assert len({image.pixel(x, y) for x in range(0, 64, 4) for y in range(0, 64, 4)}) > 5  # drawn, not blank
