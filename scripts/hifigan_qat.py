"""Quantisation-aware fine-tuning of HiFi-GAN's fourth stage (32 channels) for the int8 path: a probe (round 7).

The fourth stage's residual convolutions run with fake-quantised inputs (7 bits, the shipped activation scales of
``hifigan_int8.json``) and weights (symmetric, per output channel, recomputed every step; straight-through
gradients), and are trained towards the float32 generator's output (distillation: multi-resolution STFT loss +
10 × waveform L1) on 32-frame crops of the corpus's train split, batches of 4; the first three stages run in int8
(oneDNN, as the shipped path) without gradients. Only the fourth stage's convolution weights and biases move.
A checkpoint (weights, Adam, both random generators, the step) is written every ``--every`` steps to ``--out``
and resumed from exactly. ``--eval`` scores the checkpoint instead: PESQ-wb of the generator with all four stages
in int8 (the fine-tuned fourth stage) against float32 and against the plain post-training int8, on the validation
clips of ``hifigan_int8_explore.py``.

    ONEDNN_MAX_CPU_ISA=AVX2 ATEN_CPU_CAPABILITY=avx2 FBGEMM_ENABLE_INSTRUCTIONS=AVX2 \\
        PYTHONPATH=$PWD nice -n 12 python scripts/hifigan_qat.py --out RUN_DIR [--steps 1000] [--eval]
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

sys.path.insert(0, str(Path(__file__).resolve().parent))

from hifigan_speed import select_convs  # noqa: E402

from vocoder_studio.audio import wav_to_mel  # noqa: E402
from vocoder_studio.training import corpus  # noqa: E402
from vocoder_studio.training.losses import multi_resolution_stft_loss  # noqa: E402
from vocoder_studio.vocoders.hifigan import LRELU_SLOPE, Generator, int8_qparams, load_generator  # noqa: E402

STAGE4 = select_convs("4")


class FakeQuantConv2d(nn.Module):
    """``conv`` with its input fake-quantised per tensor (7 bits) and its weights per output channel."""

    def __init__(self, conv: nn.Conv2d, q: dict[str, float]) -> None:
        super().__init__()
        self.conv, self.scale, self.zero_point = conv, float(q["in_scale"]), int(q["in_zero_point"])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = torch.fake_quantize_per_tensor_affine(x, self.scale, self.zero_point, 0, 127)
        w = self.conv.weight
        scale = (w.detach().abs().amax(dim=(1, 2, 3)) / 127.5).clamp_min(1e-8)  # torch.ao's symmetric scale
        wq = torch.fake_quantize_per_channel_affine(w, scale, torch.zeros(scale.shape, dtype=torch.int32), 0, -128, 127)
        return F.conv2d(x, wq, self.conv.bias, self.conv.stride, self.conv.padding, self.conv.dilation)


def _stages(gen: Generator, x: torch.Tensor, first: int, last: int) -> torch.Tensor:
    for i in range(first, last):
        x = gen.ups[i](F.leaky_relu(x, LRELU_SLOPE))
        blocks = gen.resblocks[i * 3: (i + 1) * 3]
        xs = blocks[0](x)
        for block in blocks[1:]:
            xs = xs + block(x)
        x = xs / 3
    return x


def fine_tuned(weights: dict[str, dict[str, torch.Tensor]]) -> Generator:
    model = load_generator(cache=False)
    for name, state in weights.items():
        model.get_submodule(name).load_state_dict(state)
    return model


def evaluate(out: Path, clips: int) -> None:
    from hifigan_speed import int8_variant
    from vocoder_measure import test_clips

    from vocoder_studio.evaluation.metrics import pesq_wb_or_none

    state = torch.load(out / "checkpoint.pt", weights_only=False)
    base = load_generator(cache=False)
    models = {"ptq 1-4": int8_variant("onednn:1,2,3,4"),
              "qat 1-4": fine_tuned(state["weights"]).to_int8(int8_qparams(4), "onednn"),
              "onednn 1-3 (default)": int8_variant("onednn:1,2,3")}
    scores: dict[str, list[float]] = {k: [] for k in ["float32", *models]}
    with torch.inference_mode():
        for i, clip in enumerate(test_clips(2 * clips, 4.0, "valid")[1::2]):
            clip = clip[: clip.size // 256 * 256]
            mel = torch.from_numpy(wav_to_mel(clip))[None]
            ref = pesq_wb_or_none(clip, base(mel).squeeze().numpy()[: clip.size])
            if ref is None:
                continue
            scores["float32"].append(ref)
            for k, m in models.items():
                scores[k].append(pesq_wb_or_none(clip, m(mel).squeeze().numpy()[: clip.size]) or 0.0)
            f = float(np.mean(scores["float32"]))
            print(f"step {state['step']}, {i + 1} clips: float32 {f:.3f}; " + "; ".join(
                f"{k} {np.mean(v) - f:+.3f}" for k, v in scores.items() if k != "float32"), flush=True)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--every", type=int, default=20)
    parser.add_argument("--lr", type=float, default=5e-5)
    parser.add_argument("--eval", action="store_true")
    parser.add_argument("--clips", type=int, default=8)
    args = parser.parse_args()
    torch.set_num_threads(1)
    if args.eval:
        evaluate(args.out, args.clips)
        return 0
    q = int8_qparams(4)
    teacher = load_generator(cache=False).eval().requires_grad_(False)
    prefix = load_generator(cache=False).to_int8(int8_qparams(3), "onednn").eval().requires_grad_(False)
    student = copy.deepcopy(teacher)
    for name in STAGE4:
        parent, _, child = name.rpartition(".")
        setattr(student.get_submodule(parent), child, FakeQuantConv2d(student.get_submodule(name), q[name]))
    params = [p for name in STAGE4 for p in student.get_submodule(name).parameters()]
    for p in params:
        p.requires_grad_(True)
    optimiser = torch.optim.Adam(params, lr=args.lr)
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    step = 0
    checkpoint = args.out / "checkpoint.pt"
    if checkpoint.is_file():  # exact resume
        state = torch.load(checkpoint, weights_only=False)
        for name, weights in state["weights"].items():
            student.get_submodule(name).conv.load_state_dict(weights)
        optimiser.load_state_dict(state["optimiser"])
        rng.bit_generator.state = state["numpy_rng"]
        torch.set_rng_state(state["torch_rng"])
        step = state["step"]
        print(f"resumed at step {step}", flush=True)
    args.out.mkdir(parents=True, exist_ok=True)
    pack = corpus.Pack.load(corpus.pack_path("train"))
    frames, batch = 32, 4
    while step < args.steps:
        crops = []
        for _ in range(batch):
            mel = wav_to_mel(pack.clip(int(rng.integers(len(pack)))))
            start = int(rng.integers(0, max(1, mel.shape[1] - frames)))
            crops.append(torch.from_numpy(mel[:, start: start + frames].copy()))
        mel = torch.stack(crops)
        began = time.process_time()
        with torch.no_grad():
            target = teacher(mel).squeeze(1)
            x = _stages(prefix, prefix.conv_pre(mel.unsqueeze(2).contiguous(memory_format=torch.channels_last)), 0, 3)
        x = _stages(student, x, 3, 4)
        y = torch.tanh(student.conv_post(F.leaky_relu(x))).squeeze(2).squeeze(1)
        convergence, log_l1 = multi_resolution_stft_loss(y, target)
        loss = convergence + log_l1 + 10 * (y - target).abs().mean()
        optimiser.zero_grad()
        loss.backward()
        optimiser.step()
        step += 1
        print(f"step {step} loss {loss.item():.4f} (convergence {convergence.item():.3f}, log-mag "
              f"{log_l1.item():.3f}) {time.process_time() - began:.1f} s CPU", flush=True)
        if step % args.every == 0 or step == args.steps:
            state = {"step": step, "optimiser": optimiser.state_dict(), "numpy_rng": rng.bit_generator.state,
                     "torch_rng": torch.get_rng_state(),
                     "weights": {n: student.get_submodule(n).conv.state_dict() for n in STAGE4}}
            torch.save(state, args.out / "checkpoint.tmp")
            (args.out / "checkpoint.tmp").replace(checkpoint)
    return 0


if __name__ == "__main__":
    sys.exit(main())
