"""Score the generator copies of a MelGAN adversarial run (``DIR/generators/step-NNNNNN.pt``, written by
``scripts/melgan_adversarial.py``) as the studio plays them: the panel's defaults (one mel-matching step, then
``PHASE_REFINE_DEFAULT`` Griffin-Lim iterations from the generator's phase), mean PESQ-wb, STOI, log-mel L1, F0
RMSE (cents) and V/UV F1 per set, one thread. The sets are ``scripts/vocoder_measure.py``'s: ``valid8`` (8 clips
of the validation split, cut to 4 s: choose the checkpoint on it), ``test40`` and ``english_alsa`` (report the
chosen one's). Each scored (step, set) is appended to ``DIR/checkpoints.csv`` (means) and ``DIR/clips.csv`` (each
clip's scores, for paired comparisons: ``scripts/melgan_compare.py``) and not scored again, so the command can be
rerun while the run trains.

    nice -n 10 .venv/bin/python scripts/melgan_checkpoints.py ~/.cache/vocoder-studio/runs/melgan-adv-2
    nice -n 10 .venv/bin/python scripts/melgan_checkpoints.py RUN --steps 600 --sets test40 english_alsa
"""

from __future__ import annotations

import argparse
import csv
import glob
from pathlib import Path

import numpy as np
import torch

from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.evaluation.evaluate import score_pair
from vocoder_studio.training import corpus
from vocoder_studio.vocoders import melgan
from vocoder_studio.vocoders.trained import load_checkpoint

RATE = 22050
KEYS = ("pesq_wb", "stoi", "mel_l1", "f0_rmse_cents", "vuv_f1")


def clips(name: str) -> list[np.ndarray]:
    """The clips of one of ``scripts/vocoder_measure.py``'s sets."""
    if name == "english_alsa":
        return [load_audio(p) for p in sorted(glob.glob("/usr/share/sounds/alsa/*.wav")) if not p.endswith("Noise.wav")]
    count, split = {"valid8": (8, "valid"), "test40": (40, "test")}[name]
    pack = corpus.Pack.load(corpus.pack_path(split))
    return [pack.clip(int(i))[: int(4.0 * RATE)] for i in np.linspace(0, len(pack) - 1, count).astype(int)]


def score(path: Path, audio: list[np.ndarray], mel_match: int, phase_refine: int) -> list[dict[str, float]]:
    """Each clip's scores (``KEYS``; None where undefined) for the generator at ``path``."""
    generator, _ = load_checkpoint(path, "melgan", melgan.MelGANConfig, melgan.MelGANGenerator)
    vocoder = melgan.MelGANVocoder(generator.float(), mel_match_steps=mel_match, phase_refine=phase_refine)
    rows = []
    for clip in audio:
        clip = clip[: clip.size // 256 * 256]
        out = np.asarray(vocoder.vocode(wav_to_mel(clip)), np.float32)
        rows.append(score_pair(clip, out[: clip.size], RATE))
    return rows


def mean(rows: list[dict[str, float]]) -> dict[str, float]:
    return {key: round(float(np.nanmean([np.nan if r[key] is None else r[key] for r in rows])), 4) for key in KEYS}


def append(table: Path, row: dict[str, object]) -> None:
    new = not table.exists()
    with table.open("a", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(row))
        if new:
            writer.writeheader()
        writer.writerow(row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("run", type=Path)
    parser.add_argument("--sets", nargs="+", default=["valid8"], choices=["valid8", "test40", "english_alsa"])
    parser.add_argument("--steps", type=int, nargs="*", default=None, help="only these steps (default: all)")
    parser.add_argument("--generator-only", action="store_true", help="no mel matching, no phase refinement")
    args = parser.parse_args()
    torch.set_num_threads(1)
    setting = (0, 0) if args.generator_only else (melgan.MEL_MATCH_DEFAULT, melgan.PHASE_REFINE_DEFAULT)
    label = f"mel_match={setting[0]},phase_refine={setting[1]}"
    table = args.run / "checkpoints.csv"
    done = set()
    if table.exists():
        done = {(int(r["step"]), r["set"], r["setting"]) for r in csv.DictReader(table.open())}
    loaded = {name: clips(name) for name in args.sets}
    for path in sorted((args.run / "generators").glob("step-*.pt")):
        step = int(path.stem.split("-")[1])
        if args.steps is not None and step not in args.steps:
            continue
        for name, audio in loaded.items():
            if (step, name, label) in done:
                continue
            rows = score(path, audio, *setting)
            for index, clip_row in enumerate(rows):  # per clip, for paired comparisons between checkpoints
                append(args.run / "clips.csv", {"step": step, "set": name, "setting": label, "clip": index,
                                                **{key: clip_row[key] for key in KEYS}})
            row = {"step": step, "set": name, "setting": label, **mean(rows)}
            append(table, row)
            print(row, flush=True)


if __name__ == "__main__":
    main()
