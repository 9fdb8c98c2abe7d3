"""PESQ-wb of HiFi-GAN's precision paths against float32 on held-out speech, clip by clip: the quality figures
behind HiFi-GAN's default precision (docs/hifigan_speed.md).

Sets: ``test40`` (40 clips of at most 4 s spread over the Czech/Dutch corpus's test split, levels never trained or
validated on; ``scripts/vocoder_measure.py``'s) and ``english_alsa`` (the eight alsa-utils spoken channel names,
Noise.wav left out: a speaker and language the project never trains on). Each clip is vocoded by every
precision in turn and scored against the original; the running mean of each precision and its change against
float32 are printed after every clip, so a run cut short still reports what it measured. One thread.

    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 FBGEMM_ENABLE_INSTRUCTIONS=AVX2 \\
        PYTHONPATH=$PWD nice -n 10 python scripts/hifigan_quality.py [--sets english_alsa test40] \\
        [--precisions float32 int8]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from vocoder_measure import test_clips  # noqa: E402

from vocoder_studio.audio import load_audio, wav_to_mel  # noqa: E402
from vocoder_studio.evaluation.metrics import pesq_wb_or_none  # noqa: E402
from vocoder_studio.vocoders.hifigan import HiFiGAN  # noqa: E402


def english_alsa() -> list[np.ndarray]:
    return [load_audio(p) for p in sorted(Path("/usr/share/sounds/alsa").glob("*.wav")) if p.name != "Noise.wav"]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sets", nargs="*", default=["english_alsa", "test40"], choices=["english_alsa", "test40"])
    parser.add_argument("--precisions", nargs="*", default=["float32", "int8"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    vocoders = {p: HiFiGAN(precision=p) for p in args.precisions}
    loaders = {"english_alsa": english_alsa, "test40": test_clips}
    for name in args.sets:
        scores: dict[str, list[float]] = {p: [] for p in args.precisions}
        for i, clip in enumerate(loaders[name]()):
            clip = clip[: clip.size // 256 * 256]
            mel = wav_to_mel(clip)
            row = {p: pesq_wb_or_none(clip, v.vocode(mel).numpy()[: clip.size]) for p, v in vocoders.items()}
            if any(s is None for s in row.values()):
                continue  # PESQ found no utterance: skipped for every precision alike
            for p, s in row.items():
                scores[p].append(float(s or 0.0))
            base = np.mean(scores[args.precisions[0]])
            print(f"{name} {i + 1} clips: " + "; ".join(
                f"{p} {np.mean(s):.3f} ({np.mean(s) - base:+.3f})" for p, s in scores.items()), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
