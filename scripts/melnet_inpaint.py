"""MelNet inpainting measured: a 0.5 s gap in the middle of each held-out clip (the Czech/Dutch test pack, levels
never trained on, and the English alsa-utils clips, a speaker and language never seen), refilled at a low
temperature, against linear interpolation across the gap: L1 in the gap (ln-mel units, mean per cell), and the
boundary discontinuity (L1 between the two frames meeting at each gap edge) against the original's at the same
edges and its natural frame-to-frame L1. Prints a Markdown table. One intra-op thread.

    VOCODER_STUDIO_DATA=/work/data python scripts/melnet_inpaint.py [MODEL.pt] [--gap 0.5] [--temperature 0.3]
"""

from __future__ import annotations

import argparse
import glob

import numpy as np
import torch

from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.melnet import evaluate_inpainting, load_model
from vocoder_studio.training import corpus
from vocoder_studio.vocoders.checkpoints import find_model


def test_pack_mels(count: int, max_seconds: float) -> list[np.ndarray]:
    """Mels of ``count`` clips spread evenly over the test pack, each cut to ``max_seconds``."""
    pack = corpus.Pack.load(corpus.pack_path("test"))
    out = []
    for i in np.linspace(0, len(pack) - 1, num=min(count, len(pack))).astype(int):
        clip = pack.clip(int(i))[: int(max_seconds * pack.sample_rate)]
        out.append(wav_to_mel(clip))
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None, help="a MelNet checkpoint (default: the shipped one)")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds")
    parser.add_argument("--temperature", type=float, default=0.3)
    parser.add_argument("--clips", type=int, default=40, help="test-pack clips")
    parser.add_argument("--max-seconds", type=float, default=6.0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_model(args.model or find_model("melnet.pt"))
    gap = round(args.gap / DEFAULT_CONFIG.frame_seconds)
    sets = {"Czech/Dutch test levels": test_pack_mels(args.clips, args.max_seconds)}
    english = [p for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav")) if not p.endswith("Noise.wav")]
    if english:
        sets["English (alsa-utils)"] = [wav_to_mel(load_audio(p)) for p in english]
    print(f"{gap}-frame gap ({args.gap:g} s) in the middle of each clip, fill at temperature {args.temperature:g}; "
          "mean |difference| per cell, ln-mel units")
    print("| clips | n | fill L1 | linear L1 | fill edge L1 | linear edge L1 | original edge L1 | natural L1 |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, mels in sets.items():
        r = evaluate_inpainting(model, mels, gap, temperature=args.temperature, floor=DEFAULT_CONFIG.floor_ln)
        print(f"| {name} | {r['clips']} | {r['fill_l1']:.3f} | {r['linear_l1']:.3f} | {r['fill_edge_l1']:.3f} | "
              f"{r['linear_edge_l1']:.3f} | {r['true_edge_l1']:.3f} | {r['natural_l1']:.3f} |")


if __name__ == "__main__":
    main()
