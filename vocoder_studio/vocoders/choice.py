"""A vocoder with its parameters: what the vocoder panel selects, what ``eval vocoders`` and ``bench`` run, what the
render cache and the Compare view key their vocoders and takes by.

Written ``NAME`` or ``NAME:PARAM=VALUE:PARAM=VALUE`` on the command line (:meth:`VocoderChoice.parse`,
:attr:`VocoderChoice.label`); shown as ``"griffin-lim (cpu, iterations=32)"`` in the status bar
(:meth:`VocoderChoice.describe`) and ``"Griffin-Lim (fast, momentum) · iterations=32"`` beside a take
(:meth:`VocoderChoice.title`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.vocoders.params import parse_assignments
from vocoder_studio.vocoders.registry import DEFAULT_VOCODER, get_entry


@dataclass(frozen=True)
class VocoderChoice:
    """A registry name, a device preference and the parameters given (the others keep their defaults).

    Attributes:
        name: the registry name (``vocoder-studio vocoders`` lists them).
        device: ``"auto"``, ``"cpu"``, ``"cuda"``, … (resolved by :func:`vocoder_studio.engine.device.
            choose_device` where the vocoder is built).
        params: ``(name, value)`` pairs sorted by name, values of the parameter's Python type; hashable, so two
            equal choices are one cache key.
    """

    name: str = DEFAULT_VOCODER
    device: str = "auto"
    params: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def make(cls, name: str, device: str = "auto", **params: Any) -> VocoderChoice:
        """A choice of ``name`` on ``device`` with ``params`` (not checked here: the factory checks them)."""
        return cls(name, device, tuple(sorted(params.items())))

    @classmethod
    def parse(cls, text: str, device: str = "auto") -> VocoderChoice:
        """``"griffin-lim:iterations=8"`` → that name with checked parameters.

        Raises:
            VocoderUnavailableError: unknown name. ParameterError: a bad parameter or value.
        """
        name, *assignments = text.strip().split(":")
        entry = get_entry(name)
        return cls.make(name, device, **parse_assignments(entry.parameters, assignments, name))

    @property
    def key(self) -> tuple[str, str, tuple[tuple[str, Any], ...]]:
        """``(name, device, params)``: what the render cache keys a vocoder by."""
        return (self.name, self.device, self.params)

    def settings(self) -> str:
        """The parameters given, ``"iterations=32, momentum=0.99"`` (``""`` for none)."""
        return ", ".join(f"{k}={_format(v)}" for k, v in self.params)

    @property
    def label(self) -> str:
        """``"griffin-lim:init=random:iterations=32"``: the command-line spelling, which :meth:`parse` reads back
        (the name alone when no parameter is given); the name of a result in ``eval vocoders`` and ``bench``."""
        return ":".join([self.name, *(f"{k}={_format(v)}" for k, v in self.params)])

    def describe(self) -> str:
        """``"griffin-lim (cpu, iterations=32)"``: one line for the status bar."""
        extra = self.settings()
        return f"{self.name} ({self.device}{', ' + extra if extra else ''})"

    def title(self) -> str:
        """``"Griffin-Lim (fast, momentum) · iterations=32, momentum=0.99"``: the registry's label and the
        settings (the name where the registry does not know it)."""
        try:
            label = get_entry(self.name).label
        except VocoderStudioError:
            label = self.name
        settings = self.settings()
        return f"{label} · {settings}" if settings else label


def _format(value: Any) -> str:
    """A parameter value as :meth:`~vocoder_studio.vocoders.params.Parameter.parse` reads it back."""
    return ("true" if value else "false") if isinstance(value, bool) else str(value)
