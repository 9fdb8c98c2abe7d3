"""How a document is shown: its colour map and colour range (kept per document in the project file). No Qt.

The colour maps are named here so that the project file, the settings and the window agree on the names;
``ui/levels.py`` (``pg_colormap``) turns a name into a pyqtgraph colour map.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

#: The colour map names, the default first. inferno, magma and viridis are perceptually uniform (equal steps in
#: level look like equal steps in lightness; van der Walt & Smith, "A better default colormap for Matplotlib",
#: SciPy 2015); "grey" runs black → white and "grey-inverted" white → black (for print).
COLORMAPS: tuple[str, ...] = ("inferno", "magma", "viridis", "grey", "grey-inverted")
DEFAULT_COLORMAP = COLORMAPS[0]
#: The colour range a level may take, in dB (the colour bar's limits).
LEVEL_LIMITS_DB = (-120.0, 60.0)


def colormap_label(name: str) -> str:
    """The menu text of a colour map name: ``"grey-inverted"`` → ``"Grey (inverted)"``."""
    return "Grey (inverted)" if name == "grey-inverted" else name.capitalize()


@dataclass
class Display:
    """A document's colour map and colour range.

    Attributes:
        colormap: one of :data:`COLORMAPS`.
        levels: the colour range ``(low, high)`` in dB, or None (the canvas's automatic levels).
    """

    colormap: str = DEFAULT_COLORMAP
    levels: tuple[float, float] | None = None

    def to_json(self) -> dict[str, object]:
        """The project file's ``display`` field."""
        return {"colormap": self.colormap, "levels": None if self.levels is None else list(self.levels)}

    @classmethod
    def from_json(cls, value: object) -> Display:
        """The inverse of :meth:`to_json`; missing fields take their defaults and an unknown colour map name
        (from a newer app) falls back to the default.

        Raises:
            ValueError: the value is not an object, or ``levels`` is not null or two finite numbers
                ``low < high`` within :data:`LEVEL_LIMITS_DB`; the message names the field.
        """
        if not isinstance(value, dict):
            raise ValueError(f"display is {type(value).__name__}, expected an object")
        name = value.get("colormap", DEFAULT_COLORMAP)
        if not isinstance(name, str):
            raise ValueError(f"display.colormap is {type(name).__name__}, expected a string")
        levels = value.get("levels")
        if levels is not None:
            ok = (isinstance(levels, list) and len(levels) == 2
                  and all(isinstance(v, (int, float)) and not isinstance(v, bool) and math.isfinite(v)
                          for v in levels))
            lo, hi = LEVEL_LIMITS_DB
            if not ok or not lo <= levels[0] < levels[1] <= hi:
                raise ValueError(f"display.levels is {levels!r:.60}, expected null or two numbers "
                                 f"low < high within {lo:g} … {hi:g} dB")
            levels = (float(levels[0]), float(levels[1]))
        return cls(name if name in COLORMAPS else DEFAULT_COLORMAP, levels)
