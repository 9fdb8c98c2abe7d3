"""MelNet inpainting measured: a 0.5 s gap in the middle of each held-out clip (the Czech/Dutch test pack, levels
never trained on, and the English alsa-utils clips, a speaker and language never seen), refilled at a low
temperature, against linear interpolation across the gap: L1 in the gap (ln-mel units, mean per cell), and the
boundary discontinuity (L1 between the two frames meeting at each gap edge) against the original's at the same
edges and its natural frame-to-frame L1. Prints a Markdown table. One intra-op thread.

MODEL may also be a training run's ``checkpoint.pt`` (to follow a run). ``--split valid`` measures on the
validation pack instead (to choose the fill temperature there, not on the test levels); ``--temperature`` takes
several values; ``--no-english`` leaves the English clips out (the alsa-utils clips and resources/example.flac,
a row each); ``--at 1.0:1.5`` fills that range of each English clip instead, as ``generate --inpaint 1.0:1.5
--input CLIP`` does (to the clip's end when it is shorter: then against holding the last frame before it);
``--tiers`` leaves a model's median gap fill out (``MelNet.fill``: the tiers fill at every
temperature).

    VOCODER_STUDIO_DATA=/work/data python scripts/melnet_inpaint.py [MODEL.pt] [--gap 0.5] [--temperature 0.3 ...]
"""

from __future__ import annotations

import argparse
import glob
from pathlib import Path

import numpy as np
import torch

from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.melnet import MelNet, MelNetConfig, evaluate_inpainting, load_model
from vocoder_studio.training import corpus
from vocoder_studio.vocoders.checkpoints import find_model


def load_any(path: str) -> MelNet:
    """A MelNet checkpoint, or the model in a training run's ``checkpoint.pt``."""
    data = torch.load(path, map_location="cpu", weights_only=False)
    if isinstance(data, dict) and "identity" in data:
        hyper = dict(data["identity"]["hyperparameters"])
        hyper.pop("tier", None)
        hyper.pop("future_only", None)
        model = MelNet(MelNetConfig.from_dict(hyper, path))
        model.load_state_dict(data["model"])
        return model.eval()
    return load_model(path)


def test_pack_mels(count: int, max_seconds: float, split: str = "test") -> list[np.ndarray]:
    """Mels of ``count`` clips spread evenly over the ``split`` pack, each cut to ``max_seconds``."""
    pack = corpus.Pack.load(corpus.pack_path(split))
    out = []
    for i in np.linspace(0, len(pack) - 1, num=min(count, len(pack))).astype(int):
        clip = pack.clip(int(i))[: int(max_seconds * pack.sample_rate)]
        out.append(wav_to_mel(clip))
    return out


def fixed_range(model: MelNet, at: str, temperatures: list[float]) -> None:
    """``generate --inpaint START:END`` on each English clip (alsa-utils, resources/example.flac) at each
    temperature: fill L1 against linear interpolation (or, for a range that runs to the clip's end, holding the
    last frame before it)."""
    from vocoder_studio.melnet import sample

    start_s, end_s = (float(v) for v in at.split(":"))
    paths = [Path(p) for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav")) if not p.endswith("Noise.wav")]
    paths.append(Path(__file__).resolve().parents[1] / "resources" / "example.flac")
    print(f"generate --inpaint {at} on each clip; mean |difference| per cell, ln-mel units")
    print("| clip | frames | range | temperature | fill L1 | baseline | baseline L1 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for path in paths:
        mel = wav_to_mel(load_audio(path))
        frames = mel.shape[1]
        s = round(start_s / DEFAULT_CONFIG.frame_seconds)
        e = min(round(end_s / DEFAULT_CONFIG.frame_seconds), frames)
        if e < frames:
            weights = np.arange(1, e - s + 1, dtype=np.float32) / (e - s + 1)
            base, kind = mel[:, s - 1: s] + (mel[:, e: e + 1] - mel[:, s - 1: s]) * weights, "linear"
        else:
            base, kind = np.repeat(mel[:, s - 1: s], e - s, axis=1), "hold"
        for temperature in temperatures:
            fill = sample(model, source=mel, inpaint=(s, e), temperature=temperature, seed=0,
                          floor=DEFAULT_CONFIG.floor_ln)
            fill_l1, base_l1 = np.abs(fill[:, s:e] - mel[:, s:e]).mean(), np.abs(base - mel[:, s:e]).mean()
            print(f"| {path.name} | {frames} | {s}:{e} | {temperature:g} | {fill_l1:.3f} | {kind} | {base_l1:.3f} |",
                  flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("model", nargs="?", default=None, help="a MelNet checkpoint (default: the shipped one)")
    parser.add_argument("--gap", type=float, default=0.5, help="seconds")
    parser.add_argument("--temperature", type=float, nargs="+", default=[0.3])
    parser.add_argument("--clips", type=int, default=40, help="pack clips")
    parser.add_argument("--max-seconds", type=float, default=6.0)
    parser.add_argument("--split", default="test", choices=["test", "valid"], help="the Czech/Dutch pack")
    parser.add_argument("--no-english", action="store_true", help="leave the English clips out")
    parser.add_argument("--tiers", action="store_true", help="leave the median gap fill out: the tiers fill")
    parser.add_argument("--at", default=None, metavar="START:END", help="a fixed range (s) of each English clip")
    args = parser.parse_args()
    torch.set_num_threads(1)
    model = load_any(args.model or str(find_model("melnet.pt")))
    if args.tiers:
        model.fill = None
    if args.at:
        fixed_range(model, args.at, args.temperature)
        return
    gap = round(args.gap / DEFAULT_CONFIG.frame_seconds)
    sets = {f"Czech/Dutch {args.split} levels": test_pack_mels(args.clips, args.max_seconds, args.split)}
    english = [p for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav")) if not p.endswith("Noise.wav")]
    if english and not args.no_english:
        sets["English (alsa-utils)"] = [wav_to_mel(load_audio(p)) for p in english]
    example = Path(__file__).resolve().parents[1] / "resources" / "example.flac"
    if example.is_file() and not args.no_english:
        sets["English (resources/example.flac)"] = [wav_to_mel(load_audio(example))]
    print(f"{gap}-frame gap ({args.gap:g} s) in the middle of each clip; mean |difference| per cell, ln-mel units; "
          "edge ratio: fill edge L1 / natural L1")
    print("| clips | n | temperature | fill L1 | linear L1 | fill edge L1 | linear edge L1 | original edge L1 | "
          "natural L1 | edge ratio |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for name, mels in sets.items():
        for temperature in args.temperature:
            r = evaluate_inpainting(model, mels, gap, temperature=temperature, floor=DEFAULT_CONFIG.floor_ln)
            print(f"| {name} | {r['clips']} | {temperature:g} | {r['fill_l1']:.3f} | {r['linear_l1']:.3f} | "
                  f"{r['fill_edge_l1']:.3f} | {r['linear_edge_l1']:.3f} | {r['true_edge_l1']:.3f} | "
                  f"{r['natural_l1']:.3f} | {r['fill_edge_l1'] / r['natural_l1']:.2f} |", flush=True)


if __name__ == "__main__":
    main()
