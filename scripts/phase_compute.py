"""Compute of vocoder settings against a reference, timed in one run: interleaved rounds, each setting vocoding the
same clips in turn, at 1 and at 2 torch threads. Prints, per thread count and setting, the median over rounds of
wall seconds and of the process's CPU seconds per second of audio, and each as a fraction of the reference's (the
first setting). CPU time is the steadier figure on a shared machine (it does not count the time other processes
held the core); with 2 threads it counts both.

    nice -n 10 python scripts/phase_compute.py istft griffin-lim:init=random:iterations=32 --rounds 7

Settings are written as ``eval vocoders`` takes them (``NAME:PARAM=VALUE:...``); the first is the reference.
Clips: ``--clips FILE...``, else the alsa-utils speech clips (Noise.wav left out) and ``resources/example.flac``.
Set ``OMP_NUM_THREADS`` to the thread count too (numpy's BLAS reads it). The load average is printed before and after.
"""

from __future__ import annotations

import argparse
import glob
import json
import os
import statistics
import time
from pathlib import Path

import numpy as np
import torch

from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.vocoders import create_vocoder
from vocoder_studio.vocoders.choice import VocoderChoice

ROOT = Path(__file__).resolve().parent.parent


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("settings", nargs="+")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--clips", nargs="+", default=None, metavar="FILE")
    args = parser.parse_args()
    paths = args.clips or [p for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav")) if not p.endswith("Noise.wav")]
    if not args.clips:
        paths.append(str(ROOT / "resources" / "example.flac"))
    print("load average at the start", os.getloadavg(), flush=True)
    clips = [load_audio(p) for p in paths]
    mels = [wav_to_mel(c[: c.size // 256 * 256]) for c in clips]
    seconds = sum(m.shape[1] for m in mels) * 256 / 22050
    specs = [VocoderChoice.parse(s) for s in args.settings]
    vocoders = [create_vocoder(s.name, **dict(s.params)) for s in specs]
    report: dict[str, dict[str, dict[str, float]]] = {}
    for threads in args.threads:
        torch.set_num_threads(threads)
        for v in vocoders:  # warm-up: first calls of each length pay set-up costs
            for mel in mels:
                v.vocode(mel)
        wall: list[list[float]] = [[] for _ in specs]
        cpu: list[list[float]] = [[] for _ in specs]
        for _ in range(args.rounds):
            for i, v in enumerate(vocoders):
                w, c = time.perf_counter(), time.process_time()
                for mel in mels:
                    np.asarray(v.vocode(mel))
                wall[i].append((time.perf_counter() - w) / seconds)
                cpu[i].append((time.process_time() - c) / seconds)
        rows = {}
        for i, spec in enumerate(specs):
            w, c = statistics.median(wall[i]), statistics.median(cpu[i])
            rows[spec.label] = {"rtf_wall": round(w, 5), "rtf_cpu": round(c, 5),
                                "wall_vs_ref": round(w / statistics.median(wall[0]), 3),
                                "cpu_vs_ref": round(c / statistics.median(cpu[0]), 3)}
            print(f"threads {threads}  {spec.label:48s} {rows[spec.label]}", flush=True)
        report[f"threads_{threads}"] = rows
    print(json.dumps({"audio_seconds": round(seconds, 2), "rounds": args.rounds, "clips": len(paths),
                      "loadavg_end": os.getloadavg(), **report}, indent=2))


if __name__ == "__main__":
    main()
