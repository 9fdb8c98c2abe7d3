"""Preview-then-replace playback: a slow vocoder's first sound at once, from a fast vocoder's take (no Qt).

On a CPU where the chosen vocoder runs near real time (HiFi-GAN at RTF 0.85 on a 2-core AVX2 CPU) the gapless
hold of :func:`vocoder_studio.engine.playback.play_job` waited 4.7 s for the first sound. Here playback starts
after the first chunk of a *preview take*, vocoded by the fast iSTFT vocoder (RTF 0.005-0.014), on the same hop
grid; the slow vocoder's chunks then replace the preview in the player's buffer as they arrive:

- only audio not yet played is replaced, with a crossfade where the takes meet, so there is never a gap or a
  click (:class:`~vocoder_studio.engine.preview_takes.PreviewTakes` keeps which take each sample holds);
- the slow vocoder does not start where the preview started: once its speed is measured (its first chunk) it
  jumps ahead to the first frame from which its chunks arrive before the playhead, by the same prediction that
  used to hold the output (:func:`join_frame`), so its sound joins as early as it can keep it; the frames it
  skipped are vocoded after the rest, for the cache (the next press plays the slow take throughout) and for a
  loop's next pass;
- the slow take is made on a thread of its own (:mod:`vocoder_studio.engine.slow_take`), which also builds the
  slow vocoder when it is not built yet, after the preview's first second is out: loading HiFi-GAN's weights
  and a slow first chunk (WaveNet's takes seconds) are never in front of the first sound nor starve the feed;
- an edit while it plays is handed to the play job (:meth:`PreviewTakes.post_edit`), which re-vocodes its
  frames with the fast vocoder at once and the slow one next; after the job,
  :func:`vocoder_studio.engine.playback.update_job` does the same.

The preview runs when the slow vocoder is predicted slower than :data:`PREVIEW_RTF` (RTF, compute seconds per
second of audio) or has not been timed yet, and only where the preview vocoder is installed
(:func:`vocoder_studio.vocoders.registry.preview_vocoder`).
"""

from __future__ import annotations

import math
import queue
import time
from collections.abc import Callable

import numpy as np

from vocoder_studio.engine.jobs import CancelToken, Progress
from vocoder_studio.engine.player import Player
from vocoder_studio.engine.preview_takes import PREVIEW, PREVIEW_RTF, SLOW, PreviewTakes
from vocoder_studio.engine.render import Renderer
from vocoder_studio.engine.slow_take import RendererSource, SlowTake
from vocoder_studio.errors import JobCancelled
from vocoder_studio.vocoders.base import CHUNK_GROWTH

#: Predicted vocoding times are stretched by this much when planning where the slow take joins (other work
#: shares the CPU). Less than the hold's margin: a misprediction costs no gap here, only the part of a chunk
#: that comes late, which the preview plays instead.
JOIN_MARGIN = 1.1

#: Seconds of preview kept buffered ahead of the playhead (the slow take replaces what it can of it; the
#: iSTFT vocoder makes them in 1-3 % of the time).
FEED_AHEAD_S = 3.0

#: Seconds of preview fed before the slow take starts beside it (on a busy CPU the two then compete for it).
START_LEAD_S = 1.0

#: The preview starts once the audio it has made lasts this many times what its next chunk is predicted to
#: take (on an idle CPU the first chunk; on a busy one, where a 24-frame chunk took 0.2 s, more).
HOLD_MARGIN = 1.5

#: Torch threads of the preview's chunks (on this thread; the slow take's thread keeps its own): its ops are
#: small, and with a second OpenMP thread waiting on a busy core a 64-frame chunk took 7 s here instead of 40 ms.
PREVIEW_THREADS = 1

#: Frames per chunk of the preview take: the play job looks at edits and at the slow take between two, so
#: they are short (the iSTFT vocoder makes 64 frames in a few milliseconds).
PREVIEW_CHUNK_FRAMES = 64

#: Seconds the play job waits for the slow take's next chunk before it looks at the feed and at edits again.
POLL_S = 0.005

#: Seconds of the slow take's chunk plan that must arrive in time for it to join (beyond, it can fall back).
HORIZON_S = 4.0

#: First chunk sizes (frames) the join plan tries: small chunks join sooner, large ones waste less on context.
JOIN_CHUNKS = (32, 48, 64, 96, 128, 192, 256)

def predict_seconds(renderer: Renderer, frames: int) -> float | None:
    """Predicted compute seconds for ``frames`` frames (context included): the median cost per frame of the
    renderer's recent timings, the slowest left out when there are two or more (a vocoder's first chunk pays
    its set-up: the Griffin-Lim filterbank, oneDNN's kernels for a new shape, and predicted every later chunk
    slower than real time here); None before any timing."""
    rates = sorted(seconds / max(1, n) for n, seconds in renderer.timings)
    if not rates:
        return None
    if not renderer.vocoder.local_edits:  # one stream: its chunks come out unevenly (WaveNet's pieces in a batch)
        return sum(s for _, s in renderer.timings) / max(1, sum(n for n, _ in renderer.timings)) * frames
    return float(np.median(rates[:-1] if len(rates) > 1 else rates)) * frames


def predicted_rtf(renderer: Renderer, chunk_frames: int = 256) -> float | None:
    """The renderer's vocoder's predicted real-time factor for chunks of ``chunk_frames`` frames, context
    frames included (compute seconds per second of audio); None before it was timed."""
    seconds = predict_seconds(renderer, renderer_cost(renderer, chunk_frames))
    if seconds is None:
        return None
    return seconds / (chunk_frames * renderer.hop_length / renderer.vocoder.sample_rate)


def renderer_cost(renderer: Renderer, frames: int) -> int:
    """Frames computed to make ``frames`` frames in one chunk (the context on each side added)."""
    return frames + (2 * renderer.vocoder.receptive_field_frames if renderer.vocoder.local_edits else 0)


def wants_preview(renderer: Renderer, threshold: float | None = PREVIEW_RTF) -> bool:
    """Whether a playback with ``renderer`` starts on a preview take: ``threshold`` is set and the vocoder is
    predicted slower than it, or has not been timed yet (its first chunk times it: a fast vocoder then replaces
    the preview within that chunk)."""
    if threshold is None:
        return False
    rtf = predicted_rtf(renderer)
    return rtf is None or rtf > threshold


def lead_seconds(renderer: Renderer, size: int, chunk_frames: int, margin: float = JOIN_MARGIN,
                 horizon_s: float = HORIZON_S) -> float:
    """How far ahead of the playhead (seconds) the slow take must start for each of its chunks (``size``
    frames first, growing by :data:`CHUNK_GROWTH` to ``chunk_frames``) to be predicted ready before the
    playhead reaches it, for ``horizon_s`` seconds of audio; 0 before the vocoder was timed."""
    frame_s = renderer.hop_length / renderer.vocoder.sample_rate
    finish = played = need = 0.0
    while played < horizon_s:
        finish += margin * (predict_seconds(renderer, renderer_cost(renderer, size)) or 0.0)
        need = max(need, finish - played)
        played += size * frame_s
        size = min(max(size + 1, int(size * CHUNK_GROWTH)), chunk_frames)
    return need


def join_frame(renderer: Renderer, at: int, end: int, size: int, chunk_frames: int, playhead: int,
               margin: float = JOIN_MARGIN, horizon_s: float = HORIZON_S) -> tuple[int, int]:
    """Where the slow take can join: the first frame ``≥ at`` from which its chunks are predicted ready before
    the playhead reaches them (:func:`lead_seconds`), and the size of the first chunk from there.

    It is :func:`vocoder_studio.engine.render.can_start_playback` turned round: instead of holding the output
    until the buffer covers the vocoding, the preview plays and the slow take joins that far ahead of the
    playhead. The first chunk is ``size`` frames when joining at ``at`` is in time, else the size of
    :data:`JOIN_CHUNKS` that joins soonest. Returns ``(at, size)`` when the vocoder was never timed.

    Args:
        at: the next frame the slow vocoder would make in order; ``end``: the end of the range.
        size: the size of its next chunk in order.
        playhead: the frame playing now.
    """
    if not renderer.timings:
        return at, size
    frame_s = renderer.hop_length / renderer.vocoder.sample_rate
    need = {s: lead_seconds(renderer, s, chunk_frames, margin, horizon_s)
            for s in {size, *[c for c in JOIN_CHUNKS if c <= chunk_frames]}}
    if playhead + need[size] / frame_s <= at:
        return at, size
    best = min(need, key=lambda s: (need[s], s))
    return min(end, max(at, playhead + math.ceil(need[best] / frame_s))), best


def preview_play_job(
    renderer: RendererSource,
    takes: PreviewTakes,
    player: Player,
    mel: np.ndarray,
    version: int | None,
    start: int,
    end: int,
    loop: bool,
    first_chunk_frames: int,
    chunk_frames: int,
    open_end: bool = False,
) -> Callable[[Progress, CancelToken], int]:
    """The play job of a preview-then-replace playback of frames ``[start, end)`` (see the module's
    docstring); returns the samples fed. ``takes.renderer`` is the preview vocoder's renderer; ``renderer``
    the slow vocoder's, or a function that makes it (called on the slow take's thread after the first preview
    chunk is out, so building the vocoder is not in front of the first sound); ``open_end``: as
    :func:`vocoder_studio.engine.playback.play_job`'s.

    This thread feeds the preview up to :data:`FEED_AHEAD_S` ahead of the playhead, writes each chunk of the
    slow take (:class:`~vocoder_studio.engine.slow_take.SlowTake`, vocoded on its own thread) as it comes,
    and answers an edit posted with :meth:`PreviewTakes.post_edit` by re-vocoding its frames with the preview
    vocoder at once; the slow take re-vocodes them next."""
    preview = takes.renderer
    assert preview is not None
    hop = preview.hop_length
    frame_s = hop / player.sample_rate

    def job(progress: Progress, cancel: CancelToken) -> int:
        preview.threads = PREVIEW_THREADS
        preview.update(mel, version)
        player.start((end - start) * hop, start * hop, loop=loop, hold=True, open_end=open_end)
        takes.begin(player, start * hop, (end - start) * hop)
        takes.slow, current = None, version
        previews = preview.stream(mel, version, start, end, PREVIEW_CHUNK_FRAMES, first_chunk_frames, cancel=cancel)
        fed_to = start

        def feed(until: int) -> None:
            nonlocal fed_to
            while fed_to < min(until, end):
                frame, audio = next(previews)
                player.write(audio)
                fed_to = frame + audio.size // hop
                if player.held:  # at once, unless a busy CPU made the chunk slower than the audio it holds
                    size = min(PREVIEW_CHUNK_FRAMES, int(CHUNK_GROWTH * audio.size // hop) + 1)
                    nxt = preview.predict_seconds(preview.cost_frames(fed_to, min(end, fed_to + size))) or 0.0
                    held_s = (fed_to - start) * frame_s
                    if fed_to >= end or held_s >= min(START_LEAD_S, HOLD_MARGIN * nxt):
                        player.release()

        feed(start + 1)  # the first sound
        feed(start + math.ceil(START_LEAD_S / frame_s))

        def slow_take(source: RendererSource, mel: np.ndarray, version: int | None, first: int) -> SlowTake:
            take = SlowTake(source, mel, version, start, end, lambda: player.position // hop,
                            lambda: player.is_playing, chunk_frames, first,
                            lambda r, a, e, s, p: join_frame(r, a, e, s, chunk_frames, p), cancel, loop)
            take.begin()
            return take

        slow, slow_done = slow_take(renderer, mel, version, first_chunk_frames), False
        try:
            while True:
                cancel.check()
                if (edit := takes.take_edit()) is not None:
                    new_mel, current = edit
                    slow.post(new_mel, current)
                    changed = preview.update(new_mel, current)
                    if changed is not None:  # heard at once from the preview; the slow take's comes next
                        a = max(start, changed[0], start if loop else player.position // hop)
                        for frame, audio in preview.stream(new_mel, current, a, min(fed_to, changed[1]),
                                                           cancel=cancel):
                            takes.put(PREVIEW, frame * hop, audio, played=loop)
                            takes.edits_written.append((time.perf_counter(), frame * hop))
                    previews = preview.stream(new_mel, current, fed_to, end, PREVIEW_CHUNK_FRAMES,
                                              PREVIEW_CHUNK_FRAMES, cancel=cancel)
                    if slow_done:  # the slow take had finished: it goes over the edit again
                        slow, slow_done = slow_take(slow.renderer or renderer, new_mel, current, chunk_frames), False
                feeding = fed_to < min(end, player.position // hop + math.ceil(FEED_AHEAD_S / frame_s))
                if feeding:
                    feed(fed_to + 1)  # one chunk, then a look at the slow take and at edits
                if fed_to >= end and not takes.fed:
                    if not open_end:
                        player.finish()
                    takes.fed = True
                if slow_done and takes.fed and takes.close():  # and no edit waits: the takes are complete
                    break
                try:
                    message = slow.messages.get_nowait() if feeding else slow.messages.get(timeout=POLL_S)
                except queue.Empty:
                    continue
                if message[0] == "done":
                    if (pending := slow.pending_edit()) is not None:  # posted after its last look
                        slow = slow_take(slow.renderer or renderer, *pending, chunk_frames)
                    else:
                        slow_done = True
                    continue
                if message[0] == "error":
                    raise message[1]
                _, frame, audio, made_from, played = message
                if made_from != current:  # made from the mel before an edit: the preview plays there instead
                    continue
                feed(frame + audio.size // hop)
                done = takes.put(SLOW, frame * hop, audio, played=played)
                if done is None or done[0] == done[1]:
                    takes.late_chunks += 1
                assert slow.renderer is not None
                rtf = predicted_rtf(slow.renderer)
                takes.slow = None if rtf is None else takes.threshold is None or rtf > takes.threshold
                progress((frame - start) / max(1, end - start), f"vocoding with {slow.renderer.vocoder.name}, "
                                                                f"preview by {preview.vocoder.name}")
            if takes.slow is False:  # the vocoder keeps up by itself: edits are re-vocoded as without a preview
                takes.active = False
        except JobCancelled:
            player.stop()
            raise
        finally:
            takes.close(force=True)
            slow.stop()
        return (fed_to - start) * hop

    return job


def preview_update_job(
    renderer: Renderer,
    takes: PreviewTakes,
    mel: np.ndarray,
    version: int | None,
    start: int,
    end: int,
) -> Callable[[Progress, CancelToken], int]:
    """After an edit during a preview-then-replace playback: the frames the edit reaches are re-vocoded by the
    preview vocoder first (heard within milliseconds) and by the slow vocoder second, each written over the
    part not yet played (and, looping, over the part played). Returns the frames the slow vocoder re-vocoded."""
    preview = takes.renderer
    assert preview is not None
    hop = renderer.hop_length

    def job(progress: Progress, cancel: CancelToken) -> int:
        loop = takes.player is not None and takes.player.looping
        before = renderer.vocoded_frames
        fast, slow = preview.update(mel, version), renderer.update(mel, version)
        # the slow take rewrites all the preview did (from its cache outside its own changed frames)
        reach = [r for r in (fast, slow) if r is not None]
        both = (min(r[0] for r in reach), max(r[1] for r in reach)) if reach else None
        for take, source, changed in ((PREVIEW, preview, fast), (SLOW, renderer, both)):
            if changed is None:
                continue
            a, b = max(start, changed[0]), min(end, changed[1])
            if b <= a:
                continue
            for frame, audio in source.stream(mel, version, a, b, progress=progress, cancel=cancel):
                takes.put(take, frame * hop, audio, played=loop)
        return renderer.vocoded_frames - before

    return job

