"""What one vocoder module declares about itself: the registry, the panel and the CLI read only this.

A module in ``vocoder_studio/vocoders/`` (or an installed plug-in, see :mod:`vocoder_studio.vocoders.registry`)
adds vocoders by defining ``VOCODERS``: a sequence of :class:`VocoderEntry`.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.errors import VocoderStudioError, VocoderUnavailableError
from vocoder_studio.vocoders.base import Vocoder
from vocoder_studio.vocoders.checkpoints import ModelCard
from vocoder_studio.vocoders.params import Parameter, resolve


class ConfigMismatchError(VocoderStudioError):
    """A vocoder expects another mel front-end than the document's (it would make wrong audio)."""


def config_differences(expected: MelConfig, got: MelConfig) -> list[str]:
    """``["hop_length 200 (expects 256)", …]``: the fields of ``got`` that differ from ``expected``."""
    want, have = dataclasses.asdict(expected), dataclasses.asdict(got)
    return [f"{k} {have[k]} (expects {want[k]})" for k in want if want[k] != have[k]]


def one_line(text: str) -> str:
    """The first non-empty line of ``text``, stripped (with `` …`` when more followed): refusals are one line."""
    lines = [line.strip() for line in str(text).splitlines() if line.strip()]
    if not lines:
        return ""
    return lines[0] + (" …" if len(lines) > 1 else "")


def failure_text(exc: BaseException) -> str:
    """``"ZeroDivisionError: division by zero"``: an exception a plug-in raised, in one line."""
    message = one_line(str(exc))
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


def _always_ready() -> str | None:
    return None


def _no_card() -> ModelCard | None:
    return None


@dataclass(frozen=True)
class VocoderEntry:
    """A registry entry, declared by the vocoder's own module.

    Attributes:
        name: the registry name users type (``--vocoder NAME``).
        label: a human name for menus (``"HiFi-GAN V1 (universal)"``).
        factory: ``factory(device=..., config=..., **parameters) -> Vocoder``; it may load a checkpoint.
        parameters: the typed parameter schema; the panel and ``--param`` are generated from it.
        config: the mel front-end the vocoder expects (a document with another one is refused).
        weights: where its weights come from, in words (``"none (signal processing)"``, a wheel, a models file).
        description: one line shown when there is no model card.
        note: one line the panel shows under the parameters, about how the vocoder behaves in the studio
            (e.g. that an edit is regenerated from its start to the end); empty: none.
        check: returns None when it can run here, else the reason it cannot (cheap: no weights are loaded).
        card: returns the model card of its weights, or None (it may raise VocoderUnavailableError for a
            broken one, which makes the entry unavailable).
        origin: the module or plug-in that declared it.
    """

    name: str
    label: str
    factory: Callable[..., Vocoder]
    parameters: tuple[Parameter, ...] = ()
    config: MelConfig = DEFAULT_CONFIG
    weights: str = "none (signal processing)"
    description: str = ""
    note: str = ""
    check: Callable[[], str | None] = _always_ready
    card: Callable[[], ModelCard | None] = _no_card
    origin: str = ""

    @property
    def sample_rate(self) -> int:
        """Output sample rate in Hz (the front-end's)."""
        return self.config.sample_rate

    def parameter(self, name: str) -> Parameter | None:
        """The schema of parameter ``name``, or None."""
        return next((p for p in self.parameters if p.name == name), None)

    def defaults(self) -> dict[str, Any]:
        """Every parameter's default value, by name."""
        return {p.name: p.default for p in self.parameters}

    def unavailable_reason(self) -> str | None:
        """None when the vocoder can run here, else why not, in one line. A failing check or card is a reason,
        never a crash: whatever a plug-in's hooks raise (``SystemExit`` too; only ``KeyboardInterrupt`` goes
        through) or return instead of a reason or a card."""
        try:
            reason = self.check()
            if reason is None:
                card = self.card()  # a broken card makes the entry unavailable too
                if card is not None and not isinstance(card, ModelCard):
                    return f"{self._who()}: card() returned {type(card).__name__}, not a ModelCard"
                return None
            if not isinstance(reason, str):
                return f"{self._who()}: check() returned {type(reason).__name__}, not None or a reason"
            return one_line(reason) or f"{self._who()}: check() gave an empty reason"
        except VocoderStudioError as exc:
            return one_line(str(exc))
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a plug-in's bug must not take the others down
            return f"{self._who()}: {failure_text(exc)}"

    def _who(self) -> str:
        return self.origin or self.name

    def status(self) -> str:
        """``"ready"`` or ``"unavailable"``."""
        return "ready" if self.unavailable_reason() is None else "unavailable"

    def model_card(self) -> ModelCard | None:
        """The model card, or None when there is none or it is broken."""
        try:
            card = self.card()
        except KeyboardInterrupt:
            raise
        except BaseException:  # unavailable_reason() says why
            return None
        return card if isinstance(card, ModelCard) else None

    def summary(self) -> str:
        """One line for the selector: the card's summary, else the description."""
        card = self.model_card()
        return card.summary if card is not None else self.description

    def check_config(self, config: MelConfig) -> None:
        """Refuse a document made with another mel front-end.

        Raises:
            ConfigMismatchError: names each differing field and the value this vocoder expects.
        """
        diffs = config_differences(self.config, config)
        if diffs:
            raise ConfigMismatchError(f"{self.name} expects another mel front-end: {', '.join(diffs)}")

    def create(self, device: Any = "cpu", config: MelConfig | None = None, **parameters: Any) -> Vocoder:
        """Build the vocoder on ``device`` with ``parameters`` checked against the schema.

        Raises:
            VocoderUnavailableError: it cannot run here (the reason).
            ParameterError: an unknown parameter or a bad value (names it and its range).
            ConfigMismatchError: ``config`` is not the front-end it expects.
        """
        if config is not None:
            self.check_config(config)
        reason = self.unavailable_reason()
        if reason is not None:
            raise VocoderUnavailableError(f"{self.name}: {reason}")
        values = resolve(self.parameters, parameters, self.name)
        return self.factory(device=device, config=self.config, **values)

    def to_json(self) -> dict[str, Any]:
        """``{"name", "label", "sample_rate", "status", "reason", "summary", "weights", "parameters", "card"}``."""
        reason = self.unavailable_reason()
        card = self.model_card()
        return {
            "name": self.name,
            "label": self.label,
            "sample_rate": self.sample_rate,
            "status": "ready" if reason is None else "unavailable",
            "reason": reason,
            "summary": self.summary(),
            "weights": self.weights,
            "parameters": {p.name: p.to_json() for p in self.parameters},
            "card": None if card is None else card.to_dict(),
        }


def unavailable_entry(name: str, reason: str, origin: str = "") -> VocoderEntry:
    """An entry that lists a plug-in which failed to load, with the reason, so the others keep working."""

    def factory(**_: Any) -> Vocoder:
        raise VocoderUnavailableError(f"{name}: {reason}")

    return VocoderEntry(name=name, label=name, factory=factory, check=lambda: reason,
                        description="plug-in failed to load", origin=origin)

