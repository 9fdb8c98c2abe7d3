"""One exception family: every message names the file or value and what is wrong with it."""

from __future__ import annotations


class VocoderStudioError(Exception):
    """Base of every error the application reports to a person (CLI: one line; UI: one dialog)."""


class AudioFileError(VocoderStudioError):
    """An audio or mel file could not be read or written; the message names the file."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"{self.path}: {reason}")


class MelShapeError(VocoderStudioError):
    """A mel-spectrogram array has the wrong shape, dtype or non-finite values."""


class VocoderUnavailableError(VocoderStudioError):
    """A vocoder cannot run: unknown name, or its weights are not installed."""


class JobCancelled(VocoderStudioError):
    """A long job was cancelled by the user."""


class PlaybackUnavailableError(VocoderStudioError):
    """There is no audio output device (the app still edits, vocodes and exports)."""


class CorpusError(VocoderStudioError):
    """The corpus cannot be fetched or read (no apt-get, a failed download, a missing pack)."""


class TrainingError(VocoderStudioError):
    """A run cannot start or resume (a checkpoint of another model or settings, a missing pack)."""
