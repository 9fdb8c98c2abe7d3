"""Vocoders behind one protocol, and the registry the CLI and UI list from."""

from __future__ import annotations

from vocoder_studio.vocoders.base import Vocoder, VocoderProtocol, chunk_bounds
from vocoder_studio.vocoders.registry import (
    DEFAULT_VOCODER,
    VocoderInfo,
    create_vocoder,
    get_info,
    list_vocoders,
)

__all__ = [
    "DEFAULT_VOCODER",
    "Vocoder",
    "VocoderInfo",
    "VocoderProtocol",
    "chunk_bounds",
    "create_vocoder",
    "get_info",
    "list_vocoders",
]
