"""The session: autosave of unsaved work, recovery after a crash, and what closing the window does."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from PySide6.QtCore import QObject, QTimer

from vocoder_studio.autosave import Autosaver, pending_recoveries
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.ui.dialogs import confirm_discard, confirm_recovery

if TYPE_CHECKING:
    from vocoder_studio.ui.main_window import MainWindow

#: How often documents with unsaved changes are autosaved for crash recovery.
AUTOSAVE_INTERVAL_MS = 20_000


class Session(QObject):
    """Autosaves ``window``'s documents that have unsaved changes, recovers them after a crash, and asks
    before a close throws changes away."""

    def __init__(self, window: MainWindow, autosaver: Autosaver | None = None) -> None:
        super().__init__(window)
        self.window = window
        self.autosaver = autosaver or Autosaver()
        self.timer = QTimer(self)
        self.timer.setInterval(AUTOSAVE_INTERVAL_MS)
        self.timer.timeout.connect(self.autosave_now)
        self.timer.start()
        window.tabs.tabOpened.connect(lambda tab: self.autosaver.track(tab.doc))
        window.tabs.tabClosing.connect(lambda tab: self.autosaver.forget(tab.doc))

    def autosave_now(self) -> list[Path]:
        """Autosave every document whose content changed since it was opened or saved; returns the files
        written (unchanged documents have no autosave, so a kill never offers them for recovery)."""
        written = []
        for tab in self.window.tabs:
            try:
                path = self.autosaver.save(tab.doc)
            except OSError as exc:
                self.window.show_status(f"autosave failed: {exc}")
                continue
            if path is not None:
                written.append(path)
        return written

    def recover_autosaves(self, ask: bool | None = None) -> int:
        """Reopen documents autosaved by a session that did not close cleanly; returns how many.

        Only files whose owner is gone are offered (another running copy's autosaves are its own). A recovered
        file stays on disk, now this session's, until the document is autosaved again, saved or closed; a file
        that fails to load is set aside and reported once, and the window starts anyway.
        """
        window = self.window
        found = pending_recoveries(self.autosaver.folder, exclude=self.autosaver.tracked_paths())
        if not found:
            return 0
        if (window.show_dialogs if ask is None else ask) and not confirm_recovery(window, len(found)):
            for path in found:
                path.unlink(missing_ok=True)
            return 0
        count = 0
        for path in found:
            try:
                doc = self.autosaver.recover(path)
            except VocoderStudioError as exc:
                window.show_error(str(exc))
                continue
            if doc is None:  # another copy of the app recovered it first
                continue
            tab = window.add_document(doc, Path(doc.source) if doc.source else None)
            window.tabs.setTabText(window.tabs.indexOf(tab), f"{tab.name} (recovered)")
            count += 1
        window.show_status(f"recovered {count} unsaved document(s)")
        return count

    def may_close(self) -> bool:
        """Whether the window may close: no unsaved changes, dialogs off, or the user chose Discard."""
        if not self.window.show_dialogs:
            return True
        unsaved = [tab.name for tab in self.window.tabs if tab.doc.modified]
        return not unsaved or confirm_discard(self.window, f"Quit and discard the changes to {', '.join(unsaved)}?")

    def shutdown(self) -> None:
        """Stop autosaving and remove this session's autosaves (a clean exit leaves none)."""
        self.timer.stop()
        for tab in self.window.tabs:
            self.autosaver.forget(tab.doc)
        self.autosaver.close()
