"""The session: autosave of unsaved work, recovery after a crash, and what closing the window does."""

from __future__ import annotations

from pathlib import Path

from PySide6.QtCore import QObject, QTimer
from PySide6.QtWidgets import QWidget

from vocoder_studio.autosave import Autosaver, pending_recoveries
from vocoder_studio.document import Document
from vocoder_studio.engine.app_model import AppModel
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.ui.dialogs import confirm_discard, confirm_recovery
from vocoder_studio.ui.tabs import DocumentTabs

#: How often documents with unsaved changes are autosaved for crash recovery.
AUTOSAVE_INTERVAL_MS = 20_000


class Session(QObject):
    """Autosaves the model's documents that have unsaved changes, recovers them after a crash, and asks
    before a close throws changes away.

    Args:
        model: the application model (its documents; recovered ones are opened into it).
        tabs: the tabs showing the documents (a recovered one's title says so).
        parent: the owner and the parent of the dialogs.
        autosaver: where autosaves go (default: the user's autosave folder).
    """

    def __init__(self, model: AppModel, tabs: DocumentTabs, parent: QWidget,
                 autosaver: Autosaver | None = None) -> None:
        super().__init__(parent)
        self.model, self.tabs, self.parent_widget = model, tabs, parent
        self.autosaver = autosaver or Autosaver()
        self.timer = QTimer(self)
        self.timer.setInterval(AUTOSAVE_INTERVAL_MS)
        self.timer.timeout.connect(self.autosave_now)
        self.timer.start()
        model.events.added.connect(lambda doc, _path: self.autosaver.track(doc))
        model.events.removed.connect(self.autosaver.forget)
        model.events.saved.connect(lambda doc, _path: self.autosaver.mark_clean(doc))

    def autosave_now(self) -> list[Path]:
        """Autosave every document whose content changed since it was opened or saved; returns the files
        written (unchanged documents have no autosave, so a kill never offers them for recovery)."""
        written = []
        for doc in self.model.documents:
            try:
                path = self.autosaver.save(doc)
            except OSError as exc:
                self.model.say(f"autosave failed: {exc}")
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
        model = self.model
        found = pending_recoveries(self.autosaver.folder, exclude=self.autosaver.tracked_paths())
        if not found:
            return 0
        if (model.interactive if ask is None else ask) and not confirm_recovery(self.parent_widget, len(found)):
            for path in found:
                path.unlink(missing_ok=True)
            return 0
        count = 0
        for path in found:
            try:
                doc = self.autosaver.recover(path)
            except VocoderStudioError as exc:
                model.fail(str(exc))
                continue
            if doc is None:  # another copy of the app recovered it first
                continue
            self._open_recovered(doc)
            count += 1
        model.say(f"recovered {count} unsaved document(s)")
        return count

    def _open_recovered(self, doc: Document) -> None:
        self.model.add(doc, Path(doc.source) if doc.source else None)
        tab = self.tabs.tab_of(doc)
        if tab is not None:
            self.tabs.setTabText(self.tabs.indexOf(tab), f"{tab.name} (recovered)")

    def may_close(self) -> bool:
        """Whether the window may close: no unsaved changes, dialogs off, or the user chose Discard."""
        if not self.model.interactive:
            return True
        unsaved = [tab.name for tab in self.tabs if tab.doc.modified]
        question = f"Quit and discard the changes to {', '.join(unsaved)}?"
        return not unsaved or confirm_discard(self.parent_widget, question)

    def shutdown(self) -> None:
        """Stop autosaving and remove this session's autosaves (a clean exit leaves none)."""
        self.timer.stop()
        for doc in self.model.documents:
            self.autosaver.forget(doc)
        self.autosaver.close()
