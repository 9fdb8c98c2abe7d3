"""Vocoder Studio: draw, edit, generate and vocode mel-spectrograms."""

from __future__ import annotations

__version__ = "0.1.0"
