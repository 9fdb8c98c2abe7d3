"""The Qt binding itself: emitting a signal from Python must not drop a reference to ``True``.

PySide6 6.12.0's ``SignalInstance.emit()`` returned ``True`` without a reference, so every emit — ours and
pyqtgraph's — took one from ``Py_True``; after a few hundred to a few thousand emits Python aborted with "Fatal
Python error: bool_dealloc" (the studio after a long session, the UI tests at exit). pyproject.toml excludes it.
"""

from __future__ import annotations

import sys

from PySide6.QtCore import QObject, Signal


class _Emitter(QObject):
    flag = Signal(bool)
    ping = Signal()


def test_emitting_signals_keeps_the_reference_count_of_true(qtbot) -> None:
    emitter = _Emitter()
    seen: list[bool] = []
    emitter.flag.connect(seen.append)
    emitter.ping.connect(lambda: None)
    before = sys.getrefcount(True)
    for _ in range(200):
        emitter.flag.emit(True)
        emitter.ping.emit()
    seen.clear()
    assert sys.getrefcount(True) - before >= -5  # a few may move with the interpreter's own bookkeeping
