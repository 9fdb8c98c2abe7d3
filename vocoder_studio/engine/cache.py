"""Vocoder instances and render caches shared by playback, render-ahead and export (used from the worker
threads; no Qt).

The renderers handed out by :meth:`RenderCache.renderer` belong to the default worker lane (playback, live
updates, render-ahead run there one after another); a job on the long lane takes
:meth:`RenderCache.private_renderer` instead.
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from vocoder_studio.engine.device import choose_device
from vocoder_studio.engine.render import Renderer
from vocoder_studio.vocoders.base import Vocoder
from vocoder_studio.vocoders.choice import VocoderChoice
from vocoder_studio.vocoders.registry import create_vocoder


class RenderCache:
    """Vocoders cached per (name, device, params); one :class:`Renderer` per (document, vocoder).

    Building a vocoder (HiFi-GAN loads 55 MB) happens on the worker thread, in :meth:`renderer`.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._vocoders: dict[tuple[Any, ...], Vocoder] = {}
        self._renderers: dict[tuple[int, tuple[Any, ...]], Renderer] = {}

    def vocoder(self, choice: VocoderChoice) -> Vocoder:
        with self._lock:
            vocoder = self._vocoders.get(choice.key)
        if vocoder is None:
            vocoder = create_vocoder(choice.name, device=choose_device(choice.device), **dict(choice.params))
            with self._lock:
                vocoder = self._vocoders.setdefault(choice.key, vocoder)
        return vocoder

    def warm(self, choice: VocoderChoice, frames: int = 24) -> Vocoder:
        """Build the vocoder of ``choice`` and vocode ``frames`` frames of silence with it once, so that its
        next call pays neither its weights nor torch's and oneDNN's first-call set-up (the window does this
        for the preview vocoder at start: measured here, 0.15 s of CPU for the iSTFT vocoder's weights and
        150 ms for its first 24-frame chunk on an AVX2 CPU against 28 ms for each later one)."""
        vocoder = self.vocoder(choice)
        floor = float(np.log(vocoder.config.log_floor))
        vocoder.vocode_range(np.full((vocoder.config.n_mels, frames), floor, np.float32), 0, frames)
        return vocoder

    def renderer(self, doc_id: int, choice: VocoderChoice) -> Renderer:
        """The renderer of document ``doc_id`` (``Document.uid``) for ``choice``, created on first use."""
        with self._lock:
            renderer = self._renderers.get((doc_id, choice.key))
        if renderer is None:
            renderer = Renderer(self.vocoder(choice))
            with self._lock:
                renderer = self._renderers.setdefault((doc_id, choice.key), renderer)
        return renderer

    def existing_renderer(self, doc_id: int, choice: VocoderChoice) -> Renderer | None:
        """The renderer of document ``doc_id`` for ``choice`` if one was made (never builds a vocoder)."""
        with self._lock:
            return self._renderers.get((doc_id, choice.key))

    def private_renderer(self, choice: VocoderChoice) -> Renderer:
        """A new renderer of its own over the shared vocoder of ``choice`` (not kept in the cache).

        For a job on another worker lane (a batch export beside playback): a :class:`Renderer` is not
        thread-safe, so two jobs that run at the same time must not share one; the vocoder itself is shared.
        """
        return Renderer(self.vocoder(choice))

    def forget(self, doc_id: int) -> None:
        """Drop the renderers of a closed document."""
        with self._lock:
            for key in [k for k in self._renderers if k[0] == doc_id]:
                del self._renderers[key]
