"""File commands: open (and recent files), close a tab, save a project, export WAV; where their dialogs start."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from PySide6.QtCore import QObject, QSettings
from PySide6.QtWidgets import QFileDialog, QMenu, QWidget

from vocoder_studio.document import Document
from vocoder_studio.engine.app_model import AppModel
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.documents import open_checked
from vocoder_studio.engine.export import export_job
from vocoder_studio.engine.settings import MAX_RECENT
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.project_file import PROJECT_SUFFIX
from vocoder_studio.ui.dialogs import confirm_discard, dialog_start_folder
from vocoder_studio.ui.settings import qsettings, read
from vocoder_studio.ui.tabs import DocumentTab, DocumentTabs
from vocoder_studio.ui.worker import JobFn, JobRunner

OPEN_FILTER = ("Audio, mel or project (*.wav *.flac *.ogg *.oga *.mp3 *.opus *.aiff *.aif *.npy *.vsproj);;"
               "All files (*)")
#: Settings keys.
RECENT_KEY, FOLDER_KEY = "recent_files", "last_folder"


def settings() -> QSettings:
    """The app's settings file (in :func:`vocoder_studio.paths.config_dir`; see ``ui/settings.py``)."""
    return qsettings()


class FileCommands(QObject):
    """Open, close, save and export the model's documents; remembers recent files and the last folder used.

    Args:
        model: the application model (documents are opened into it and closed from it; its messages).
        tabs: the tabs showing the documents (names and paths for the dialogs).
        runner, cache: the worker exports run on, and the vocoders they use.
        parent: the owner and the parent of the file dialogs.
    """

    def __init__(self, model: AppModel, tabs: DocumentTabs, runner: JobRunner, cache: RenderCache,
                 parent: QWidget) -> None:
        super().__init__(parent)
        self.model, self.tabs, self.runner, self.cache, self.parent_widget = model, tabs, runner, cache, parent

    # ----- recent files and folders -----
    def recent(self) -> list[Path]:
        return [Path(v) for v in read(RECENT_KEY)]

    def add_recent(self, path: Path) -> None:
        path = Path(path).resolve()
        items = [str(path)] + [str(p) for p in self.recent() if p != path]
        settings().setValue(RECENT_KEY, items[:MAX_RECENT])

    def fill_recent_menu(self, menu: QMenu) -> None:
        menu.clear()
        recent = [p for p in self.recent() if p.exists()]
        for path in recent:
            action = menu.addAction(path.name)
            action.setToolTip(str(path))
            action.triggered.connect(lambda _=False, p=path: self.open_path(p))
        if not recent:
            menu.addAction("(none)").setEnabled(False)

    def start_folder(self) -> Path:
        """Where the open, save and export dialogs start: the last folder used, else the home folder."""
        return dialog_start_folder(settings().value(FOLDER_KEY))

    def remember_folder(self, chosen: Path) -> None:
        settings().setValue(FOLDER_KEY, str(Path(chosen).resolve().parent))

    def suggested_path(self, suffix: str, fallback: str) -> Path:
        """A file name for a save/export dialog: the current tab's name with ``suffix`` in :meth:`start_folder`."""
        tab = self.tabs.tab()
        stem = Path(tab.name).stem if tab is not None and (tab.path or tab.doc.project_path) else fallback
        return self.start_folder() / f"{stem}{suffix}"

    # ----- open and close -----
    def open_dialog(self) -> None:
        if not self.model.interactive:
            return
        name, _ = QFileDialog.getOpenFileName(self.parent_widget, "Open", str(self.start_folder()), OPEN_FILTER)
        if name:
            self.remember_folder(Path(name))
            self.open_path(Path(name))

    def open_path(self, path: Path) -> DocumentTab | None:
        """Open an audio file, ``.npy`` mel or project into the model (a new tab; errors go to the model's error
        event)."""
        path = Path(path)
        try:
            doc = open_checked(path)
        except VocoderStudioError as exc:
            self.model.fail(str(exc))
            return None
        self.model.add(doc, path)
        tab = self.tabs.tab_of(doc)
        self.add_recent(path)
        self.model.say(f"opened {path.name}: {doc.frames} frames, {doc.duration:.2f} s")
        return tab

    def close_tab(self, index: int) -> bool:
        """Close tab ``index``; asks first (Cancel is the default) when it has unsaved changes."""
        tab = self.tabs.tab(index)
        if tab is None:
            return False
        if (tab.doc.modified and self.model.interactive
                and not confirm_discard(self.parent_widget, f"Discard the changes to {tab.name}?")):
            return False
        self.model.remove(tab.doc)
        return True

    # ----- save and export -----
    def save_project(self, path: Path | None = None) -> Path | None:
        """Save the current document as a project (asks for a path the first time)."""
        doc = self.model.current
        if doc is None:
            return None
        target = path or doc.project_path
        if target is None:
            return self.save_project_as()
        try:
            saved = doc.save(target)
        except VocoderStudioError as exc:
            self.model.fail(str(exc))
            return None
        self.add_recent(saved)
        self.model.saved(doc, saved)
        self.model.say(f"saved {saved}")
        return saved

    def save_project_as(self, path: Path | None = None) -> Path | None:
        if path is None:
            if not self.model.interactive:
                return None
            name, _ = QFileDialog.getSaveFileName(self.parent_widget, "Save project",
                                                  str(self.suggested_path(PROJECT_SUFFIX, "untitled")),
                                                  f"Vocoder Studio project (*{PROJECT_SUFFIX})")
            if not name:
                return None
            self.remember_folder(Path(name))
            path = Path(name)
            if path.suffix.lower() != PROJECT_SUFFIX:
                path = path.with_suffix(PROJECT_SUFFIX)
        return self.save_project(Path(path))

    def export_dialog(self, selection_only: bool, fmt: str = "pcm16") -> None:
        """Ask where to export (``fmt``: "pcm16" or "float32") and start :meth:`export_wav`."""
        if not self.model.interactive or self.model.current is None:
            return
        name, _ = QFileDialog.getSaveFileName(self.parent_widget, "Export WAV", str(self.suggested_path(".vocoded.wav",
                                                                                        "vocoded")),
                                              "WAV audio (*.wav)")
        if name:
            self.remember_folder(Path(name))
            self.export_wav(Path(name), selection_only, fmt)

    def export_wav(self, path: Path, selection_only: bool = False, fmt: str = "pcm16") -> bool:
        """Vocode the active document (or its selection's frames) on the worker and write ``path``
        (:func:`vocoder_studio.engine.export.export_job`) with the model's vocoder. The model's ``exported`` event
        fires when the file is written; errors go to its error event. False if nothing was started."""
        doc: Document | None = self.model.active
        if doc is None:
            return False
        try:
            job = export_job(doc, path, self.cache, self.model.vocoder, selection_only, fmt)
        except VocoderStudioError as exc:
            self.model.say(str(exc))
            return False

        def done(result: object) -> None:
            self.model.say(f"exported {result}")
            self.model.exported(Path(str(result)))

        self.runner.submit(f"Export {Path(path).name}", cast(JobFn, job), on_result=done)
        return True
