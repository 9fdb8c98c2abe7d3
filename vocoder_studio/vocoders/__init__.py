"""Vocoders behind one protocol, and the registry the CLI and UI list from (see ``registry.py``)."""

from __future__ import annotations

from vocoder_studio.vocoders.base import Vocoder, VocoderProtocol, chunk_bounds
from vocoder_studio.vocoders.entry import ConfigMismatchError, VocoderEntry
from vocoder_studio.vocoders.params import Parameter, ParameterError
from vocoder_studio.vocoders.registry import (
    DEFAULT_VOCODER,
    PREVIEW_VOCODER,
    create_vocoder,
    get_entry,
    list_vocoders,
    preview_vocoder,
)

__all__ = [
    "DEFAULT_VOCODER",
    "PREVIEW_VOCODER",
    "ConfigMismatchError",
    "Parameter",
    "ParameterError",
    "Vocoder",
    "VocoderEntry",
    "VocoderProtocol",
    "chunk_bounds",
    "create_vocoder",
    "get_entry",
    "list_vocoders",
    "preview_vocoder",
]
