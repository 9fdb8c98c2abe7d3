"""How the Compare view is heard: the takes of a comparison on one stream (take 0 the original recording, k
vocoder k), switched while it plays without a gap or a jump in time, the Play / Loop / time row, and the
playheads of the grid.

A switch keeps the play position to the sample: the stream keeps running and the audio not yet played is
overwritten with the other take (:class:`vocoder_studio.engine.take_switch.TakeSwitcher`; measured through a
PulseAudio null sink: no gap and no jump in time in 4 of 4 tries, the new take heard 70–95 ms after the key;
stopping and restarting the stream at the same position instead left 2–27 ms of silence and skipped 38–65 ms of
audio — what had already been handed to the device).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from PySide6.QtCore import QObject, Qt, QTimer
from PySide6.QtWidgets import QCheckBox, QHBoxLayout, QLabel, QPushButton

from vocoder_studio.engine.audio_output import playback_status
from vocoder_studio.engine.player import Player
from vocoder_studio.engine.take_switch import TakeSwitcher
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.evaluation.comparison import Comparison
from vocoder_studio.ui.canvas import READOUT_COLOR
from vocoder_studio.ui.compare_grid import CompareGrid
from vocoder_studio.ui.transport import Transport, format_time


class ComparePlayback(QObject):
    """Playback of the comparison a :class:`CompareGrid` shows.

    Args:
        grid: the grid (its playheads and the highlighted title follow playback).
        transport: the window's playback (its output device and block size; stopped when the comparison plays).
        say: shows a one-line message (why something cannot play).
    Attributes:
        switcher: the takes and the stream.
        play_button, loop_box, time_label: the bottom row's widgets (:meth:`row`).
        comparison: the comparison whose takes are loaded, or None.
    """

    def __init__(self, grid: CompareGrid, transport: Transport, say: Callable[[str], None]) -> None:
        super().__init__(grid)
        self.grid, self.transport, self.say = grid, transport, say
        self.comparison: Comparison | None = None
        self.switcher = TakeSwitcher(Player(blocksize=transport.blocksize, device=transport.output_device))
        self.play_button = QPushButton("▶ Play")
        self.play_button.setAutoDefault(False)
        self.play_button.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.play_button.clicked.connect(self.toggle)
        self.loop_box = QCheckBox("Loop")
        self.loop_box.setChecked(True)
        self.loop_box.setFocusPolicy(Qt.FocusPolicy.NoFocus)
        self.time_label = QLabel(format_time(0.0))
        self.time_label.setMinimumWidth(80)
        self._timer = QTimer(self)
        self._timer.setInterval(33)
        self._timer.timeout.connect(self._tick)

    def row(self) -> QHBoxLayout:
        """The bottom row: Play, Loop, the time, the keys hint."""
        hint = QLabel("Keys: 1–9 play that vocoder · 0 the original recording · Space play/stop — switching keeps "
                      "the time")
        hint.setStyleSheet(f"color: {READOUT_COLOR};")
        bottom = QHBoxLayout()
        for widget in (self.play_button, self.loop_box, self.time_label):
            bottom.addWidget(widget)
        bottom.addStretch(1)
        bottom.addWidget(hint)
        return bottom

    @property
    def current(self) -> int:
        """The take that plays (or would): 0 = the original recording, k = vocoder k."""
        return self.switcher.current

    @property
    def is_playing(self) -> bool:
        return self.switcher.is_playing

    def load(self, result: Comparison, keep: bool) -> None:
        """Hand ``result``'s takes to the switcher (the recording first, silence where there is none); ``keep``:
        playing goes on with them at the same time (same document range re-rendered), else it stops."""
        if not keep:
            self.stop()
        self.comparison = result
        takes = [result.reference if result.reference is not None
                 else np.zeros(result.takes[0].audio.size, np.float32), *(t.audio for t in result.takes)]
        offset = result.start * result.config.hop_length
        if keep:
            current = self.switcher.current
            if current >= len(takes) or (current == 0 and result.reference is None):
                current = 1
            self.switcher.replace(takes, offset, current)
            self.grid.show_playheads(True)
        else:
            self.switcher.set_takes(takes, offset)
            self.switcher.current = 0 if result.reference is not None else 1
        self.grid.mark(self.switcher.current)

    def select(self, take: int) -> bool:
        """Play take ``take`` from the current time (or select it when stopped); False if there is none."""
        result = self.comparison
        if result is None or not 0 <= take <= len(result.takes):
            return False
        if take == 0 and result.reference is None:
            self.say("No original recording for this range (edited, or the document is a mel): keys 1–9 play the "
                     "vocoders.")
            return False
        self.switcher.switch(take)
        self.grid.mark(take)
        return True

    def play(self) -> bool:
        """Play the current take over the compared range (looping when Loop is on); False if it cannot."""
        if self.comparison is None:
            return False
        reason = playback_status()
        if reason is not None:
            self.say(reason)
            return False
        self.transport.stop()
        try:
            self.switcher.play(loop=self.loop_box.isChecked())
        except VocoderStudioError as exc:
            self.say(str(exc))
            return False
        self.play_button.setText("■ Stop")
        self.grid.show_playheads(True)
        self._timer.start()
        return True

    def stop(self) -> None:
        self.switcher.stop()
        self._finish()

    def toggle(self) -> bool:
        """Stop if playing, else play; returns whether it plays now."""
        if self.switcher.is_playing:
            self.stop()
            return False
        return self.play()

    def _finish(self) -> None:
        self._timer.stop()
        self.play_button.setText("▶ Play")
        self.grid.show_playheads(False)

    def _tick(self) -> None:
        if not self.switcher.is_playing:
            self._finish()
            return
        self.switcher.settle()
        seconds = self.switcher.player.position / self.switcher.player.sample_rate
        self.grid.show_playheads(True, seconds)
        self.time_label.setText(format_time(seconds))
