"""MelNet checkpoints: ``{"format": "melnet-1", "config": MelNetConfig.to_dict(), "model": state_dict,
"mel_config": MelConfig fields, **extra}`` written atomically, read with ``torch.load(weights_only=True)``.
The normalisation (``band_mean``, ``band_std``) is part of the state dict."""

from __future__ import annotations

import dataclasses
import pickle
import zipfile
from pathlib import Path
from typing import Any

import torch

from vocoder_studio.audio.io import atomic_path
from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.melnet.model import MelNet, MelNetConfig, MelNetError

FORMAT = "melnet-1"


def save_model(path: str | Path, model: MelNet, mel_config: MelConfig = DEFAULT_CONFIG, **extra: Any) -> Path:
    """Write ``model`` (weights, config, the front-end it models) to ``path`` atomically; returns the path.

    Raises:
        ValueError: ``extra`` uses a reserved key.
    """
    reserved = {"format", "config", "model", "mel_config"}
    if reserved & set(extra):
        raise ValueError(f"save_model: {sorted(reserved)} are reserved checkpoint keys")
    target = Path(path)
    with atomic_path(target) as tmp:
        torch.save({"format": FORMAT, "config": model.config.to_dict(), "model": model.state_dict(),
                    "mel_config": dataclasses.asdict(mel_config), **extra}, tmp)
    return target


def load_model(path: str | Path, mel_config: MelConfig | None = DEFAULT_CONFIG) -> MelNet:
    """The MelNet stored at ``path``, in eval mode on the CPU.

    Args:
        mel_config: the front-end the caller works in; a checkpoint made for another is refused (None: no check).
    Raises:
        MelNetError: unreadable, truncated, not a MelNet checkpoint, an invalid config, weights that do not fit
            it, or another front-end (the message names the file).
    """
    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise MelNetError(f"{path}: unreadable MelNet checkpoint ({type(exc).__name__}: {first})") from None
    if not isinstance(data, dict) or data.get("format") != FORMAT or "model" not in data:
        raise MelNetError(f"{path}: not a MelNet checkpoint (format {FORMAT!r} with 'config' and 'model')")
    config = MelNetConfig.from_dict(data.get("config"), str(path))
    if mel_config is not None and isinstance(data.get("mel_config"), dict):
        expected = dataclasses.asdict(mel_config)
        for key, value in data["mel_config"].items():
            if key in expected and expected[key] != value:
                raise MelNetError(f"{path}: made for another mel front-end ({key} {value} instead of "
                                  f"{expected[key]})")
    model = MelNet(config)
    try:
        model.load_state_dict(data["model"])
    except (RuntimeError, TypeError, AttributeError, KeyError) as exc:
        first = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise MelNetError(f"{path}: weights do not fit the stored config ({first})") from None
    return model.eval()
