"""Our own fast iSTFT vocoder, after Vocos (Siuzdak 2023, arXiv 2306.00814; reference code gemelo-ai/vocos).

A ConvNeXt backbone (Liu et al. 2022) runs at frame rate and predicts, for every mel frame, the log-magnitude
and phase of one STFT frame (n_fft 1024, hop 256); an inverse FFT and an overlap-add make the samples. No
layer runs at the sample rate, which is why it is fast on a CPU and trainable on one.

Alignment with the shared front-end (:func:`vocoder_studio.audio.mel.wav_to_mel`): it reflect-pads
``(n_fft - hop) / 2`` = 384 samples on each side and takes the STFT with ``center=False``, so mel frame ``k``
covers samples ``[256 k - 384, 256 k + 640)``. :func:`inverse_stft` places frame ``k`` exactly there (Vocos's
``padding="same"``: irfft, window, overlap-add, divide by the overlap-added squared window, trim 384 samples
at each side), so ``T`` frames give exactly ``T * 256`` samples aligned with the original audio.
``torch.istft`` does not fit: with ``center=False`` it fails its window-envelope check, and ``center=True``
shifts every frame by 128 samples against this front-end (shared/facts.md).

A checkpoint ``istft.pt`` is a torch file ``{"config": ISTFTConfig as a dict, "model": state_dict}`` plus
whatever the trainer adds (``"optimizer"``, ``"step"``, …; ignored here), with its model card ``istft.json``
beside it in a models directory (:mod:`vocoder_studio.vocoders.checkpoints`).
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import nn

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.vocoders import trained
from vocoder_studio.vocoders.checkpoints import trained_checkpoint
from vocoder_studio.vocoders.entry import VocoderEntry
from vocoder_studio.vocoders.stft import (
    MAX_MAGNITUDE,
    band_to_bin_weights,
    hann_frame_window,
    inverse_stft,
    match_waveform,
    mel_match,
    mel_match_parameter,
    overlap_add,
)
from vocoder_studio.vocoders.trained import ModelConfig, count_parameters

#: The checkpoint's file name in a models directory; its model card is ``istft.json``.
CHECKPOINT = "istft.pt"

#: Mel-matching steps the vocoder runs after the network (:func:`mel_match`; 0: the network's raw output).
#: One step took English speech from PESQ-wb 1.91 to 2.25 and log-mel L1 0.85 to 0.21 (models/istft.json).
MEL_MATCH_STEPS = 1


@dataclass(frozen=True)
class ISTFTConfig(ModelConfig):
    """Hyper-parameters of :class:`ISTFTGenerator`, saved in the checkpoint as a dict.

    The defaults (dim 256, intermediate 768, 8 layers) give about 3.6 M parameters; the issue's GPU probe used
    dim 384 (7.7 M).

    Attributes:
        n_mels: mel bands of the input (the front-end's).
        dim: channels of the ConvNeXt backbone.
        intermediate_dim: hidden width of each block's pointwise MLP.
        num_layers: ConvNeXt blocks.
        kernel_size: odd kernel of the embedding convolution and of each block's depthwise convolution.
        n_fft: FFT size of the synthesis STFT in samples; a multiple of ``hop_length``.
        hop_length: samples per mel frame (the front-end's).
        win_length: Hann window length, at most ``n_fft`` (centred in the frame, as ``torch.stft`` does).
        layer_scale_init: initial layer-scale γ of each block; None means ``1 / num_layers`` (Vocos).
    Raises:
        ValueError: an inconsistent combination (the message names the field).
    """

    n_mels: int = DEFAULT_CONFIG.n_mels
    dim: int = 256
    intermediate_dim: int = 768
    num_layers: int = 8
    kernel_size: int = 7
    n_fft: int = DEFAULT_CONFIG.n_fft
    hop_length: int = DEFAULT_CONFIG.hop_length
    win_length: int = DEFAULT_CONFIG.win_length
    layer_scale_init: float | None = None

    def __post_init__(self) -> None:
        self.require_positive_ints("n_mels", "dim", "intermediate_dim", "num_layers", "kernel_size", "n_fft",
                                   "hop_length", "win_length")
        if self.kernel_size % 2 == 0:
            raise ValueError(f"ISTFTConfig.kernel_size must be odd, got {self.kernel_size}")
        if self.n_fft % self.hop_length or (self.n_fft - self.hop_length) % 2:
            raise ValueError(f"ISTFTConfig.n_fft {self.n_fft} must be a multiple of hop_length {self.hop_length} "
                             "with (n_fft - hop_length) even")
        if self.win_length > self.n_fft:
            raise ValueError(f"ISTFTConfig.win_length {self.win_length} exceeds n_fft {self.n_fft}")

    @property
    def pad(self) -> int:
        """Samples trimmed at each side of the overlap-add: ``(n_fft - hop_length) / 2`` = 384."""
        return (self.n_fft - self.hop_length) // 2

    @property
    def backbone_context_frames(self) -> int:
        """Frames each side that one backbone output frame sees: ``kernel_size // 2`` per convolution, for the
        embedding and each block: 3 · (1 + 8) = 27 by default."""
        return (self.kernel_size // 2) * (1 + self.num_layers)

    @property
    def overlap_frames(self) -> int:
        """Neighbouring STFT frames on each side that overlap one frame's ``hop_length`` output samples.

        Frame ``j`` covers samples ``[hop j - pad, hop j - pad + n_fft)``; it reaches block ``k`` (samples
        ``[hop k, hop (k + 1))``) when ``|j - k| < 1 + pad / hop``: ±2 for 1024 / 256.
        """
        return -(-self.pad // self.hop_length)

    @property
    def frame_overlap(self) -> int:
        """STFT frames on each side that share samples with one frame: ``n_fft / hop_length - 1`` = 3 (frames
        4 hops apart meet only where the Hann windows are 0). What one :func:`mel_match` step adds to the
        receptive field: an output mel frame is analysed from samples that frames ±3 synthesised."""
        return self.n_fft // self.hop_length - 1

    @property
    def receptive_field_frames(self) -> int:
        """Mel frames each side that one frame's output samples depend on: backbone + overlap-add = 27 + 2 = 29.

        With at least this much context a chunk's middle is computed exactly as in the full pass (the zero
        padding at a chunk's edge reaches no further in), so streaming splices exactly.
        """
        return self.backbone_context_frames + self.overlap_frames


class ConvNeXtBlock(nn.Module):
    """ConvNeXt block at frame rate: depthwise conv → LayerNorm → Linear → GELU → Linear → layer scale γ →
    residual. ``(B, dim, T)`` → ``(B, dim, T)``; sees ``kernel_size // 2`` frames on each side."""

    def __init__(self, dim: int, intermediate_dim: int, kernel_size: int, layer_scale: float) -> None:
        super().__init__()
        self.dwconv = nn.Conv1d(dim, dim, kernel_size, padding=kernel_size // 2, groups=dim)
        self.norm = nn.LayerNorm(dim, eps=1e-6)
        self.pwconv1 = nn.Linear(dim, intermediate_dim)
        self.act = nn.GELU()
        self.pwconv2 = nn.Linear(intermediate_dim, dim)
        self.gamma = nn.Parameter(torch.full((dim,), float(layer_scale)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.dwconv(x).transpose(1, 2)  # (B, T, dim)
        y = self.pwconv2(self.act(self.pwconv1(self.norm(y))))
        return x + (self.gamma * y).transpose(1, 2)


class ISTFTGenerator(nn.Module):
    """Vocos-style generator: ln-mel ``(B, n_mels, T)`` → waveform ``(B, T * hop_length)``.

    Conv1d embedding (kernel 7) → LayerNorm → ``num_layers`` ConvNeXt blocks → LayerNorm → Linear to
    ``n_fft + 2`` values per frame: a log-magnitude and a phase for each of the ``n_fft / 2 + 1`` bins
    (Vocos's ``ISTFTHead``: ``S = min(exp(m), 100) · (cos p + i sin p)``) → :func:`inverse_stft`.
    The output is not clipped (the vocoder clips to [-1, 1]; training sees the raw values).
    """

    def __init__(self, config: ISTFTConfig = ISTFTConfig()) -> None:
        super().__init__()
        self.config = config
        c = config
        self.embed = nn.Conv1d(c.n_mels, c.dim, c.kernel_size, padding=c.kernel_size // 2)
        self.norm = nn.LayerNorm(c.dim, eps=1e-6)
        scale = c.layer_scale_init if c.layer_scale_init is not None else 1.0 / c.num_layers
        self.blocks = nn.ModuleList(
            ConvNeXtBlock(c.dim, c.intermediate_dim, c.kernel_size, scale) for _ in range(c.num_layers)
        )
        self.final_norm = nn.LayerNorm(c.dim, eps=1e-6)
        for module in self.modules():  # Vocos's backbone initialisation (the head keeps torch's default)
            if isinstance(module, (nn.Conv1d, nn.Linear)):
                nn.init.trunc_normal_(module.weight, std=0.02)
                if module.bias is not None:
                    nn.init.zeros_(module.bias)
        self.head = nn.Linear(c.dim, c.n_fft + 2)
        self.register_buffer("window", hann_frame_window(c), persistent=False)

    def spectrum(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The predicted STFT: log-magnitude and phase (radians, unwrapped), each ``(B, T, n_fft // 2 + 1)``."""
        x = self.embed(mel)
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        x = self.head(self.final_norm(x.transpose(1, 2)))  # (B, T, n_fft + 2)
        log_magnitude, phase = x.chunk(2, dim=-1)
        return log_magnitude, phase

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """ln-mel ``(B, n_mels, T)`` float32 → waveform ``(B, T * hop_length)`` float32 (not clipped)."""
        return self.synthesize(mel, 0)

    def synthesize(self, mel: torch.Tensor, mel_match_steps: int = MEL_MATCH_STEPS,
                   mel_config: MelConfig = DEFAULT_CONFIG) -> torch.Tensor:
        """ln-mel ``(B, n_mels, T)`` float32 → waveform ``(B, T * hop_length)`` float32 (not clipped), after
        ``mel_match_steps`` steps of :func:`mel_match` against ``mel_config``'s front-end (0: the raw output,
        as training sees it)."""
        log_magnitude, phase = self.spectrum(mel)
        # the head may run in bfloat16/float16 under autocast; the FFT and complex numbers need float32
        log_magnitude, phase = log_magnitude.float(), phase.float()
        window: torch.Tensor = self.window  # type: ignore[assignment]
        return mel_match(mel, log_magnitude, phase, self.config, window, mel_match_steps, mel_config)


#: this model's checkpoint files (:class:`~vocoder_studio.vocoders.trained.CheckpointFiles`)
FILES = trained.CheckpointFiles("iSTFT", ISTFTConfig, ISTFTGenerator)
save_model = FILES.save
read_checkpoint = FILES.read
load_model = FILES.load


class ISTFTVocoder(trained.TrainedVocoder):
    """The iSTFT vocoder: a trained :class:`ISTFTGenerator` on the CPU or GPU.

    Args:
        model: the generator to run (tests and the trainer's previews); None loads ``istft.pt`` from the models
            directories.
        device: torch device.
        config: the mel front-end; the model's ``n_mels`` and ``hop_length`` must match it.
        mel_match_steps: steps of :func:`mel_match` after the network (default :data:`MEL_MATCH_STEPS`; 0 plays
            the network's raw output, as its training scores it).
    Raises:
        VocoderUnavailableError: no usable checkpoint, or a model for another front-end.
    """

    name = "istft"
    #: frames of one call: peak memory grew about 30 kB a frame (117 MB for 4096 frames, measured), so 2048
    #: frames (24 s) keep it near 60 MB whatever the length; longer mels go in exact chunks (context = the
    #: receptive field, 2 · 29 frames recomputed per chunk: under 3 %).
    max_frames_per_call = 2048

    files = FILES
    checkpoint = CHECKPOINT
    model: ISTFTGenerator

    def __init__(self, model: ISTFTGenerator | None = None, device: str | torch.device = "cpu",
                 config: MelConfig = DEFAULT_CONFIG, mel_match_steps: int = MEL_MATCH_STEPS) -> None:
        super().__init__(model, device, config)
        # mel matching from the network's own spectrum, inside _synthesize: each step widens the receptive field
        # by ``frame_overlap`` (the first needs no extra analysis of the output)
        self.mel_match_inside = True
        self.set_mel_match(mel_match_steps, widen=self.model.config.frame_overlap * mel_match_steps)

    def _synthesize(self, mel: torch.Tensor) -> torch.Tensor:
        return self.model.synthesize(mel, self.mel_match_steps, self.config)

    def describe(self) -> str:
        c = self.model.config
        millions = count_parameters(self.model) / 1e6
        return f"{self.name}, {c.num_layers} × {c.dim} ConvNeXt, {millions:.1f} M parameters ({self.device})"


def _build(device: str | torch.device = "cpu", config: MelConfig = DEFAULT_CONFIG,
           mel_match: int = MEL_MATCH_STEPS) -> ISTFTVocoder:
    return ISTFTVocoder(device=device, config=config, mel_match_steps=mel_match)


_check, _card = trained_checkpoint(CHECKPOINT, DEFAULT_CONFIG, verify=FILES.check_weights)

VOCODERS = (
    VocoderEntry(
        name="istft",
        label="iSTFT (Vocos-style, ours)",
        factory=_build,
        parameters=(mel_match_parameter(MEL_MATCH_STEPS),),
        weights=f"models/{CHECKPOINT} (trained here: `vocoder-studio train istft`)",
        description="ConvNeXt at frame rate predicting STFT magnitude and phase, then an inverse FFT "
        "(after Vocos, Siuzdak 2023)",
        check=_check,
        card=_card,
    ),
)

__all__ = [
    "CHECKPOINT",
    "MAX_MAGNITUDE",
    "band_to_bin_weights",
    "hann_frame_window",
    "overlap_add",
    "ISTFTConfig",
    "ISTFTGenerator",
    "ISTFTVocoder",
    "count_parameters",
    "inverse_stft",
    "load_model",
    "match_waveform",
    "mel_match",
    "mel_match_parameter",
    "read_checkpoint",
    "save_model",
]
