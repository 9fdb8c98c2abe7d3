"""Live continuation (Transport ▸ Continue live) on this machine: how fast the chunked sampler runs against real
time, and how a continued playback sounds through the real player (gaps of silence while it waits).

- ``speed``: the shipped MelNet continuing each unseen English clip (alsa-utils, Noise.wav left out) for
  ``--seconds`` in chunks of 22 / 43 / 86 frames, each primed with the last 172 frames, against one
  ``sample`` call of the same length (what re-priming every chunk costs); frames per second, one thread.
- ``play``: a clip plays with the chosen vocoder and MelNet continues it for ``--seconds`` as the window does
  (the sampler on one thread, the vocoding on another, the playhead pacing the sampler), through the default
  audio output (a PulseAudio null sink headless: ``scripts/pulse-null-sink.sh``); prints the gaps and the
  seconds of silence between the first sound and the last (the wait at the clip's end included).

    nice -n 10 python scripts/live_measure.py speed play --vocoders griffin-lim hifigan [--sampler both]

``--sampler``: ``compiled`` (MelNet's sampler as shipped), ``torch`` (the sampler it replaced: the torch calls,
``sample(compiled=False)``, priming through ``TierNet.time_context`` as before) or ``both``, alternately clip by
clip (the comparison that holds on a busy machine; the 1-minute load average is printed with each figure).
"""

from __future__ import annotations

import argparse
import functools
import os
import queue
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np
import torch

from vocoder_studio import melnet
from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.engine import CancelToken, Renderer, run_job
from vocoder_studio.engine.continuation import LiveContinuation, LiveSettings
from vocoder_studio.engine.generate import default_model_path
from vocoder_studio.engine.playback import play_job
from vocoder_studio.engine.player import Player
from vocoder_studio.errors import JobCancelled
from vocoder_studio.melnet import load_model
from vocoder_studio.melnet.model import TierNet
from vocoder_studio.melnet.sampling import default_tier_temperatures

CLIPS = sorted(p for p in Path("/usr/share/sounds/alsa").glob("*.wav") if p.name != "Noise.wav")
REAL_TIME = 1.0 / DEFAULT_CONFIG.frame_seconds  # frames per second of audio
SAMPLE = melnet.sample
TIME_STATES = TierNet.time_states


def _full_time_states(net: TierNet, x_prev: torch.Tensor, cond: torch.Tensor | None) -> Any:
    ctx = net.time_context(x_prev, cond)
    return ctx.states, ctx.central_states


def use_sampler(compiled: bool) -> None:
    """Make ``melnet.sample`` (which the live continuation calls) the compiled sampler or the sampler it replaced
    (the torch calls, priming a prefix through ``TierNet.time_context`` with its outputs, as before)."""
    melnet.sample = functools.partial(SAMPLE, compiled=compiled)  # type: ignore[assignment]
    TierNet.time_states = TIME_STATES if compiled else _full_time_states  # type: ignore[method-assign]


def load() -> str:
    return f"load {os.getloadavg()[0]:.2f}"


def speed(seconds: float, samplers: list[bool], chunks: list[int]) -> None:
    model = load_model(default_model_path(), DEFAULT_CONFIG)
    tiers = default_tier_temperatures(model.config.n_tiers)
    frames = round(seconds * REAL_TIME)
    print(f"sampler speed, {len(CLIPS)} clips, {frames} frames each, 1 thread (real time {REAL_TIME:.1f} frames/s)")
    for chunk in [c or None for c in chunks]:
        rates: dict[bool, list[float]] = {c: [] for c in samplers}
        for i, clip in enumerate(CLIPS):
            mel = wav_to_mel(load_audio(clip))
            for compiled in samplers:
                use_sampler(compiled)
                began = time.perf_counter()
                if chunk is None:
                    melnet.sample(model, frames, prime=mel[:, -172:], tier_temperatures=tiers, seed=i, threads=1)
                else:
                    live = LiveContinuation(mel, LiveSettings(chunk_frames=chunk, seed=i))
                    made = 0
                    for block in live.chunks(model):
                        made += block.shape[1]
                        if made >= frames:
                            break
                rates[compiled].append(frames / (time.perf_counter() - began))
        label = "one call" if chunk is None else f"chunks of {chunk}"
        for compiled, r in rates.items():
            print(f"  {label:>14}, {'compiled' if compiled else 'torch calls'}: {np.median(r):6.1f} frames/s "
                  f"median ({min(r):.1f}-{max(r):.1f}), {np.median(r) / REAL_TIME:.2f}x real time ({load()})",
                  flush=True)


def play(vocoder: str, clip: Path, seconds: float, compiled: bool) -> None:
    from vocoder_studio.vocoders import create_vocoder

    use_sampler(compiled)
    hop = DEFAULT_CONFIG.hop_length
    mel = wav_to_mel(load_audio(clip))
    renderer = Renderer(create_vocoder(vocoder))
    renderer.render(mel, 1)  # the clip's own audio cached, as after a first play: what is measured is the rest
    player = Player(DEFAULT_CONFIG.sample_rate)
    live = LiveContinuation(mel, LiveSettings(max_seconds=seconds, seed=1))
    token = CancelToken()
    blocks: queue.Queue[tuple[int, np.ndarray] | None] = queue.Queue()

    def sampler() -> None:
        try:
            run_job(live.job(), cancel=token, on_partial=blocks.put)
        except JobCancelled:
            pass
        blocks.put(None)

    def ticker() -> None:
        while not token.cancelled:
            live.set_playhead(player.position // hop)
            time.sleep(0.03)

    run_job(play_job(renderer, player, mel, 1, open_end=True))
    threads = [threading.Thread(target=sampler), threading.Thread(target=ticker)]
    for t in threads:
        t.start()
    doc = mel
    while (piece := blocks.get()) is not None:
        doc = np.concatenate([doc, piece[1]], axis=1)
        run_job(live.audio_job(lambda: renderer, player, doc, None))
    run_job(live.audio_job(lambda: renderer, player, doc, None, last=True))
    player.finish()
    player.wait()
    finished = time.perf_counter()
    token.cancel()
    for t in threads:
        t.join()
    played = player.position / player.sample_rate
    silent = finished - (player.first_sound_time or finished) - played
    which = "compiled" if compiled else "torch calls"
    print(f"  {vocoder:>11} {clip.name:>18} ({which}, {load()}): "
          f"{live.sampled * DEFAULT_CONFIG.frame_seconds:.1f} s continued, {player.gaps} gaps, "
          f"{max(0.0, silent):.2f} s of silence in all")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("what", nargs="+", choices=("speed", "play"))
    parser.add_argument("--seconds", type=float, default=4.0)
    parser.add_argument("--vocoders", nargs="+", default=["griffin-lim", "hifigan"])
    parser.add_argument("--clips", type=int, default=2, help="clips played per vocoder (play)")
    parser.add_argument("--sampler", choices=("compiled", "torch", "both"), default="compiled")
    parser.add_argument("--chunks", type=int, nargs="+", default=[22, 43, 86, 0],
                        help="chunk sizes timed by speed (0: one sample call)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    samplers = {"compiled": [True], "torch": [False], "both": [False, True]}[args.sampler]
    if "speed" in args.what:
        speed(args.seconds, samplers, args.chunks)
    if "play" in args.what:
        print(f"continued playback, {args.seconds:g} s past each clip's end, through the default output")
        for vocoder in args.vocoders:
            for clip in CLIPS[: args.clips]:
                for compiled in samplers:
                    play(vocoder, clip, args.seconds, compiled)


if __name__ == "__main__":
    main()
