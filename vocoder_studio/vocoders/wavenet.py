"""WaveNet (van den Oord et al. 2016, arXiv 1609.03499), mel-conditioned as in Tacotron 2 (Shen et al. 2018),
with the fast queued sampler of Paine et al. 2016 ("Fast Wavenet Generation Algorithm", arXiv 1611.09482).

The model predicts each sample from the samples before it and the mel: a 256-way softmax over the 8-bit μ-law
code of the next sample. Training is teacher-forced (the true past samples go in, one parallel pass over a
segment); generation is autoregressive, one sample at a time, which is why WaveNet is slow and why later
vocoders (HiFi-GAN, iSTFT) exist.

Architecture (:class:`WaveNetConfig` defaults: 1.06 M parameters, a third of them the fused conditioning
projection; the checkpoint with AdamW state is about 13 MB):

* input: the previous sample's μ-law class through an embedding (a one-hot 1×1 convolution) to ``residual``
  channels;
* ``stacks × layers_per_stack`` = 2 × 10 residual layers, each a dilated causal convolution (kernel 2, dilation
  1, 2, … 512, then again) to ``2 · residual`` channels, plus that layer's conditioning, then the gated activation
  ``tanh(a) · σ(b)`` and one 1×1 convolution to the residual (added to the layer's input) and the skip output
  (summed over layers);
* output: ReLU → 1×1 → ReLU → 1×1 to 256 logits.

Why this size: two stacks of dilations 1…512 see 2,047 past samples (93 ms at 22,050 Hz: several pitch periods
of any voice), the 64 / 128 channels are what the GPU probes used (shared/facts.md), and one queued step costs
about 0.6 MFLOP, so the step is bound by per-operation overhead on a CPU, not by arithmetic: a wider or deeper
model would train slower on this CPU for no gain in the speed of generation.

Conditioning (frame rate, then repeated): a small network over the ln-mel (two kernel-3 convolutions, so it
sees ±2 frames) gives ``cond_channels`` per frame, and each layer's 1×1 projection of it to ``2 · residual``
channels (all layers fused into one 1×1 convolution) is computed **at frame rate** and repeated ×``hop_length``
to the sample rate. Because the projection is linear, projecting and then repeating equals repeating and then
projecting, at 1/256 of the cost (the GPU probe measured 7× faster training than conditioning upsampled to 2,560
channels at the sample rate), and the sampler reads one conditioning vector per frame and layer. Transposed
convolutions (Shen et al.) would interpolate within a frame; the layers' own sample history smooths instead.

Output: 8-bit μ-law with a softmax (not a mixture of logistics): cross-entropy trains stably at the small
batches a CPU affords, a draw is one categorical sample, and the logits give an exact per-step check of the
sampler against the parallel pass. A mixture of logistics (Parallel WaveNet / PixelCNN++) gives 16-bit output but
needs many more steps and is touchy to train (facts.md: even the μ-law model diverged at lr 1e-3).

Fast generation: each layer keeps a queue (a ring of its last ``dilation`` inputs), so one sample costs one
step per layer instead of recomputing the whole receptive field. Measured here with this model, one thread, on a
shared, heavily loaded 2-core CPU: 1,057 samples/s for one stream against 8 recomputing the field; batched
streams 3,154 (4), 6,671 (16) and 10,344 (32) samples/s in all. All streams advance in lock-step as one batch, on
one intra-op thread (:data:`SAMPLER_THREADS`). A long mel is cut into ``segment`` pieces
generated as a batch; each piece but the first starts ``receptive_field_frames`` earlier and warms up its queues
on that overlap of conditioning (its audio there is dropped), so by the boundary its queues hold samples made
from the right mel: the piece starts in the right spectral state, though not phase-continuous with the end of
the piece before it (an autoregressive model cannot join two independently sampled waveforms exactly).

A checkpoint ``wavenet.pt`` is ``{"config": WaveNetConfig as a dict, "model": state_dict}`` plus whatever the
trainer adds, with its model card ``wavenet.json`` beside it in a models directory.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.errors import MelShapeError
from vocoder_studio.threads import intra_op_threads
from vocoder_studio.vocoders import trained
from vocoder_studio.vocoders.base import as_mel_tensor, chunk_bounds
from vocoder_studio.vocoders.checkpoints import trained_checkpoint
from vocoder_studio.vocoders.entry import VocoderEntry
from vocoder_studio.vocoders.params import Parameter
from vocoder_studio.vocoders.trained import ModelConfig, count_parameters

#: The checkpoint's file name in a models directory; its model card is ``wavenet.json``.
CHECKPOINT = "wavenet.pt"


# --------------------------------------------------------------------------------------------------- μ-law


def mu_law_encode(audio: torch.Tensor, classes: int = 256) -> torch.Tensor:
    """Audio in [-1, 1] (any shape, float) → μ-law classes ``0 … classes - 1`` (int64, same shape).

    ``F(x) = sign(x) · ln(1 + μ|x|) / ln(1 + μ)`` with μ = classes − 1, then rounded to ``classes`` levels;
    values outside [-1, 1] are clipped first.
    """
    mu = classes - 1
    x = audio.float().clamp(-1.0, 1.0)
    y = torch.sign(x) * torch.log1p(mu * x.abs()) / math.log1p(mu)
    return ((y + 1) / 2 * mu + 0.5).floor().long().clamp(0, mu)


def mu_law_decode(codes: torch.Tensor, classes: int = 256) -> torch.Tensor:
    """μ-law classes (int) → audio float32 in [-1, 1], the inverse of :func:`mu_law_encode` up to its step."""
    mu = classes - 1
    y = codes.float() / mu * 2 - 1
    return torch.sign(y) * torch.expm1(y.abs() * math.log1p(mu)) / mu


# --------------------------------------------------------------------------------------------------- model


@dataclass(frozen=True)
class WaveNetConfig(ModelConfig):
    """Hyper-parameters of :class:`WaveNet`, saved in the checkpoint as a dict.

    Attributes:
        n_mels, hop_length: the mel front-end's.
        classes: μ-law levels of the output softmax (256: 8 bits).
        residual_channels, skip_channels: widths of the residual path and the skip sum.
        stacks, layers_per_stack: layer ``i`` of a stack has dilation ``2**i`` (1 … 512 for 10 layers).
        cond_channels: width of the frame-rate conditioning network.
        mel_offset, mel_scale: the ln-mel enters as ``(mel + offset) · scale`` (roughly zero-mean, unit scale).
    Raises:
        ValueError: a non-positive size (the message names the field).
    """

    n_mels: int = DEFAULT_CONFIG.n_mels
    hop_length: int = DEFAULT_CONFIG.hop_length
    classes: int = 256
    residual_channels: int = 64
    skip_channels: int = 128
    stacks: int = 2
    layers_per_stack: int = 10
    cond_channels: int = 128
    mel_offset: float = 5.0
    mel_scale: float = 0.4

    def __post_init__(self) -> None:
        self.require_positive_ints("n_mels", "hop_length", "classes", "residual_channels", "skip_channels",
                                   "stacks", "layers_per_stack", "cond_channels")
        if self.classes < 2:
            raise ValueError(f"WaveNetConfig.classes must be at least 2, got {self.classes}")

    @property
    def num_layers(self) -> int:
        return self.stacks * self.layers_per_stack

    @property
    def dilations(self) -> list[int]:
        """Dilation of each layer in order: ``[1, 2, …, 512, 1, 2, …, 512]`` by default."""
        return [2**i for _ in range(self.stacks) for i in range(self.layers_per_stack)]

    @property
    def receptive_field(self) -> int:
        """Past samples the prediction of one sample depends on: ``1 + Σ dilations`` (kernel 2) = 2,047.

        The input at position ``t`` is sample ``t − 1``; the causal stack spans ``Σ dilations`` positions more,
        so the logits of sample ``t`` see samples ``t − 2047 … t − 1`` (and no later one).
        """
        return 1 + sum(self.dilations)

    @property
    def cond_context_frames(self) -> int:
        """Mel frames on each side that one frame's conditioning sees (two kernel-3 convolutions): 2."""
        return 2

    @property
    def receptive_field_frames(self) -> int:
        """Mel frames before a frame that its samples depend on directly: the frames holding the 2,047 past
        samples (8) plus the conditioning's context (2) = 10 (and 2 frames after it, through the conditioning).

        The dependence through the sampled history goes back further (it is autoregressive): a stream started
        this many frames early has filled every queue with samples made from the right conditioning, which is
        what the renderer's warm-up needs.
        """
        return -(-self.receptive_field // self.hop_length) + self.cond_context_frames


class WaveNet(nn.Module):
    """Mel-conditioned WaveNet: teacher-forced logits ``(B, classes, N)`` of the samples ``(B, N)`` given the
    ln-mel ``(B, n_mels, N / hop_length)``; see the module docstring for the architecture."""

    def __init__(self, config: WaveNetConfig = WaveNetConfig()) -> None:
        super().__init__()
        self.config = c = config
        r, s = c.residual_channels, c.skip_channels
        self.embed = nn.Embedding(c.classes, r)
        self.cond_in = nn.Conv1d(c.n_mels, c.cond_channels, 3, padding=1)
        self.cond_hidden = nn.Conv1d(c.cond_channels, c.cond_channels, 3, padding=1)
        #: each layer's 1×1 projection of the conditioning to 2·residual channels, all layers in one convolution
        self.cond_proj = nn.Conv1d(c.cond_channels, c.num_layers * 2 * r, 1)
        self.dilated = nn.ModuleList(nn.Conv1d(r, 2 * r, 2, dilation=d) for d in c.dilations)
        #: the gate's 1×1 to the residual and the skip channels, fused
        self.res_skip = nn.ModuleList(nn.Conv1d(r, r + s, 1) for _ in c.dilations)
        self.out1 = nn.Conv1d(s, s, 1)
        self.out2 = nn.Conv1d(s, c.classes, 1)

    def conditioning(self, mel: torch.Tensor) -> torch.Tensor:
        """ln-mel ``(B, n_mels, T)`` → every layer's conditioning at frame rate ``(B, layers · 2 · residual, T)``
        (layer ``l`` owns channels ``[2 r l, 2 r (l + 1))``); frame ``k`` sees mel frames ``k − 2 … k + 2``."""
        c = self.config
        x = (mel + c.mel_offset) * c.mel_scale
        x = F.leaky_relu(self.cond_in(x), 0.2)
        x = F.leaky_relu(self.cond_hidden(x), 0.2)
        return self.cond_proj(x)

    def head(self, skip: torch.Tensor) -> torch.Tensor:
        """Skip sum ``(B, skip, N)`` → logits ``(B, classes, N)``."""
        return self.out2(F.relu(self.out1(F.relu(skip))))

    def forward(self, mel: torch.Tensor, samples: torch.Tensor, cond: torch.Tensor | None = None,
                inputs: torch.Tensor | None = None) -> torch.Tensor:
        """Teacher-forced logits.

        Args:
            mel: ln-mel ``(B, n_mels, T)`` float32.
            samples: μ-law classes ``(B, T · hop_length)`` int64: the targets; the network sees each shifted by
                one (the class of 0.0 before the first).
            cond: :meth:`conditioning` of ``mel`` if already computed (then ``mel`` is ignored).
            inputs: the past the network sees instead of ``samples`` (same shape and dtype; also shifted by one):
                training injects noise here (:class:`~vocoder_studio.training.recipes.WaveNetRecipe`).
        Returns:
            logits ``(B, classes, T · hop_length)``: position ``t`` predicts ``samples[:, t]`` from
            ``samples[:, :t]`` and the mel.
        Raises:
            ValueError: the sample count is not ``T · hop_length``.
        """
        c = self.config
        if cond is None:
            cond = self.conditioning(mel)
        batch, _, frames = cond.shape
        n = samples.shape[-1]
        if n != frames * c.hop_length:
            raise ValueError(f"WaveNet: {n} samples do not fit {frames} frames of {c.hop_length} samples")
        start = torch.full((batch, 1), c.classes // 2, dtype=torch.long, device=samples.device)
        seen = samples if inputs is None else inputs
        if seen.shape != samples.shape:
            raise ValueError(f"WaveNet: inputs {tuple(seen.shape)} do not match samples {tuple(samples.shape)}")
        previous = torch.cat([start, seen[:, :-1]], dim=1)
        h = self.embed(previous).transpose(1, 2)  # (B, r, N)
        r = c.residual_channels
        skip = torch.zeros(batch, c.skip_channels, n, dtype=h.dtype, device=h.device)
        for index, (conv, res_skip) in enumerate(zip(self.dilated, self.res_skip, strict=True)):
            d = c.dilations[index]
            z = conv(F.pad(h, (d, 0)))  # causal: output t sees inputs t − d and t
            layer_cond = cond[:, 2 * r * index : 2 * r * (index + 1)]
            # repeat each frame's conditioning over its hop of samples without materialising it
            z = (z.view(batch, 2 * r, frames, c.hop_length) + layer_cond.unsqueeze(-1)).view(batch, 2 * r, n)
            a, b = z.chunk(2, dim=1)
            out = res_skip(torch.tanh(a) * torch.sigmoid(b))
            h = h + out[:, :r]
            skip = skip + out[:, r:]
        return self.head(skip)


# --------------------------------------------------------------------------------------------------- sampling


def _tap(conv: nn.Module, index: int) -> torch.Tensor:
    """Tap ``index`` of a Conv1d's kernel as a matrix ``(in, out)`` for ``x @ W``."""
    assert isinstance(conv, nn.Conv1d)
    return conv.weight[:, :, index].detach().t().contiguous().float()


def _bias(conv: nn.Module) -> torch.Tensor:
    assert isinstance(conv, nn.Conv1d) and conv.bias is not None
    return conv.bias.detach().float()


class QueuedSampler:
    """The fast generation algorithm (Paine et al. 2016) for a batch of streams, one sample per step.

    Each layer keeps a ring of its last ``dilation`` inputs (its queue): a step reads the input from
    ``dilation`` steps ago, pushes the new one, and costs two small matrix products per layer, so a sample costs
    the same however large the receptive field. The state lives in this object; make one per generation.

    Args:
        model: the network (its weights are read as matrices once; it is not modified).
        batch: streams generated side by side.
        temperature: logits are divided by it before the draw (1: the model's own distribution).
        generator: the torch generator of the draws (seed it for repeatable audio).
        record: keep every step's logits in :attr:`logits` (tests).
        tail_cut: classes whose probability (after the temperature) is below this are never drawn (LPCNet,
            Valin & Skoglund 2019, section 3.5, uses 0.002): the long tail of an uncertain softmax is what
            turns into a noise floor, one unlikely draw per sample. 0: the distribution as it is.
    """

    def __init__(self, model: WaveNet, batch: int, temperature: float = 1.0,
                 generator: torch.Generator | None = None, record: bool = False, tail_cut: float = 0.0) -> None:
        c = model.config
        self.config = c
        self.batch = batch
        self.temperature = float(temperature)
        if not 0.0 <= tail_cut < 1.0 / c.classes:
            raise ValueError(f"tail_cut {tail_cut} must be in [0, 1/{c.classes})")
        self.log_tail_cut = math.log(tail_cut) if tail_cut > 0 else None
        self.generator = generator
        self.record = record
        self.logits: list[torch.Tensor] = []
        device = model.embed.weight.device
        with torch.no_grad():
            self.embed = model.embed.weight.detach().float()
            self.w_past = [_tap(conv, 0) for conv in model.dilated]
            self.w_now = [_tap(conv, 1) for conv in model.dilated]
            self.conv_bias = [_bias(conv) for conv in model.dilated]
            self.w_rs = [_tap(m, 0) for m in model.res_skip]
            self.b_rs = [_bias(m) for m in model.res_skip]
            self.w_out1, self.b_out1 = _tap(model.out1, 0), _bias(model.out1)
            self.w_out2, self.b_out2 = _tap(model.out2, 0), _bias(model.out2)
        zero = torch.zeros(batch, c.residual_channels, device=device)
        #: one ring per layer: a Python list of ``dilation`` tensors ``(B, residual)`` (zeros: the causal padding)
        self.queues = [[zero] * d for d in c.dilations]
        self.previous = torch.full((batch,), c.classes // 2, dtype=torch.long, device=device)
        self.step = 0

    def frame(self, cond: torch.Tensor) -> torch.Tensor:
        """Generate one frame (``hop_length`` samples) of every stream.

        Args:
            cond: this frame's conditioning ``(B, layers · 2 · residual)`` (:meth:`WaveNet.conditioning`).
        Returns:
            μ-law classes ``(B, hop_length)`` int64.
        """
        c = self.config
        r = c.residual_channels
        # each layer's conditioning for the frame, with the dilated convolution's bias folded in
        layer_cond = [cond[:, 2 * r * i : 2 * r * (i + 1)] + self.conv_bias[i] for i in range(c.num_layers)]
        hop = c.hop_length
        if self.temperature > 0:
            noise = torch.rand(hop, self.batch, c.classes, generator=self.generator, device=cond.device)
            gumbel = -torch.log(-torch.log(noise.clamp_min(1e-20)))
        out = torch.empty(hop, self.batch, dtype=torch.long, device=cond.device)
        queues, w_past, w_now, w_rs, b_rs = self.queues, self.w_past, self.w_now, self.w_rs, self.b_rs
        for k in range(hop):
            h = self.embed.index_select(0, self.previous)
            skip: torch.Tensor | None = None
            for i, queue in enumerate(queues):
                slot = self.step % len(queue)
                z = torch.addmm(layer_cond[i], queue[slot], w_past[i])
                z.addmm_(h, w_now[i])
                queue[slot] = h
                a, b = z.split(r, dim=1)
                o = torch.addmm(b_rs[i], torch.tanh(a).mul_(torch.sigmoid(b)), w_rs[i])
                h = h + o[:, :r]
                skip = o[:, r:] if skip is None else skip + o[:, r:]
            assert skip is not None
            hidden = torch.addmm(self.b_out1, torch.relu(skip), self.w_out1).relu_()
            logits = torch.addmm(self.b_out2, hidden, self.w_out2)
            if self.record:
                self.logits.append(logits)
            if self.log_tail_cut is not None and self.temperature > 0:
                # the most likely class is at least 1/classes > tail_cut: never everything is cut
                scaled = logits / self.temperature
                cut = torch.log_softmax(scaled, dim=1) < self.log_tail_cut
                logits = logits.masked_fill(cut, -math.inf)
            if self.temperature > 0:
                # Gumbel-max: argmax(logits / T + G) is a draw from softmax(logits / T)
                self.previous = torch.argmax(logits + self.temperature * gumbel[k], dim=1)
            else:
                self.previous = torch.argmax(logits, dim=1)
            out[k] = self.previous
            self.step += 1
        return out.t()


def naive_step_logits(model: WaveNet, cond: torch.Tensor, history: torch.Tensor) -> torch.Tensor:
    """The logits of the next sample by recomputing the whole receptive field (the slow way, for comparison).

    Args:
        cond: frame-rate conditioning ``(B, C, T)`` covering the history and the next sample.
        history: μ-law classes ``(B, n)`` generated so far (n < T · hop).
    Returns:
        ``(B, classes)``: the logits of sample ``n``.
    """
    c = model.config
    n = history.shape[-1]
    frames = n // c.hop_length + 1
    padded = torch.cat([history, history.new_zeros(history.shape[0], frames * c.hop_length - n)], dim=1)
    # a window starting at a frame boundary at least receptive_field samples back: its own first input (the
    # start class) and causal padding lie outside what the logits of sample n see, so they are exact
    start_frame = max(0, (n - c.receptive_field) // c.hop_length)
    lo = start_frame * c.hop_length
    logits = model(cond, padded[:, lo:], cond=cond[..., start_frame:frames])
    return logits[:, :, n - lo]


# --------------------------------------------------------------------------------------------------- vocoder


@dataclass(frozen=True)
class Segment:
    """One stream of a batched generation: frames ``[start, end)`` of its mel are generated, the first
    ``warm`` of them only to warm the queues (their audio is dropped)."""

    mel_index: int
    start: int
    end: int
    warm: int

    @property
    def frames(self) -> int:
        return self.end - self.start


def plan_segments(frames: int, segments: int, warm_frames: int, mel_index: int = 0) -> list[Segment]:
    """Cut ``frames`` into at most ``segments`` pieces of equal length (the last may be shorter), each but the
    first starting ``warm_frames`` earlier (its warm-up on the preceding conditioning)."""
    count = max(1, min(segments, frames))
    size = -(-frames // count)
    plan = []
    for first in range(0, frames, size):
        start = max(0, first - warm_frames)
        plan.append(Segment(mel_index, start, min(frames, first + size), first - start))
    return plan


#: Intra-op threads of the sampler's steps on a CPU. Its matrices are tiny ((streams × 64) @ (64 × 128)): a second
#: thread's hand-off costs more than it saves, and when the cores are busy OpenMP's barrier waits made 2 threads
#: 50–200× slower than 1 (measured under load here). Batching streams, not threads, is what uses the width.
SAMPLER_THREADS = 1


#: Frames of conditioning computed per call during generation (memory stays flat for long files; a fixed size
#: makes the audio independent of how the caller chunks the stream).
COND_BLOCK_FRAMES = 32


#: this model's checkpoint files (:class:`~vocoder_studio.vocoders.trained.CheckpointFiles`)
FILES = trained.CheckpointFiles("WaveNet", WaveNetConfig, WaveNet)
save_model = FILES.save
read_checkpoint = FILES.read
load_model = FILES.load


class WaveNetVocoder(trained.TrainedVocoder):
    """WaveNet with the queued sampler, segments of long mels generated as one batch.

    Args:
        model: the network (tests, training previews); None loads ``wavenet.pt`` from the models directories.
        device: torch device.
        config: the mel front-end; the model's ``n_mels`` and ``hop_length`` must match it.
        temperature: the softmax temperature of the draws (1.0: the model's own distribution).
        tail_cut: never draw a class less likely than this (:class:`QueuedSampler`; 0: off).
        seed: seeds the draws: the same mel, seed and segmentation give the same audio.
        segment_frames: a mel is cut into pieces of about this many frames generated side by side (more pieces
            use more of the CPU's or GPU's width; each costs ``receptive_field_frames`` of warm-up).
        max_segments: at most this many pieces (streams in one batch).
    Raises:
        VocoderUnavailableError: no usable checkpoint, or a model for another front-end.
    """

    name = "wavenet"
    local_edits = False

    files = FILES
    checkpoint = CHECKPOINT
    model: WaveNet

    def __init__(self, model: WaveNet | None = None, device: str | torch.device = "cpu",
                 config: MelConfig = DEFAULT_CONFIG, temperature: float = 1.0, seed: int = 0,
                 segment_frames: int = 32, max_segments: int = 32, tail_cut: float = 0.0) -> None:
        super().__init__(model, device, config)
        self.receptive_field = self.model.config.receptive_field
        self.temperature = float(temperature)
        self.tail_cut = float(tail_cut)
        self.seed = int(seed)
        self.segment_frames = max(1, int(segment_frames))
        self.max_segments = max(1, int(max_segments))
        #: intra-op threads while sampling (None: leave torch's setting; the GPU ignores it)
        self.sampler_threads: int | None = SAMPLER_THREADS if self.device.type == "cpu" else None

    def to(self, device: str | torch.device) -> WaveNetVocoder:
        super().to(device)
        self.sampler_threads = SAMPLER_THREADS if self.device.type == "cpu" else None
        return self

    def segments(self, frames: int, mel_index: int = 0) -> list[Segment]:
        """The pieces a mel of ``frames`` frames is generated in (:func:`plan_segments`)."""
        count = min(self.max_segments, -(-frames // self.segment_frames))
        return plan_segments(frames, count, self.receptive_field_frames, mel_index)

    def _generate(self, mels: list[torch.Tensor], plan: list[Segment]) -> Iterator[torch.Tensor]:
        """Run every segment of ``plan`` in lock-step; yield after each frame step the audio ``(S, hop)`` of all
        streams (a stream past its end yields garbage, dropped by the caller)."""
        model, c = self.model, self.model.config
        generator = torch.Generator(device=self.device).manual_seed(self.seed)
        sampler = QueuedSampler(model, len(plan), self.temperature, generator, tail_cut=self.tail_cut)
        steps = max(s.frames for s in plan)
        context = c.cond_context_frames
        width = c.num_layers * 2 * c.residual_channels
        # inference mode only around the work, never across a yield (it would leak into the consumer's code)
        for block in range(0, steps, COND_BLOCK_FRAMES):
            size = min(COND_BLOCK_FRAMES, steps - block)
            with torch.inference_mode():
                cond = torch.zeros(len(plan), width, size, device=self.device)
                for j, s in enumerate(plan):  # each stream's frames with ±context of its own mel: exact anywhere
                    mel = mels[s.mel_index]
                    a, b = s.start + block, min(s.end, s.start + block + size)
                    if a >= b:
                        continue
                    lo, hi = max(0, a - context), min(mel.shape[-1], b + context)
                    part = model.conditioning(mel[None, :, lo:hi].to(self.device))
                    cond[j, :, : b - a] = part[0, :, a - lo : b - lo]
            for k in range(size):
                with torch.inference_mode(), intra_op_threads(self.sampler_threads):
                    audio = mu_law_decode(sampler.frame(cond[:, :, k]), c.classes).cpu()
                yield audio

    def _synthesize(self, mel: torch.Tensor) -> torch.Tensor:
        mels = list(mel)
        plan = [s for index in range(len(mels)) for s in self.segments(mels[0].shape[-1], index)]
        hop = self.hop_length
        out = torch.zeros(len(mels), mels[0].shape[-1] * hop)
        for step, audio in enumerate(self._generate(mels, plan)):
            for j, s in enumerate(plan):
                if s.warm <= step < s.frames:
                    frame = s.start + step
                    out[s.mel_index, frame * hop : (frame + 1) * hop] = audio[j]
        return out

    def stream(
        self,
        mel: torch.Tensor | np.ndarray,
        chunk_frames: int = 64,
        first_chunk_frames: int | None = 16,
        context_frames: int | None = None,
    ) -> Iterator[torch.Tensor]:
        """Generate ``(80, T)`` and yield its audio in order as it is made; the blocks concatenate to exactly
        :meth:`vocode`'s audio for the same seed (the same segments are generated; chunking only groups the
        yields).

        The first segment's frames are yielded as they are generated (first sound after ``first_chunk_frames``);
        later segments run beside it and are yielded when the audio before them is out. The generation state
        lives in this generator, so several streams may run at once. ``context_frames`` is ignored: an
        autoregressive model has no right context to splice with.

        Yields:
            CPU float32 tensors ``(chunk * 256,)``, clipped to [-1, 1].
        """
        del context_frames
        x = as_mel_tensor(mel, self.config)
        if x.ndim != 2:
            raise MelShapeError(f"stream takes one mel (80, frames), got {tuple(x.shape)}")
        if chunk_frames < 1:
            raise ValueError(f"chunk_frames must be at least 1, got {chunk_frames}")
        frames, hop = x.shape[-1], self.hop_length
        bounds = chunk_bounds(frames, chunk_frames, first_chunk_frames)
        plan = self.segments(frames)
        audio = torch.zeros(frames * hop)
        ready = np.zeros(frames, dtype=bool)
        done = 0  # frames [0, done) are ready
        chunk = 0
        for step, block in enumerate(self._generate([x], plan)):
            for j, s in enumerate(plan):
                if s.warm <= step < s.frames:
                    frame = s.start + step
                    audio[frame * hop : (frame + 1) * hop] = block[j]
                    ready[frame] = True
            while done < frames and ready[done]:
                done += 1
            while chunk < len(bounds) and bounds[chunk][1] <= done:
                a, b = bounds[chunk]
                yield audio[a * hop : b * hop].clamp(-1.0, 1.0)
                chunk += 1

    def describe(self) -> str:
        c = self.model.config
        thousands = count_parameters(self.model) / 1e3
        return (f"{self.name}, {c.stacks} × {c.layers_per_stack} layers, {c.residual_channels}/{c.skip_channels} "
                f"channels, {thousands:.0f} k parameters, T {self.temperature:g} ({self.device})")


# --------------------------------------------------------------------------------------------------- files




def _build(device: str | torch.device = "cpu", config: MelConfig = DEFAULT_CONFIG, temperature: float = 1.0,
           seed: int = 0, tail_cut: float = 0.0) -> WaveNetVocoder:
    return WaveNetVocoder(device=device, config=config, temperature=temperature, seed=seed, tail_cut=tail_cut)


_check, _card = trained_checkpoint(CHECKPOINT, DEFAULT_CONFIG, verify=FILES.check_weights)

VOCODERS = (
    VocoderEntry(
        name="wavenet",
        label="WaveNet (autoregressive)",
        factory=_build,
        parameters=(
            Parameter("temperature", "float", 1.0, "softmax temperature of each sample's draw: 1 follows the "
                      "model; lower is less noisy but can fall silent or buzz", min=0.1, max=1.5),
            Parameter("tail_cut", "float", 0.0, "never draw a sample value less likely than this (LPCNet's "
                      "0.002): cuts the noise floor of an uncertain model", min=0.0, max=0.0039),
            Parameter("seed", "int", 0, "seed of the random draws: the same seed gives the same audio",
                      min=0, max=99_999),
        ),
        weights=f"models/{CHECKPOINT} (trained here: `vocoder-studio train wavenet`)",
        description="dilated causal convolutions sampling one μ-law sample at a time (van den Oord et al. "
        "2016), queued fast generation (Paine et al. 2016); an edit is regenerated from its start",
        note="Autoregressive: an edit is regenerated from its start to the end of the file (each sample depends "
        "on the ones before it); playback streams the samples as they are generated",
        check=_check,
        card=_card,
    ),
)

__all__ = [
    "CHECKPOINT",
    "QueuedSampler",
    "WaveNet",
    "WaveNetConfig",
    "WaveNetVocoder",
    "count_parameters",
    "load_model",
    "mu_law_decode",
    "mu_law_encode",
    "plan_segments",
    "read_checkpoint",
    "save_model",
]
