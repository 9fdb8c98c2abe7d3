"""The workstation features composed for the window: colour maps and levels (``ui/levels.py``), follow
playback (``ui/follow.py``), the waveform lane (``ui/waveform_lane.py``) and the settings that persist
(``ui/settings.py``); their menu items and toolbar button. The window makes one :class:`Workstation`, attaches
each canvas to it, and lets it restore the settings at start and save them at close.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
from PySide6.QtCore import QTimer
from PySide6.QtGui import QAction, QActionGroup
from PySide6.QtWidgets import QMainWindow, QMenu, QMenuBar, QToolBar

from vocoder_studio.engine.app_model import AppModel
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.solo import PlaySource
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.ui.canvas import SpectrogramCanvas
from vocoder_studio.ui.compare_dialog import compare_dialog
from vocoder_studio.ui.follow import FollowPlayback
from vocoder_studio.ui.image_export import ask_image_path, export_image
from vocoder_studio.ui.levels import ColormapChoice, attach_display
from vocoder_studio.ui.panels import VocoderPanel
from vocoder_studio.ui.settings import WindowSettings, qsettings, read, set_aside_damaged, write
from vocoder_studio.ui.waveform_lane import LaneMode, WaveformLane, add_lane
from vocoder_studio.ui.worker import JobRunner

_LANE_LABELS = {LaneMode.SOURCE: "&Source audio", LaneMode.TAKE: "Vocoded &take", LaneMode.BOTH: "&Both, overlaid"}


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
        runner, cache: the worker (a finished job may have made new audio) and the render cache (the lanes draw
            the audio of the model's vocoder for their document).
        play_source: what the transport vocodes (the Transport menu's *Solo the selected band* sets its ``solo``).
    Attributes:
        colormaps, follow, settings: the parts. lanes: the waveform lanes of the open canvases.
        settings_message: what :func:`set_aside_damaged` said at start.
    """

    def __init__(self, window: QMainWindow, model: AppModel, panel: VocoderPanel,
                 active_canvas: Callable[[], SpectrogramCanvas | None], runner: JobRunner,
                 cache: RenderCache, play_source: PlaySource) -> None:
        self.model, self.cache, self.window, self.active_canvas = model, cache, window, active_canvas
        self.export_image_action = QAction("Export &image…", window)
        self.export_image_action.setToolTip("Save the spectrogram with its axes and colour bar as PNG or SVG")
        self.export_image_action.triggered.connect(lambda: self.export_image_dialog())
        self.export_compare_action = QAction("Export image of the &Compare view…", window)
        self.export_compare_action.setToolTip("Save the comparison shown (each output, its difference map and "
                                              "scores) as PNG or SVG")
        self.export_compare_action.triggered.connect(lambda: self.export_image_dialog(compare=True))
        self.solo_action = QAction("&Solo the selected band", window, checkable=True)
        self.solo_action.setChecked(play_source.solo)
        self.solo_action.setToolTip("Play only the selected frequency band (off: the whole spectrum over the "
                                    "selected time)")
        self.solo_action.toggled.connect(lambda on: setattr(play_source, "solo", bool(on)))
        self.lanes: list[WaveformLane] = []
        self.lane_group = QActionGroup(window)
        self.lane_actions: dict[LaneMode, QAction] = {}
        for mode in LaneMode:
            action = QAction(_LANE_LABELS[mode], window, checkable=True)
            action.setChecked(mode == LaneMode.BOTH)
            action.triggered.connect(lambda _=False, m=mode: self.set_lane_mode(m))
            self.lane_group.addAction(action)
            self.lane_actions[mode] = action
        runner.jobFinished.connect(lambda *_: self.refresh_takes())
        model.events.vocoder.connect(lambda _choice: self.refresh_takes())
        self.settings_message = set_aside_damaged()
        self.colormaps = ColormapChoice(active_canvas, window)
        self.follow = FollowPlayback(window)
        self.settings = WindowSettings(window, panel, self.colormaps, self.follow)

    def install(self, bar: QMenuBar, view_bar: QToolBar) -> None:
        """Add the View menu's *Colour map*, *Follow playback* and *Waveform lane* menus, the toolbar's Follow
        button and the Transport menu's *Solo the selected band*."""
        view_bar.addSeparator()
        view_bar.addAction(self.follow.toggle_action)
        view = menu_named(bar, "View")
        if view is not None and view.actions():
            first: QAction = view.actions()[0]
            view.insertMenu(first, self.colormaps.menu(view))
            view.insertMenu(first, self.follow.menu(view))
            lane_menu = QMenu("&Waveform lane", view)
            for action in self.lane_actions.values():
                lane_menu.addAction(action)
            view.insertMenu(first, lane_menu)
            view.insertSeparator(first)
        files = menu_named(bar, "File")
        if files is not None:
            after = next((a for a in files.actions() if a.text().startswith("Export as 32-bit")), None)
            index = files.actions().index(after) + 1 if after is not None else len(files.actions())
            before = files.actions()[index] if index < len(files.actions()) else None
            for action in (self.export_image_action, self.export_compare_action):
                if before is not None:
                    files.insertAction(before, action)
                else:
                    files.addAction(action)
            files.aboutToShow.connect(lambda: self.export_compare_action.setEnabled(self._comparison_shown()))
        transport = menu_named(bar, "Transport")
        if transport is not None:
            transport.addSeparator()
            transport.addAction(self.solo_action)

    def attach(self, canvas: SpectrogramCanvas) -> None:
        """Show ``canvas`` with its document's display, add its levels box, make it follow playback."""
        attach_display(canvas, self.colormaps.current)
        self.follow.attach(canvas)
        canvas.activated.connect(lambda c=canvas: self.colormaps.follow(c))
        lane = add_lane(canvas, lambda: self.take_audio(canvas), lambda: self.take_key(canvas))
        lane.set_mode(next(m for m, a in self.lane_actions.items() if a.isChecked()))
        self.lanes.append(lane)
        canvas.destroyed.connect(lambda _=None, x=lane: self._drop(x))

    def _drop(self, lane: WaveformLane) -> None:
        if lane in self.lanes:
            self.lanes.remove(lane)

    def take_audio(self, canvas: SpectrogramCanvas) -> np.ndarray | None:
        """The audio rendered so far of ``canvas``'s document with the model's vocoder (None: none yet)."""
        renderer = self.cache.existing_renderer(canvas.doc.uid, self.model.vocoder)
        return renderer.cached_audio() if renderer is not None else None

    def take_key(self, canvas: SpectrogramCanvas) -> object:
        """Changes whenever :meth:`take_audio` may: another renderer, version, or frames vocoded."""
        renderer = self.cache.existing_renderer(canvas.doc.uid, self.model.vocoder)
        return None if renderer is None else (id(renderer), renderer.version, renderer.vocoded_frames)

    def refresh_takes(self) -> None:
        """Read the takes of the lanes on screen again where they changed (hidden ones do when shown)."""
        for lane in list(self.lanes):
            if lane.isVisible():
                lane.refresh_take()

    def set_lane_mode(self, mode: LaneMode | str) -> None:
        """Show the source audio, the vocoded take, or both in every lane."""
        mode = LaneMode(mode)
        self.lane_actions[mode].setChecked(True)
        for lane in self.lanes:
            lane.set_mode(mode)

    def restore(self) -> None:
        """Apply the saved settings; say once if the settings file was damaged and set aside."""
        self.settings.restore()
        store = qsettings()
        lane = read("view/lane", store)
        self.set_lane_mode(lane if lane in {m.value for m in LaneMode} else LaneMode.BOTH)
        self.solo_action.setChecked(bool(read("transport/solo", store)))
        if self.settings_message:  # once the event loop runs: after the "opened …" of the files given at start
            QTimer.singleShot(0, lambda: self.model.say(self.settings_message or ""))

    def save(self) -> None:
        self.settings.save()
        store = qsettings()
        write("view/lane", next(m.value for m, a in self.lane_actions.items() if a.isChecked()), store)
        write("transport/solo", self.solo_action.isChecked(), store)
        store.sync()

    def _comparison_shown(self) -> bool:
        dialog = compare_dialog(self.window)
        return dialog is not None and dialog.comparison is not None

    def export_image_dialog(self, compare: bool = False) -> None:
        """Ask where to save a picture of the active canvas (or, with ``compare``, of the Compare view's
        comparison) and write it."""
        if not self.model.interactive or (self.active_canvas() is None and not compare):
            return
        caption, name = ("Export image of the Compare view", "compare.png") if compare else \
            ("Export image", "spectrogram.png")
        path = ask_image_path(self.window, caption, name)
        if path is not None:
            self.export_image(path, compare=compare)

    def export_image(self, path: Path, width: int | None = None, compare: bool = False) -> Path | None:
        """Write the active canvas's picture (or, with ``compare``, the Compare view's) to ``path`` (.png or
        .svg; PNG ``width`` in pixels); errors go to the model."""
        canvas, dialog = self.active_canvas(), compare_dialog(self.window)
        try:
            if compare:
                if dialog is None or dialog.comparison is None:
                    self.model.fail("Export image: nothing compared yet (View ▸ Compare vocoders…)")
                    return None
                written = dialog.export_image(path, width)
            elif canvas is None:
                return None
            else:
                written = export_image(canvas, path, width)
        except VocoderStudioError as exc:
            self.model.fail(str(exc))
            return None
        self.model.say(f"exported image {written}")
        return written
