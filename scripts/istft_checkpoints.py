"""Score iSTFT training checkpoints at the vocoder's inference settings on held-out speech, for choosing one.

Each checkpoint (a trainer's ``checkpoint.pt`` or an exported ``istft.pt``) is scored at the shipped default
(``magnitude=mel, init=pghi, phase_refine=2, mel_match=1``) and at the settings that use the network's phase
(``init=network`` with ``phase_refine`` 0 / 2 / 8) or its magnitudes (``magnitude=network``), one mel-matching step
each. Scores: mean PESQ-wb, STOI and log-mel L1 (no F0 scores: slow). One thread.

    nice -n 10 python scripts/istft_checkpoints.py models/istft.pt RUN/snapshots/*.pt --sets valid8

Choose on valid8 (the trainer's validation split); test40 and english_alsa report the chosen one.
"""

from __future__ import annotations

import argparse
import dataclasses
import glob
import json
import sys
from pathlib import Path
from typing import Any

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vocoder_measure import test_clips  # noqa: E402

from vocoder_studio.audio import load_audio, wav_to_mel  # noqa: E402
from vocoder_studio.audio.mel import DEFAULT_CONFIG  # noqa: E402
from vocoder_studio.evaluation import metrics  # noqa: E402
from vocoder_studio.vocoders.istft import ISTFTConfig, ISTFTGenerator, ISTFTVocoder, load_model  # noqa: E402

C = DEFAULT_CONFIG
SETTINGS: dict[str, dict[str, Any]] = {
    "default (mel, pghi, refine 2)": {"magnitude": "mel", "init": "pghi", "phase_refine": 2},
    "mel, network phase, refine 0": {"magnitude": "mel", "init": "network", "phase_refine": 0},
    "mel, network phase, refine 2": {"magnitude": "mel", "init": "network", "phase_refine": 2},
    "mel, network phase, refine 8": {"magnitude": "mel", "init": "network", "phase_refine": 8},
    "network magnitude and phase": {"magnitude": "network", "init": "network", "phase_refine": 0},
    "network magnitude, pghi, refine 2": {"magnitude": "network", "init": "pghi", "phase_refine": 2},
}


def generator(path: Path) -> tuple[ISTFTGenerator, int | None]:
    """The generator of an exported ``istft.pt`` or of a trainer's ``checkpoint.pt`` (and the trainer's step)."""
    data = torch.load(path, map_location="cpu", weights_only=False)
    if "identity" not in data:
        return load_model(path)[0], data.get("step")
    fields = {f.name for f in dataclasses.fields(ISTFTConfig)}  # the recipe's loss weights are not the model's
    model = ISTFTGenerator(ISTFTConfig(**{k: v for k, v in data["identity"]["hyperparameters"].items()
                                          if k in fields}))
    model.load_state_dict(data["model"])
    return model.eval(), int(data["state"]["step"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("checkpoints", nargs="+", type=Path)
    parser.add_argument("--sets", nargs="+", default=["valid8"], choices=["valid8", "english_alsa", "test40"])
    parser.add_argument("--settings", nargs="+", default=list(SETTINGS), choices=list(SETTINGS))
    args = parser.parse_args()
    torch.set_num_threads(1)
    loaders = {"valid8": lambda: test_clips(8, 4.0, "valid"), "test40": test_clips,
               "english_alsa": lambda: [load_audio(p) for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav"))
                                        if not p.endswith("Noise.wav")]}
    sets = {name: [c[: c.size // 256 * 256].astype(np.float32) for c in loaders[name]()] for name in args.sets}
    report: dict[str, Any] = {}
    for path in args.checkpoints:
        model, step = generator(path)
        for label in args.settings:
            vocoder = ISTFTVocoder(model, mel_match_steps=1, **SETTINGS[label])
            for set_name, clips in sets.items():
                rows = []
                for clip in clips:
                    out = np.asarray(vocoder.vocode(wav_to_mel(clip)), np.float32)[: clip.size]
                    rows.append((metrics.pesq_wb_or_none(clip, out, C.sample_rate),
                                 metrics.stoi(clip, out, C.sample_rate), metrics.log_mel_l1(clip, out)))
                means = [round(float(np.nanmean([np.nan if r[i] is None else r[i] for r in rows])), 4)
                         for i in range(3)]
                report.setdefault(str(path), {"step": step}).setdefault(label, {})[set_name] = dict(
                    zip(("pesq_wb", "stoi", "mel_l1"), means, strict=True))
                print(f"{path.name:32s} step {step}  {set_name:12s} {label:36s} PESQ-wb {means[0]:.3f}  "
                      f"STOI {means[1]:.4f}  mel-L1 {means[2]:.3f}", flush=True)
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
