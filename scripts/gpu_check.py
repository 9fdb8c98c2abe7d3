"""GPU check (run on a machine with CUDA): the vocoders on cuda agree with the CPU and stream exactly.

Prints figures; exits non-zero if a check fails. Usage: python scripts/gpu_check.py [AUDIO]
"""

from __future__ import annotations

import sys
import time

import numpy as np
import torch

from vocoder_studio.audio import load_audio, wav_to_mel
from vocoder_studio.engine import Renderer, choose_device
from vocoder_studio.evaluation.metrics import snr_db
from vocoder_studio.paths import example_path
from vocoder_studio.vocoders import create_vocoder


def timed(fn, runs: int = 3) -> float:  # type: ignore[no-untyped-def]
    best = float("inf")
    for _ in range(runs):
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        torch.cuda.synchronize()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> int:
    device = choose_device("auto")
    print("device:", device, torch.cuda.get_device_name(0) if device.type == "cuda" else "")
    if device.type != "cuda":
        print("no CUDA here: nothing to check")
        return 1
    audio = load_audio(sys.argv[1] if len(sys.argv) > 1 else example_path())
    mel = wav_to_mel(audio)
    mel_gpu = wav_to_mel(torch.from_numpy(audio).cuda()).cpu().numpy()
    print(f"front-end cuda vs cpu: max |Δ| {np.max(np.abs(mel_gpu - mel)):.2e}")
    seconds = mel.shape[1] * 256 / 22050
    failures = 0
    for name, params in [("griffin-lim", {"iterations": 32}), ("hifigan", {}), ("hifigan", {"precision": "bfloat16"})]:
        cpu = create_vocoder(name, device="cpu", **params).vocode(mel[:, :300]).numpy()
        gpu_vocoder = create_vocoder(name, device="cuda", **params)
        gpu = gpu_vocoder.vocode(mel[:, :300]).numpy()
        agree = snr_db(cpu, gpu)
        t = timed(lambda: gpu_vocoder.vocode(mel))  # noqa: B023
        streamed = np.concatenate([b.numpy() for b in gpu_vocoder.stream(mel, 256, 16)])
        full = gpu_vocoder.vocode(mel).numpy()
        stream_snr = snr_db(full, streamed)
        t16 = timed(lambda: gpu_vocoder.vocode_range(mel, 100, 116))  # noqa: B023
        print(f"{gpu_vocoder.describe():55s} RTF {t / seconds:.4f}  first 16-frame chunk {t16 * 1000:.1f} ms  "
              f"cpu-vs-gpu SNR {agree:.1f} dB  stream-vs-full SNR {stream_snr:.1f} dB")
        limit = 40 if params.get("precision") != "bfloat16" else 15
        if name == "hifigan" and (stream_snr < limit or agree < (30 if limit == 40 else 10)):
            failures += 1
            print("  FAILED")
    renderer = Renderer(create_vocoder("hifigan", device="cuda"))
    renderer.render(mel, 0)
    print("renderer on cuda: vocoded", renderer.vocoded_frames, "frames of", mel.shape[1])
    print("peak GPU memory:", torch.cuda.max_memory_allocated() // 2**20, "MiB")
    return 1 if failures else 0


if __name__ == "__main__":
    raise SystemExit(main())
