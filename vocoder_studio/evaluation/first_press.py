"""The first press of Play in a fresh process, and an edit heard while that playback runs, as the window does.

``bench`` runs :func:`cold_press` in a child process of its own per vocoder, so that nothing is cached:
torch and the studio are imported and the vocoder registry is listed (the window shows the list at start),
the document's mel is computed, and — with ``warm_preview`` — the preview vocoder is built and run once on a
silent chunk (what the window does in the background at start, :meth:`RenderCache.warm`). The chosen vocoder
is not built, none of its kernels has run, and no audio is cached. Then, as ``Transport.play`` does:

- ``first_audio_cold_ms``: play pressed → the first audio callback with sound (the play job builds the chosen
  vocoder itself, beside the preview; with the preview off, before the sound, since it must time it);
- ``edit_heard_ms``: when the playhead is :data:`EDIT_AT_S` into the playback, a gain edit of
  :data:`EDIT_SECONDS` is applied from two frames past the playhead and handed to the play job as the window
  hands it (:meth:`PreviewTakes.post_edit`); the figure is the edit → the audio callback reading the first
  re-vocoded sample (polled every millisecond; the sound server's own latency, 10-30 ms through PulseAudio,
  comes on top). None where the playback did not start on the preview (it was not wanted);
- ``cold_underruns``, ``cold_slow_heard_ms`` (press → the chosen vocoder's own take first heard) and
  ``cold_slow_share`` (the fraction of the samples played that were its own).

Times are printed and written as JSON, never asserted by tests.
"""

from __future__ import annotations

import threading
import time
from typing import Any

import numpy as np

from vocoder_studio.document import Document, Region
from vocoder_studio.editing import apply_gain
from vocoder_studio.vocoders.choice import VocoderChoice

#: The fields :func:`cold_press` returns.
COLD_KEYS = ("first_audio_cold_ms", "edit_heard_ms", "cold_underruns", "cold_slow_heard_ms", "cold_slow_share",
             "preview_warm_s", "warm_preview")

#: Seconds into the playback when the edit is made.
EDIT_AT_S = 1.5

#: Seconds of the edit.
EDIT_SECONDS = 0.5


def cold_press(choice: VocoderChoice, mel: np.ndarray, device: str = "cpu", warm_preview: bool = True,
               preview: bool = True) -> dict[str, Any]:
    """One first press of Play on ``mel`` with ``choice`` in this (fresh) process; see the module docstring.

    Args:
        mel: ln-mel ``(n_mels, frames)``, a few seconds (the playback plays all of it).
        warm_preview: build and warm the preview vocoder before the press, as the window does at start;
            False: it is built by the press too (nothing at all loaded).
        preview: the window's Preview setting.
    Returns:
        ``{key: value}`` for :data:`COLD_KEYS` (figures not measured are None; all None without sound output).
    """
    from vocoder_studio.engine import CancelToken, run_job
    from vocoder_studio.engine.audio_output import playback_status
    from vocoder_studio.engine.cache import RenderCache
    from vocoder_studio.engine.playback import play_job
    from vocoder_studio.engine.player import Player
    from vocoder_studio.engine.preview_takes import PreviewTakes
    from vocoder_studio.vocoders.registry import PREVIEW_PARAMS, PREVIEW_VOCODER, get_entry, preview_vocoder

    out: dict[str, Any] = dict.fromkeys(COLD_KEYS) | {"warm_preview": warm_preview}
    if playback_status() is not None:
        return out
    previewing = preview and choice.name != PREVIEW_VOCODER and preview_vocoder() == PREVIEW_VOCODER
    get_entry(choice.name)  # the registry as the window lists it
    cache = RenderCache()
    preview_choice = VocoderChoice.make(PREVIEW_VOCODER, device, **PREVIEW_PARAMS)
    if previewing and warm_preview:
        began = time.perf_counter()
        cache.warm(preview_choice)
        out["preview_warm_s"] = time.perf_counter() - began
    doc = Document(mel)
    takes = PreviewTakes() if previewing else None
    rate, hop = doc.config.sample_rate, doc.config.hop_length
    player = Player(rate)
    failure: list[BaseException] = []

    def job(progress: Any, cancel: Any) -> int:  # what Transport.play runs on the worker thread
        renderer = (lambda: cache.renderer(doc.uid, choice)) if takes is not None else cache.renderer(doc.uid, choice)
        if takes is not None:
            takes.renderer = cache.renderer(doc.uid, preview_choice)
        return play_job(renderer, player, doc.mel.copy(), doc.version, preview=takes)(progress, cancel)

    def worker() -> None:
        try:
            run_job(job, cancel=CancelToken())
        except BaseException as exc:  # reported below
            failure.append(exc)

    pressed = time.perf_counter()
    thread = threading.Thread(target=worker, name="bench-play", daemon=True)
    thread.start()
    seconds = mel.shape[1] * hop / rate
    try:
        deadline = pressed + seconds + 60
        while time.perf_counter() < deadline and (thread.is_alive() or player.is_playing):
            if player.first_sound_time is not None and player.position >= EDIT_AT_S * rate:
                break
            time.sleep(0.001)
        if takes is not None and takes.active and player.is_playing:
            at = player.position // hop + 2
            frames = round(EDIT_SECONDS * rate / hop)
            edited = time.perf_counter()
            apply_gain(doc, Region(at, min(doc.frames, at + frames), doc.n_mels // 8, doc.n_mels // 2), -12.0)
            if takes.post_edit(doc.mel.copy(), doc.version):
                while not takes.edits_written and time.perf_counter() - edited < 10:
                    time.sleep(0.001)
                if takes.edits_written:
                    landed = max(at * hop, takes.edits_written[0][1])
                    while player.position <= landed and player.is_playing:
                        time.sleep(0.001)
                    out["edit_heard_ms"] = (time.perf_counter() - edited) * 1000
        player.wait(seconds + 30)
        thread.join(120)
    finally:
        player.stop()
    if failure:
        raise failure[0]
    first = player.first_sound_time
    out["first_audio_cold_ms"] = None if first is None else (first - pressed) * 1000
    out["cold_underruns"] = player.underruns
    if takes is not None and first is not None:  # inactive at the end: the vocoder kept up and took over (as bench)
        joined_s = takes.slow_heard_after_s()
        out["cold_slow_heard_ms"] = None if joined_s is None else (first - pressed + joined_s) * 1000
        out["cold_slow_share"] = takes.slow_share()
    return out
