"""The spectrogram canvas's axes: Hz on the left at round values that never crowd (the mel-band scale of
:mod:`vocoder_studio.scales`), seconds along the bottom."""

from __future__ import annotations

from typing import Any

import pyqtgraph as pg

from vocoder_studio.scales import MIN_FREQ_TICK_PX, MIN_TIME_TICK_PX, Scale, Tick, time_ticks


class FrequencyAxis(pg.AxisItem):
    """The left axis: Hz ticks at round values chosen by a :class:`~vocoder_studio.scales.Scale` for the visible
    band range and the axis height (never closer than ``MIN_FREQ_TICK_PX``)."""

    def __init__(self, scale: Scale) -> None:
        super().__init__("left")
        self.scale_ = scale
        #: the ticks of the last layout (position in band coordinates, Hz, label)
        self.ticks_shown: list[Tick] = []
        self.setStyle(hideOverlappingLabels=8)  # "8k" at the top edge may reach 8 px above the plot

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[Any]:  # noqa: N802, N803
        self.ticks_shown = self.scale_.ticks(float(minVal), float(maxVal), float(size), MIN_FREQ_TICK_PX)
        return [(1.0, [t.position for t in self.ticks_shown])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        labels = {t.position: t.label for t in self.ticks_shown}
        return [labels.get(v, "") for v in values]


class TimeAxis(pg.AxisItem):
    """The bottom axis: seconds at one 1-2-5 step, labels with the decimals the step needs."""

    def __init__(self) -> None:
        super().__init__("bottom")
        self.ticks_shown: list[Tick] = []
        self.enableAutoSIPrefix(False)

    def tickValues(self, minVal: float, maxVal: float, size: float) -> list[Any]:  # noqa: N802, N803
        self.ticks_shown = time_ticks(float(minVal), float(maxVal), float(size), MIN_TIME_TICK_PX)
        return [(1.0, [t.position for t in self.ticks_shown])]

    def tickStrings(self, values: list[float], scale: float, spacing: float) -> list[str]:  # noqa: N802
        labels = {t.position: t.label for t in self.ticks_shown}
        return [labels.get(v, "") for v in values]
