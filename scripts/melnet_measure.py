"""Measure MelNet on this machine: held-out NLL per mel cell against the three baselines (fitted on the
training pack), training step time, sampling speed per tier, peak memory. One thread unless told otherwise.

    VOCODER_STUDIO_DATA=/work/data python scripts/melnet_measure.py MODEL.pt [--threads N]
"""

from __future__ import annotations

import argparse
import glob
import json
import resource
import time

import numpy as np
import torch

from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.melnet import MelNet, evaluate, load_model, sample
from vocoder_studio.melnet.baselines import fit_all
from vocoder_studio.training import corpus
from vocoder_studio.training.data import INT16_SCALE
from vocoder_studio.training.recipes import RECIPES


def pack_mels(split: str, count: int, max_seconds: float) -> list[np.ndarray]:
    pack = corpus.Pack.load(corpus.pack_path(split))
    out = []
    for i in np.linspace(0, len(pack) - 1, num=min(count, len(pack))).astype(int):
        clip = pack.clip(int(i))[: int(max_seconds * pack.sample_rate)]
        if clip.size >= 16 * DEFAULT_CONFIG.hop_length:
            out.append(wav_to_mel(clip))
    return out


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("model")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--train-clips", type=int, default=150)
    parser.add_argument("--test-clips", type=int, default=40)
    parser.add_argument("--sample-frames", type=int, default=86)
    args = parser.parse_args()
    torch.set_num_threads(args.threads)
    report: dict[str, object] = {"threads": args.threads}
    train = pack_mels("train", args.train_clips, 6.0)
    sets = {"test (Czech/Dutch, unseen levels)": pack_mels("test", args.test_clips, 6.0)}
    english = [p for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav")) if not p.endswith("Noise.wav")]
    if english:
        sets["English (alsa-utils, unseen speaker)"] = [wav_to_mel(load_audio(p)) for p in english]
    baselines = fit_all(train)
    model = load_model(args.model)
    nll: dict[str, dict[str, object]] = {}
    for name, mels in sets.items():
        row: dict[str, object] = {b.name: round(b.nll(mels), 4) for b in baselines}
        result = evaluate(model, mels)
        row["melnet"] = round(result["nll_per_cell"], 4)
        row["melnet_tiers"] = [round(v, 4) for v in result["tiers"]]
        row["cells"] = result["cells"]
        nll[name] = row
    report["nll_per_cell"] = nll

    recipe, settings = RECIPES["melnet"]()
    torch.manual_seed(0)
    fresh = recipe.build()
    assert isinstance(fresh, MelNet)
    fresh.set_normalisation(torch.from_numpy(np.concatenate(train[:20], axis=1)))
    optimiser = torch.optim.Adam(fresh.parameters(), 1e-3)
    rng = np.random.default_rng(0)
    pack = corpus.Pack.load(corpus.pack_path("train"))
    times = []
    for _ in range(4):
        starts = rng.integers(0, pack.audio.size - settings.segment_samples, size=settings.batch_size)
        audio = torch.from_numpy(np.stack([pack.audio[s: s + settings.segment_samples] for s in starts])
                                 .astype(np.float32) / INT16_SCALE)
        t0 = time.perf_counter()
        loss, _ = recipe.loss(fresh, audio)
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        times.append(time.perf_counter() - t0)
    report["train_step_s"] = {"batch": f"{settings.batch_size} x {settings.segment_samples // 256} frames",
                              "median_of_3": round(float(np.median(times[1:])), 3)}

    marks: list[tuple[float, str]] = []
    t0 = time.perf_counter()
    sample(model, args.sample_frames, seed=0, progress=lambda f, m: marks.append((time.perf_counter(), m)))
    total = time.perf_counter() - t0
    per_tier: dict[str, float] = {}
    start = t0
    for g in range(model.config.n_tiers):
        tier_marks = [t for t, m in marks if m.startswith(f"tier {g + 1}/")]
        if tier_marks:
            frames = len(tier_marks)
            per_tier[f"tier{g + 1}"] = round(frames / (tier_marks[-1] - start), 1)
            start = tier_marks[-1]
    report["sampling"] = {"frames": args.sample_frames, "seconds": round(total, 2),
                          "output_frames_per_s": round(args.sample_frames / total, 1),
                          "real_time_frames_per_s": round(1 / DEFAULT_CONFIG.frame_seconds, 1),
                          "tier_frames_per_s": per_tier}
    report["parameters"] = sum(p.numel() for p in model.parameters())
    report["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
