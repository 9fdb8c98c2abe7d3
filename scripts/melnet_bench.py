"""MelNet sampling speed on this CPU: frames per second per tier and for the whole model, by CPU time (so other
work on a shared machine does not count) and by wall time, at one intra-op thread. A benchmark, not a test.

    python scripts/melnet_bench.py [MODEL.pt] [--frames 172] [--repeats 3] [--prime CLIP] [--compare]

Tier ``g`` samples its own frames (tiers split along time have half as many); "output frames/s" is frames of
the finished mel per second over all tiers, the figure to set against real time (1 / frame_seconds ≈ 86.1).
``--prime CLIP``: a continuation of the clip's last 2 s (``generate --prime CLIP --prime-seconds 2``), at the
command line's tier temperatures. ``--compare``: the compiled sampler against the sampler it replaced (the torch
calls, ``sample(compiled=False)``, priming a prefix through ``TierNet.time_context`` as before), run alternately,
``--repeats`` of each with seeds 0, 1, …: the median CPU-time ratio is the figure that holds on a busy machine;
the 1-minute load average is printed beside every figure.
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from typing import Any

import numpy as np
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.melnet import load_model, sample
from vocoder_studio.melnet.model import TierNet
from vocoder_studio.melnet.sampling import default_tier_temperatures
from vocoder_studio.vocoders.checkpoints import find_model

TIME_STATES = TierNet.time_states


def _full_time_states(net: TierNet, x_prev: torch.Tensor, cond: torch.Tensor | None) -> Any:
    """The priming before this round: the whole time_context, its outputs included (the same states)."""
    ctx = net.time_context(x_prev, cond)
    return ctx.states, ctx.central_states


def _old(old: bool) -> None:
    """The sampler as it was before the compiled step (``compiled=False`` primes as before too) or as it is."""
    TierNet.time_states = _full_time_states if old else TIME_STATES  # type: ignore[method-assign]


def _load() -> str:
    return "load {:.2f} {:.2f} {:.2f}".format(*os.getloadavg())


def _run(model: Any, frames: int, seed: int, prime: np.ndarray | None, compiled: bool,
         marks: list[tuple[float, str]] | None = None) -> tuple[float, float]:
    """(CPU s, wall s) of one sample call."""
    tiers = None if prime is None else default_tier_temperatures(model.config.n_tiers)
    progress = None if marks is None else (lambda f, m: marks.append((time.process_time(), m)))
    _old(not compiled)
    wall, cpu = time.perf_counter(), time.process_time()
    sample(model, frames, prime=prime, seed=seed, temperature=1.0, tier_temperatures=tiers, progress=progress,
           compiled=compiled)
    return time.process_time() - cpu, time.perf_counter() - wall


def compare(model: Any, frames: int, repeats: int, prime: np.ndarray | None) -> None:
    _run(model, 8, 0, prime, True)  # numba's import and its cached kernels load outside the timing
    rates: dict[bool, list[float]] = {True: [], False: []}
    ratios = []
    for seed in range(repeats):
        cpu = {}
        for compiled in (False, True):
            cpu[compiled] = _run(model, frames, seed, prime, compiled)[0]
            rates[compiled].append(frames / cpu[compiled])
        ratios.append(cpu[False] / cpu[True])
        print(f"  seed {seed}: torch calls {rates[False][-1]:.1f}, compiled {rates[True][-1]:.1f} output frames/s "
              f"(CPU time), ratio {ratios[-1]:.2f} ({_load()})", flush=True)
    real_time = 1.0 / DEFAULT_CONFIG.frame_seconds
    new, old = statistics.median(rates[True]), statistics.median(rates[False])
    print(f"median of {repeats}: compiled {new:.1f} output frames/s ({new / real_time:.2f}x real time), torch calls "
          f"{old:.1f} ({old / real_time:.2f}x); speed ratio new/old {statistics.median(ratios):.2f} ({_load()})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None, help="a MelNet checkpoint (default: the shipped one)")
    parser.add_argument("--frames", type=int, default=172, help="output frames per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs (the fastest by CPU time is kept)")
    parser.add_argument("--prime", default=None, help="an audio file: continue its last 2 s")
    parser.add_argument("--compare", action="store_true", help="compiled against the torch calls, alternately")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model or find_model("melnet.pt"))
    prime = None
    if args.prime:
        from vocoder_studio.audio import load_audio, wav_to_mel

        prime = wav_to_mel(load_audio(args.prime))[:, -round(2.0 / DEFAULT_CONFIG.frame_seconds):]
    what = "unconditional" if prime is None else f"continuing {args.prime} (2 s prime)"
    print(f"MelNet {model.config.n_tiers} tiers, layers {list(model.config.layers)}, hidden {model.config.hidden}; "
          f"{args.frames} output frames, {what}, 1 thread")
    if args.compare:
        compare(model, args.frames, args.repeats, prime)
        return
    _run(model, 8, 0, prime, True)
    n_tiers = model.config.n_tiers
    best: tuple[float, float, list[float], list[int]] | None = None
    for seed in range(args.repeats):
        marks: list[tuple[float, str]] = []
        previous = time.process_time()
        cpu, wall = _run(model, args.frames, seed, prime, True, marks)
        tier_cpu, tier_frames = [], []
        for g in range(n_tiers):
            tier = [t for t, m in marks if m.startswith(f"tier {g + 1}/")]
            tier_cpu.append(tier[-1] - previous if tier else 0.0)
            tier_frames.append(len(tier))
            previous = tier[-1] if tier else previous
        if best is None or cpu < best[0]:
            best = (cpu, wall, tier_cpu, tier_frames)
    assert best is not None
    cpu, wall, tier_cpu, tier_frames = best
    real_time = 1.0 / DEFAULT_CONFIG.frame_seconds
    print(f"best of {args.repeats} by CPU time ({_load()})")
    print("| tier | frames | CPU s | tier frames/s |")
    print("| --- | --- | --- | --- |")
    for g in range(n_tiers):
        rate = tier_frames[g] / tier_cpu[g] if tier_cpu[g] > 0 else float("inf")
        print(f"| {g + 1} | {tier_frames[g]} | {tier_cpu[g]:.3f} | {rate:.1f} |")
    print(f"output frames/s: {args.frames / cpu:.1f} by CPU time ({args.frames / cpu / real_time:.2f}x real "
          f"time), {args.frames / wall:.1f} by wall time")


if __name__ == "__main__":
    main()
