"""Events without Qt: a list of callbacks, as the model layer announces its changes (the application model, job
handles). Qt widgets connect to them like to a signal; the callbacks run on the thread that emits.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, Generic, TypeVarTuple, Unpack

Ts = TypeVarTuple("Ts")


class Event(Generic[Unpack[Ts]]):
    """A list of callbacks called in the order connected, on the thread that emits (the GUI thread here).

    Example: ``model.events.status.connect(print)``; ``model.say("saved")`` calls ``print("saved")``.
    """

    def __init__(self) -> None:
        self._callbacks: list[Callable[[Unpack[Ts]], Any]] = []

    def connect(self, callback: Callable[[Unpack[Ts]], Any]) -> None:
        """Call ``callback`` on every :meth:`emit` (once, however often it is connected)."""
        if callback not in self._callbacks:
            self._callbacks.append(callback)

    def disconnect(self, callback: Callable[[Unpack[Ts]], Any]) -> None:
        """Stop calling ``callback`` (no error if it was not connected)."""
        if callback in self._callbacks:
            self._callbacks.remove(callback)

    def emit(self, *args: Unpack[Ts]) -> None:
        for callback in list(self._callbacks):
            callback(*args)
