"""Which of HiFi-GAN's residual convolutions can run in int8, with which kernel: PESQ-wb of int8 variants against
float32 on validation speech (the corpus's valid split: never the held-out test clips, never the calibration
clips), the running mean printed after every clip. The measurements that chose the int8 path's layers
(docs/hifigan_speed.md); ``scripts/hifigan_quality.py`` then checks the choice on the held-out sets.

Variants are ``KERNEL:STAGES`` (``hifigan_speed.int8_variant``): ``fbgemm:1,2`` (round 6's path: the output
requantised to 8 bits, then dequantised), ``onednn:1,2,3`` (oneDNN's kernel, float32 output), ``onednn:1,2,3,4c1b2``
(and the dilated convolutions of the fourth stage's kernel-11 block), all at the shipped activation scales.

    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 FBGEMM_ENABLE_INSTRUCTIONS=AVX2 \\
        PYTHONPATH=$PWD nice -n 10 python scripts/hifigan_int8_explore.py [--clips 8] \\
        [--variants fbgemm:1,2 onednn:1,2 onednn:1,2,3 onednn:1,2,3,4]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hifigan_speed import int8_variant  # noqa: E402
from vocoder_measure import test_clips  # noqa: E402

from vocoder_studio.audio import wav_to_mel  # noqa: E402
from vocoder_studio.evaluation.metrics import pesq_wb_or_none, snr_db  # noqa: E402
from vocoder_studio.vocoders.hifigan import load_generator  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", type=int, default=8)
    parser.add_argument("--variants", nargs="*",
                        default=["fbgemm:1,2", "onednn:1,2", "onednn:1,2,3", "onednn:1,2,3,4"])
    args = parser.parse_args()
    torch.set_num_threads(1)
    base = load_generator(cache=False)
    select = test_clips(2 * args.clips, 4.0, "valid")[1::2]  # every other one of 2N spread over the valid split
    models = {spec: int8_variant(spec).eval() for spec in args.variants}
    scores: dict[str, list[float]] = {label: [] for label in ["float32", *models]}
    snrs: dict[str, list[float]] = {label: [] for label in models}
    with torch.inference_mode():
        for i, clip in enumerate(select):
            clip = clip[: clip.size // 256 * 256]
            mel = torch.from_numpy(wav_to_mel(clip))[None]
            ref = base(mel).squeeze().numpy()[: clip.size]
            score = pesq_wb_or_none(clip, ref)
            if score is None:
                continue  # PESQ found no utterance: skipped for every variant alike
            scores["float32"].append(score)
            for label, model in models.items():
                out = model(mel).squeeze().numpy()[: clip.size]
                scores[label].append(pesq_wb_or_none(clip, out) or 0.0)
                snrs[label].append(snr_db(ref, out))
            f = float(np.mean(scores["float32"]))
            print(f"{i + 1} clips: float32 {f:.3f}; " + "; ".join(
                f"{label} {np.mean(scores[label]) - f:+.3f} (SNR {np.mean(snrs[label]):.1f} dB)" for label in models),
                flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
