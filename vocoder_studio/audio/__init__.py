"""The mel front-end every part shares, and audio / mel file I/O."""

from __future__ import annotations

from vocoder_studio.audio.io import load_audio, load_mel, save_mel, save_wav
from vocoder_studio.audio.mel import (
    DEFAULT_CONFIG,
    MelConfig,
    db_to_ln,
    ln_to_db,
    mel_frequencies,
    mel_to_linear,
    validate_mel,
    wav_to_mel,
)

__all__ = [
    "DEFAULT_CONFIG",
    "MelConfig",
    "db_to_ln",
    "ln_to_db",
    "load_audio",
    "load_mel",
    "mel_frequencies",
    "mel_to_linear",
    "save_mel",
    "save_wav",
    "validate_mel",
    "wav_to_mel",
]
