"""The window's message boxes and where its file dialogs start; the safe answer is always the default."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import Qt
from PySide6.QtWidgets import QMessageBox, QWidget

from vocoder_studio.paths import APP_TITLE


def dialog_start_folder(last: object, home: Path | None = None) -> Path:
    """Where a file dialog opens: the last folder used (``last``, a path from the settings) if it still exists,
    else the home folder — never the folder a file was opened from (the example sits in the package)."""
    if isinstance(last, (str, Path)) and str(last) and Path(last).is_dir():
        return Path(last)
    return home if home is not None else Path.home()


def discard_prompt(parent: QWidget | None, question: str) -> QMessageBox:
    """A "discard the changes?" box whose default (Enter) and escape buttons are Cancel: only an explicit
    click on Discard throws work away."""
    box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE, question,
                      QMessageBox.StandardButton.Discard | QMessageBox.StandardButton.Cancel, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    return box


def confirm_discard(parent: QWidget | None, question: str) -> bool:
    """Ask :func:`discard_prompt` (modal); True only if the user chose Discard."""
    return discard_prompt(parent, question).exec() == QMessageBox.StandardButton.Discard


def confirm_recovery(parent: QWidget | None, count: int) -> bool:
    """Ask whether to reopen ``count`` autosaved documents; Yes (keep them) is the default, No deletes them."""
    box = QMessageBox(QMessageBox.Icon.Question, APP_TITLE,
                      f"Vocoder Studio did not close cleanly. Recover {count} unsaved document(s)?",
                      QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.No, parent)
    box.setDefaultButton(QMessageBox.StandardButton.Yes)
    return box.exec() == QMessageBox.StandardButton.Yes


def error_box(parent: QWidget, message: str) -> None:
    """A non-blocking warning box."""
    box = QMessageBox(QMessageBox.Icon.Warning, APP_TITLE, message, QMessageBox.StandardButton.Ok, parent)
    box.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
    box.open()
