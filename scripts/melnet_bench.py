"""MelNet sampling speed on this CPU: frames per second per tier and for the whole model, by CPU time (so other
work on a shared machine does not count) and by wall time, at one intra-op thread. A benchmark, not a test.

    python scripts/melnet_bench.py [MODEL.pt] [--frames 172] [--repeats 3]

Tier ``g`` samples its own frames (tiers split along time have half as many); "output frames/s" is frames of
the finished mel per second over all tiers, the figure to set against real time (1 / frame_seconds ≈ 86.1).
"""

from __future__ import annotations

import argparse
import time

import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.melnet import load_model, sample
from vocoder_studio.vocoders.checkpoints import find_model


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None, help="a MelNet checkpoint (default: the shipped one)")
    parser.add_argument("--frames", type=int, default=172, help="output frames per run")
    parser.add_argument("--repeats", type=int, default=3, help="runs (the fastest by CPU time is kept)")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model or find_model("melnet.pt"))
    n_tiers = model.config.n_tiers
    best: tuple[float, float, list[float], list[int]] | None = None
    for seed in range(args.repeats):
        marks: list[tuple[float, str]] = []
        wall, cpu = time.perf_counter(), time.process_time()
        sample(model, args.frames, seed=seed, temperature=1.0,
               progress=lambda f, m, marks=marks: marks.append((time.process_time(), m)))
        wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
        tier_cpu, tier_frames = [], []
        previous = time.process_time() - cpu
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
    print(f"MelNet {model.config.n_tiers} tiers, layers {list(model.config.layers)}, hidden {model.config.hidden}; "
          f"{args.frames} output frames, 1 thread, best of {args.repeats} by CPU time")
    print("| tier | frames | CPU s | tier frames/s |")
    print("| --- | --- | --- | --- |")
    for g in range(n_tiers):
        rate = tier_frames[g] / tier_cpu[g] if tier_cpu[g] > 0 else float("inf")
        print(f"| {g + 1} | {tier_frames[g]} | {tier_cpu[g]:.3f} | {rate:.1f} |")
    print(f"output frames/s: {args.frames / cpu:.1f} by CPU time ({args.frames / cpu / real_time:.2f}x real "
          f"time), {args.frames / wall:.1f} by wall time")


if __name__ == "__main__":
    main()
