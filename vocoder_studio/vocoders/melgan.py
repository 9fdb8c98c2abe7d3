"""MelGAN (Kumar et al., NeurIPS 2019, arXiv 1910.06711; reference code descriptinc/melgan-neurips
``mel2wav/modules.py``): the paper's generator, trained here (``vocoder-studio train melgan``). Its multi-scale
discriminator (:mod:`vocoder_studio.training.discriminators`) and the hinge and feature-matching losses
(:mod:`vocoder_studio.training.losses`) are training's, not the vocoder's.

Generator: reflection-pad 3 + weight-normed conv (kernel 7, 16 · ngf channels) on the ln-mel; then, for each
upsampling ratio 8, 8, 2, 2: LeakyReLU(0.2), a transposed conv (kernel 2r, stride r) that halves the channels,
and a residual stack of three blocks with dilations 1, 3, 9 (LeakyReLU, reflection pad, dilated conv 3,
LeakyReLU, conv 1, plus a 1×1 shortcut); LeakyReLU, reflection pad 3, conv 7 to one channel, tanh. With ngf 32:
4.27 M parameters. Like the reference code it keeps torch's default initialisation under weight norm.

Alignment with the shared front-end (:func:`vocoder_studio.audio.mel.wav_to_mel`): mel frame ``k`` covers
samples ``[256 k - 384, 256 k + 640)``, centred on sample ``256 k + 128``. Each transposed conv (kernel 2r,
stride r, padding r / 2) spreads input sample ``i`` over output samples ``[r i - r/2, r i + 3r/2)``, centred on
the block ``[r i, r (i + 1))``, so ``T`` frames give exactly ``T * 256`` samples and frame ``k`` lands on
``[256 k, 256 (k + 1))``, centred on ``256 k + 127.5``.

A checkpoint ``melgan.pt`` is a torch file ``{"config": MelGANConfig as a dict, "model": state_dict}`` (the
generator with its weight-norm parametrisations: ``….parametrizations.weight.original0`` = g,
``original1`` = v) plus whatever the trainer adds, with its model card ``melgan.json`` beside it in a models
directory (:mod:`vocoder_studio.vocoders.checkpoints`). The vocoder folds weight norm into plain weights when
it loads one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import nn
from torch.nn import functional as F
from torch.nn.utils import parametrize
from torch.nn.utils.parametrizations import weight_norm

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.vocoders import trained
from vocoder_studio.vocoders.checkpoints import trained_checkpoint
from vocoder_studio.vocoders.entry import VocoderEntry
from vocoder_studio.vocoders.hifigan import _conv2d_of
from vocoder_studio.vocoders.stft import mel_match_parameter, phase_refine_parameter
from vocoder_studio.vocoders.trained import ModelConfig, count_parameters

#: The checkpoint's file name in a models directory; its model card is ``melgan.json``.
CHECKPOINT = "melgan.pt"

#: Negative slope of every LeakyReLU (the paper's 0.2).
LRELU_SLOPE = 0.2


def _positive_int(owner: str, name: str, value: object) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{owner}.{name} must be a positive integer, got {value!r}")


@dataclass(frozen=True)
class MelGANConfig(ModelConfig):
    """Hyper-parameters of :class:`MelGANGenerator`, saved in the checkpoint as a dict.

    Attributes:
        n_mels: mel bands of the input (the front-end's).
        ngf: base channel count; the first conv has ``ngf · 2^len(ratios)`` channels, the last stage ``ngf``.
        upsample_ratios: one transposed conv per ratio; their product must be ``hop_length``.
        n_residual_layers: blocks per residual stack, with dilations ``1, 3, 9, …`` (``3^j``).
        hop_length: samples per mel frame (the front-end's).
    Raises:
        ValueError: an inconsistent combination (the message names the field).
    """

    n_mels: int = DEFAULT_CONFIG.n_mels
    ngf: int = 32
    upsample_ratios: tuple[int, ...] = (8, 8, 2, 2)
    n_residual_layers: int = 3
    hop_length: int = DEFAULT_CONFIG.hop_length

    def __post_init__(self) -> None:
        object.__setattr__(self, "upsample_ratios", tuple(self.upsample_ratios))  # a list from JSON/torch.load
        self.require_positive_ints("n_mels", "ngf", "n_residual_layers", "hop_length")
        if not self.upsample_ratios:
            raise ValueError("MelGANConfig.upsample_ratios must not be empty")
        for ratio in self.upsample_ratios:
            _positive_int("MelGANConfig", "upsample_ratios", ratio)
        if math.prod(self.upsample_ratios) != self.hop_length:
            raise ValueError(f"MelGANConfig.upsample_ratios {self.upsample_ratios} multiply to "
                             f"{math.prod(self.upsample_ratios)}, not hop_length {self.hop_length}")

    @property
    def dilations(self) -> tuple[int, ...]:
        """Dilations of one residual stack: ``(1, 3, 9)`` by default."""
        return tuple(3**j for j in range(self.n_residual_layers))

    def input_span(self, first: int, last: int) -> tuple[int, int]:
        """The mel frames ``[lo, hi]`` (inclusive) that output samples ``[first, last]`` depend on, away from
        the edges (interval arithmetic through every layer, last to first).

        A 'same' conv of kernel K and dilation d widens by ``d (K - 1) / 2`` on each side; a transposed conv of
        stride r, kernel 2r and padding p maps input ``i`` to outputs ``[r i - p, r i - p + 2r - 1]``.
        """
        lo, hi = first - 3, last + 3  # the output conv, kernel 7
        for ratio in reversed(self.upsample_ratios):
            reach = sum(self.dilations)  # the residual stack: dilated kernel-3 convs (1×1 convs add nothing)
            lo, hi = lo - reach, hi + reach
            pad = ratio // 2 + ratio % 2
            lo, hi = -((-(lo + pad - 2 * ratio + 1)) // ratio), (hi + pad) // ratio
        return lo - 3, hi + 3  # the input conv, kernel 7

    @property
    def receptive_field_frames(self) -> int:
        """Mel frames on each side that one frame's ``hop_length`` output samples depend on: 6 by default.

        With at least this much context a chunk's middle is computed exactly as in the full pass (the
        reflection padding at a chunk's edge reaches no further in), so streaming splices exactly.
        """
        lo, hi = self.input_span(0, self.hop_length - 1)
        return max(-lo, hi)

    @property
    def min_frames(self) -> int:
        """The shortest mel every reflection padding accepts (a pad must be shorter than its input); shorter
        mels are edge-padded to this length by :meth:`MelGANGenerator.forward` and the output cut back."""
        need = 3 + 1  # the input conv's pad of 3, at frame rate
        rate = 1
        for ratio in self.upsample_ratios:  # each residual stack's largest dilation, at its rate
            rate *= ratio
            need = max(need, max(self.dilations) // rate + 1)
        return need  # the output conv's pad of 3 at the sample rate needs only 1 frame


class ResidualBlock(nn.Module):
    """``x + block(x)`` with a 1×1 shortcut: LeakyReLU, reflection pad d, conv 3 (dilation d), LeakyReLU,
    conv 1. ``(B, C, L)`` → ``(B, C, L)``."""

    def __init__(self, channels: int, dilation: int) -> None:
        super().__init__()
        self.block = nn.Sequential(
            nn.LeakyReLU(LRELU_SLOPE),
            nn.ReflectionPad1d(dilation),
            weight_norm(nn.Conv1d(channels, channels, 3, dilation=dilation)),
            nn.LeakyReLU(LRELU_SLOPE),
            weight_norm(nn.Conv1d(channels, channels, 1)),
        )
        self.shortcut = weight_norm(nn.Conv1d(channels, channels, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.shortcut(x) + self.block(x)


class MelGANGenerator(nn.Module):
    """MelGAN generator: ln-mel ``(B, n_mels, T)`` float32 → waveform ``(B, T * hop_length)`` in (-1, 1)."""

    def __init__(self, config: MelGANConfig = MelGANConfig()) -> None:
        super().__init__()
        self.config = config
        mult = 2 ** len(config.upsample_ratios)
        layers: list[nn.Module] = [
            nn.ReflectionPad1d(3),
            weight_norm(nn.Conv1d(config.n_mels, mult * config.ngf, 7)),
        ]
        for ratio in config.upsample_ratios:
            channels = mult * config.ngf
            layers += [
                nn.LeakyReLU(LRELU_SLOPE),
                weight_norm(nn.ConvTranspose1d(channels, channels // 2, 2 * ratio, stride=ratio,
                                               padding=ratio // 2 + ratio % 2, output_padding=ratio % 2)),
            ]
            layers += [ResidualBlock(channels // 2, d) for d in config.dilations]
            mult //= 2
        layers += [
            nn.LeakyReLU(LRELU_SLOPE),
            nn.ReflectionPad1d(3),
            weight_norm(nn.Conv1d(config.ngf, 1, 7)),
            nn.Tanh(),
        ]
        self.model = nn.Sequential(*layers)
        self.layout_2d = False

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """ln-mel ``(B, n_mels, T)`` → ``(B, T * hop_length)``; mels shorter than ``config.min_frames`` are
        edge-padded on the right and the output cut to ``T * hop_length``."""
        frames = mel.shape[-1]
        short = self.config.min_frames - frames
        if short > 0:
            mel = F.pad(mel, (0, short), mode="replicate")
        if self.layout_2d:  # (B, C, T) → (B, C, 1, T) channels-last, see as_conv2d
            mel = mel.unsqueeze(2).contiguous(memory_format=torch.channels_last)
        audio = self.model(mel).reshape(mel.shape[0], -1)
        return audio[:, : frames * self.config.hop_length] if short > 0 else audio

    def as_conv2d(self) -> MelGANGenerator:
        """Run every 1-D convolution and padding as a 2-D one of height 1 in channels-last layout, in place
        (for inference: call :meth:`fold_weight_norm` first).

        The same output to float rounding (~1e-7), 2.4× faster with oneDNN on a 2-core AVX2 CPU (10 s of audio,
        one thread: 3.4 s → 1.5 s; the 1-D 1×1 convolutions take torch's slow im2col path).
        """
        for module in list(self.modules()):
            for name, child in list(module.named_children()):
                if isinstance(child, (nn.Conv1d, nn.ConvTranspose1d)):
                    setattr(module, name, _conv2d_of(child))
                elif isinstance(child, nn.ReflectionPad1d):
                    left, right = (int(p) for p in child.padding)
                    setattr(module, name, nn.ReflectionPad2d((left, right, 0, 0)))
        self.layout_2d = True
        return self

    def fold_weight_norm(self) -> MelGANGenerator:
        """Replace every weight-norm parametrisation by its plain weight (same output, faster), in place.

        Returns:
            self. Its state dict then has plain ``weight`` keys and no longer loads a training checkpoint.
        """
        for module in self.modules():
            if parametrize.is_parametrized(module, "weight"):
                parametrize.remove_parametrizations(module, "weight", leave_parametrized=True)
        return self


#: this model's checkpoint files (:class:`~vocoder_studio.vocoders.trained.CheckpointFiles`)
FILES = trained.CheckpointFiles("MelGAN", MelGANConfig, MelGANGenerator)
save_model = FILES.save
read_checkpoint = FILES.read
load_model = FILES.load


class MelGANVocoder(trained.TrainedVocoder):
    """The MelGAN vocoder: a trained :class:`MelGANGenerator` (weight norm folded, 2-D channels-last
    convolutions) on the CPU or GPU.

    Args:
        model: the generator to run (a copy is folded; the given module is left as it is); None loads
            ``melgan.pt`` from the models directories.
        device: torch device.
        config: the mel front-end; the model's ``n_mels`` and ``hop_length`` must match it.
        mel_match_steps: steps of :func:`~vocoder_studio.vocoders.stft.match_waveform` after the generator (the
            panel's default is :data:`MEL_MATCH_DEFAULT` while the shipped generator is under-trained).
        phase_refine: Griffin-Lim iterations after the mel matching, from the generator's own phase
            (:func:`~vocoder_studio.vocoders.stft.refine_phase`; default 0, the panel's
            :data:`PHASE_REFINE_DEFAULT`).
    Raises:
        VocoderUnavailableError: no usable checkpoint, or a model for another front-end.
    """

    name = "melgan"
    #: frames of one call; longer mels go in exact chunks (context = the receptive field, 2 · 6 frames
    #: recomputed per chunk: under 2 %) so that memory stays flat (the last stage holds 32 × 4 float32
    #: activations per output sample: about 30 MB per 10 s).
    max_frames_per_call = 2048

    files = FILES
    checkpoint = CHECKPOINT
    model: MelGANGenerator

    def __init__(self, model: MelGANGenerator | None = None, device: str | torch.device = "cpu",
                 config: MelConfig = DEFAULT_CONFIG, mel_match_steps: int = 0, phase_refine: int = 0) -> None:
        if model is not None:  # a copy (deepcopy of weight-norm parametrisations breaks the original: rebuild)
            copied = MelGANGenerator(model.config)
            copied.load_state_dict(model.state_dict())
            model = copied
        super().__init__(model, device, config)
        self.set_mel_match(mel_match_steps, refine=phase_refine)

    def prepare(self, model: nn.Module) -> nn.Module:
        """Weight norm folded into plain weights and the 2-D channels-last layout (the fast CPU path)."""
        assert isinstance(model, MelGANGenerator)
        return model.fold_weight_norm().as_conv2d()

    def describe(self) -> str:
        c = self.model.config
        millions = count_parameters(self.model) / 1e6
        return f"{self.name}, ngf {c.ngf}, {millions:.1f} M parameters ({self.device})"


#: The panel's mel-matching steps after the generator: 1 while the shipped generator is a short CPU warm-up
#: whose envelope is far off (models/melgan.json gives the scores with 0 and 1); 0 plays the raw generator.
MEL_MATCH_DEFAULT = 1

#: The panel's Griffin-Lim iterations after the mel matching (from the generator's phase), chosen on the 8
#: validation clips with one mel-matching step: 0 / 2 / 4 / 8 / 16 iterations scored PESQ-wb 2.24 / 2.39 / 2.56 /
#: 2.67 / 2.67 and STOI 0.908 / 0.925 / 0.932 / 0.936 / 0.936 (8: as good as 16 at half the cost).
PHASE_REFINE_DEFAULT = 8


def _build(device: str | torch.device = "cpu", config: MelConfig = DEFAULT_CONFIG,
           mel_match: int = MEL_MATCH_DEFAULT, phase_refine: int = PHASE_REFINE_DEFAULT) -> MelGANVocoder:
    return MelGANVocoder(device=device, config=config, mel_match_steps=mel_match, phase_refine=phase_refine)


_check, _card = trained_checkpoint(CHECKPOINT, DEFAULT_CONFIG, verify=FILES.check_weights)

VOCODERS = (
    VocoderEntry(
        name="melgan",
        label="MelGAN (ours)",
        factory=_build,
        parameters=(mel_match_parameter(MEL_MATCH_DEFAULT), phase_refine_parameter(PHASE_REFINE_DEFAULT)),
        weights=f"models/{CHECKPOINT} (trained here: `vocoder-studio train melgan`)",
        description="fully convolutional GAN generator, mel to waveform in one fast pass (Kumar et al. 2019)",
        check=_check,
        card=_card,
    ),
)

__all__ = [
    "CHECKPOINT",
    "MelGANConfig",
    "MelGANGenerator",
    "MelGANVocoder",
    "count_parameters",
    "load_model",
    "read_checkpoint",
    "save_model",
]
