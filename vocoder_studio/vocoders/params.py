"""Typed parameter schemas: what a vocoder can be told, from which the panel and the CLI are generated.

A vocoder module declares its parameters once (kind, default, range or choices, unit, one-line help); the vocoder
panel builds one control per parameter and ``vocoder-studio vocode --param NAME=VALUE`` parses and checks the
same schema, so a new vocoder needs no UI or CLI code of its own.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Literal

from vocoder_studio.errors import VocoderStudioError

Kind = Literal["int", "float", "choice", "bool"]
KINDS: tuple[str, ...] = ("int", "float", "choice", "bool")
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


class ParameterError(VocoderStudioError):
    """A parameter value is unknown, of the wrong type or out of range; the message names it and its range."""


@dataclass(frozen=True)
class Parameter:
    """One settable parameter of a vocoder.

    Attributes:
        name: the key users type (``--param name=value``) and the factory's keyword argument.
        kind: ``"int"``, ``"float"``, ``"choice"`` (one of ``choices``, a string) or ``"bool"``.
        default: the value used when none is given (must itself be valid).
        help: one line for tooltips and ``--help``-like listings.
        min, max: inclusive bounds for int and float (None: unbounded).
        choices: the allowed strings of a choice.
        unit: the unit shown beside the value (``"Hz"``, ``"dB"``, ``"iterations"``, …), or ``""``.
    Raises:
        ValueError: an inconsistent declaration (unknown kind, default outside its own range) — a programming
            error in the vocoder module, not a user error.
    """

    name: str
    kind: Kind
    default: Any
    help: str
    min: float | None = None
    max: float | None = None
    choices: tuple[str, ...] = ()
    unit: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"parameter {self.name}: kind must be one of {KINDS}, got {self.kind!r}")
        if self.kind == "choice" and not self.choices:
            raise ValueError(f"parameter {self.name}: a choice needs choices")
        try:
            self.validate(self.default)
        except ParameterError as exc:
            raise ValueError(f"parameter {self.name}: invalid default: {exc}") from None

    def describe_range(self) -> str:
        """The allowed values in words: ``"an integer in [1, 1000]"``, ``"one of float32, bfloat16"``."""
        if self.kind == "choice":
            return "one of " + ", ".join(self.choices)
        if self.kind == "bool":
            return "true or false"
        noun = "an integer" if self.kind == "int" else "a number"
        lo = "-inf" if self.min is None else f"{self.min:g}"
        hi = "inf" if self.max is None else f"{self.max:g}"
        unit = f" {self.unit}" if self.unit else ""
        return f"{noun} in [{lo}, {hi}]{unit}"

    def _error(self, value: object) -> ParameterError:
        return ParameterError(f"parameter {self.name} must be {self.describe_range()}, got {value!r}")

    def validate(self, value: Any) -> Any:
        """``value`` checked and converted to the parameter's Python type (int, float, str or bool).

        Raises:
            ParameterError: wrong type (a float for an int, a string for a number, …) or out of range.
        """
        if self.kind == "bool":
            if isinstance(value, bool):
                return value
            raise self._error(value)
        if self.kind == "choice":
            if isinstance(value, str) and value in self.choices:
                return value
            raise self._error(value)
        if isinstance(value, bool) or not isinstance(value, (int, float)):
            raise self._error(value)
        if self.kind == "int":
            if isinstance(value, float):
                if not value.is_integer():
                    raise self._error(value)
                value = int(value)
        else:
            value = float(value)
            if not math.isfinite(value):
                raise self._error(value)
        if (self.min is not None and value < self.min) or (self.max is not None and value > self.max):
            raise self._error(value)
        return value

    def parse(self, text: str) -> Any:
        """The value of a command-line string (``"32"``, ``"0.9"``, ``"bfloat16"``, ``"on"``), checked.

        Raises:
            ParameterError: the text is not a value of this kind, or out of range.
        """
        text = text.strip()
        value: Any = text
        try:
            if self.kind == "int":
                value = int(text)
            elif self.kind == "float":
                value = float(text)
        except ValueError:
            raise self._error(text) from None
        if self.kind == "bool":
            lowered = text.lower()
            if lowered not in _TRUE | _FALSE:
                raise self._error(text)
            value = lowered in _TRUE
        return self.validate(value)

    def to_json(self) -> dict[str, Any]:
        """``{"type", "default", "min", "max", "choices", "unit", "help"}`` with absent keys omitted."""
        out: dict[str, Any] = {"type": self.kind, "default": self.default}
        if self.min is not None:
            out["min"] = self.min
        if self.max is not None:
            out["max"] = self.max
        if self.choices:
            out["choices"] = list(self.choices)
        if self.unit:
            out["unit"] = self.unit
        out["help"] = self.help
        return out


def resolve(schema: Iterable[Parameter], values: Mapping[str, Any], owner: str) -> dict[str, Any]:
    """The full keyword arguments for a factory: every parameter's default, overridden by ``values`` (checked).

    Args:
        schema: the vocoder's parameters.
        values: the values given, by name (Python values, not strings).
        owner: the vocoder name, for messages.
    Raises:
        ParameterError: an unknown name, or a value of the wrong type or out of range.
    """
    params = {p.name: p for p in schema}
    unknown = sorted(set(values) - set(params))
    if unknown:
        known = ", ".join(params) or "none"
        raise ParameterError(f"{owner}: unknown parameter(s) {', '.join(unknown)} (parameters: {known})")
    out = {name: p.default for name, p in params.items()}
    for name, value in values.items():
        try:
            out[name] = params[name].validate(value)
        except ParameterError as exc:
            raise ParameterError(f"{owner}: {exc}") from None
    return out


def parse_assignments(schema: Iterable[Parameter], assignments: Iterable[str], owner: str) -> dict[str, Any]:
    """Parse ``NAME=VALUE`` strings (the CLI's ``--param``) against ``schema``.

    Raises:
        ParameterError: not of the form NAME=VALUE, an unknown name, or a bad value.
    """
    params = {p.name: p for p in schema}
    out: dict[str, Any] = {}
    for item in assignments:
        name, sep, text = item.partition("=")
        name = name.strip()
        if not sep or not name:
            raise ParameterError(f"{owner}: --param takes NAME=VALUE, got {item!r}")
        if name not in params:
            known = ", ".join(params) or "none"
            raise ParameterError(f"{owner}: unknown parameter {name!r} (parameters: {known})")
        try:
            out[name] = params[name].parse(text)
        except ParameterError as exc:
            raise ParameterError(f"{owner}: {exc}") from None
    return out
