"""Solo the selected band: what Play vocodes when the selection is a time × frequency box (no Qt).

Every cell outside the box is set to the front-end's floor (``MelConfig.floor_ln``: digital silence) before
vocoding, and the box's inner edges fade over a few bands and frames, crossfaded in linear magnitude, so the
band starts and stops without a click and its spectral edges do not ring (the soft edges that audio editors'
spectral tools use; Audacity's spectral selection is played the same way, through a band-pass).
A selection that spans every band is the old behaviour: the whole spectrum over the selected time.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vocoder_studio.document import Document, Region
from vocoder_studio.engine.cache import RenderCache
from vocoder_studio.engine.render import Renderer
from vocoder_studio.vocoders.choice import VocoderChoice

#: Mel bands and frames over which a solo band fades in at its inner edges (2 bands; 4 frames = 46 ms).
FADE_BANDS = 2
FADE_FRAMES = 4


def _ramp(n: int, start: int, end: int, fade: int, fade_start: bool, fade_end: bool) -> np.ndarray:
    """Weights ``(n,)``: 1 inside ``[start, end)``, 0 outside, raised-cosine ramps of ``fade`` cells inside the
    edges that ask for one (each ramp at most half the range)."""
    weights = np.zeros(n, np.float64)
    weights[start:end] = 1.0
    fade = min(fade, (end - start) // 2)
    if fade > 0:
        ramp = 0.5 - 0.5 * np.cos(np.pi * (np.arange(fade) + 0.5) / fade)
        if fade_start:
            weights[start : start + fade] = ramp
        if fade_end:
            weights[end - fade : end] = ramp[::-1]
    return weights


def is_band_selection(selection: Region | None, n_mels: int) -> bool:
    """Whether ``selection`` leaves out some bands (so that soloing it differs from playing its frames)."""
    return selection is not None and not selection.empty and (selection.band0 > 0 or selection.band1 < n_mels)


def solo_band(mel: np.ndarray, selection: Region, floor_ln: float, fade_bands: int = FADE_BANDS,
              fade_frames: int = FADE_FRAMES) -> np.ndarray:
    """The mel with everything outside ``selection`` faded to silence.

    Args:
        mel: float32 ln-mel ``(n_mels, frames)``.
        selection: the box to keep (frames ``[frame0, frame1)`` × bands ``[band0, band1)``).
        floor_ln: the front-end's floor (``MelConfig.floor_ln``), what silence is in this scale.
        fade_bands, fade_frames: the length of the ramps inside the box's edges (none at the mel's own edges).
    Returns:
        a new float32 ln-mel of the same shape: ``ln(w·exp(mel) + (1 − w)·exp(floor))`` with ``w`` the product
        of the band and frame ramps (1 well inside the box, 0 outside).
    """
    n_mels, frames = mel.shape
    sel = selection.clip(n_mels, frames)
    w_band = _ramp(n_mels, sel.band0, sel.band1, fade_bands, sel.band0 > 0, sel.band1 < n_mels)
    w_frame = _ramp(frames, sel.frame0, sel.frame1, fade_frames, sel.frame0 > 0, sel.frame1 < frames)
    weights = np.outer(w_band, w_frame)
    floor = np.exp(floor_ln)
    linear = weights * np.exp(mel.astype(np.float64)) + (1.0 - weights) * floor
    return np.log(np.maximum(linear, floor)).astype(np.float32)


class PlaySource:
    """What the transport vocodes for a document: its mel, or its solo band when the selection is a band and
    :attr:`solo` is on.

    A solo band is vocoded by a renderer of its own (per vocoder choice, made on the worker thread), so the
    document's cached audio (render-ahead, export) stays as it is.

    Args:
        cache: the render cache (the document's renderers and the shared vocoders).
    Attributes:
        solo: play only the selected band (True), or the whole spectrum over the selected time (False).
    """

    def __init__(self, cache: RenderCache) -> None:
        self.cache = cache
        self.solo = True
        self._solo: tuple[object, Renderer] | None = None

    def soloing(self, doc: Document) -> bool:
        """Whether Play would play only a band of ``doc``."""
        return self.solo and is_band_selection(doc.selection, doc.n_mels)

    def prepare(self, doc: Document, choice: VocoderChoice) -> tuple[np.ndarray, int | None, Callable[[], Renderer]]:
        """``(mel, version, renderer)`` to vocode ``doc`` with: a copy of its mel (or of its solo band), the
        version the renderer may trust (None for a solo band), and a function giving the renderer (call it on
        the worker thread: it may build the vocoder)."""
        mel = doc.mel.copy()
        if not self.soloing(doc):
            uid, cache = doc.uid, self.cache
            return mel, doc.version, lambda: cache.renderer(uid, choice)
        assert doc.selection is not None
        return solo_band(mel, doc.selection, doc.config.floor_ln), None, lambda: self._renderer(choice)

    def _renderer(self, choice: VocoderChoice) -> Renderer:
        if self._solo is None or self._solo[0] != choice.key:
            self._solo = (choice.key, self.cache.private_renderer(choice))
        return self._solo[1]
