"""Which torch device inference runs on."""

from __future__ import annotations

import torch

from vocoder_studio.errors import VocoderStudioError


def device_choices() -> list[str]:
    """Devices a user can pick: ``"auto"``, ``"cpu"``, and ``"cuda"`` where a GPU is present."""
    return ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])


def choose_device(preference: str = "auto") -> torch.device:
    """``"auto"`` → CUDA when ``torch.cuda.is_available()``, else CPU; ``"cpu"``/``"cuda"`` as asked.

    Raises:
        VocoderStudioError: ``"cuda"`` asked for where there is no GPU, or an unknown name.
    """
    if preference == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if preference == "cpu":
        return torch.device("cpu")
    if preference.startswith("cuda"):
        if not torch.cuda.is_available():
            raise VocoderStudioError(f"device {preference!r}: no CUDA GPU is available on this machine")
        return torch.device(preference)
    raise VocoderStudioError(f"unknown device {preference!r}; use auto, cpu or cuda")
