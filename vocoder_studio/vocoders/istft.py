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

import functools
from dataclasses import dataclass

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, mel_filterbank, wav_to_mel
from vocoder_studio.vocoders import trained
from vocoder_studio.vocoders.checkpoints import trained_checkpoint
from vocoder_studio.vocoders.entry import VocoderEntry
from vocoder_studio.vocoders.params import Parameter
from vocoder_studio.vocoders.trained import ModelConfig, count_parameters

#: The checkpoint's file name in a models directory; its model card is ``istft.json``.
CHECKPOINT = "istft.pt"

#: Mel-matching steps the vocoder runs after the network (:func:`mel_match`; 0: the network's raw output).
#: One step took English speech from PESQ-wb 1.91 to 2.25 and log-mel L1 0.85 to 0.21 (models/istft.json).
MEL_MATCH_STEPS = 1

#: Vocos clips the predicted magnitude at this value (``torch.clip(mag, max=1e2)``) so that an early,
#: untrained exponent cannot overflow.
MAX_MAGNITUDE = 1e2


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


def hann_frame_window(config: ISTFTConfig, device: torch.device | str | None = None) -> torch.Tensor:
    """The periodic Hann window of ``win_length`` zero-padded to ``n_fft`` in the middle (as ``torch.stft``
    pads it), float32 ``(n_fft,)``."""
    window = torch.hann_window(config.win_length, device=device)
    left = (config.n_fft - config.win_length) // 2
    return F.pad(window, (left, config.n_fft - config.win_length - left))


def overlap_add(frames: torch.Tensor, hop_length: int) -> torch.Tensor:
    """Overlap-add frames ``hop_length`` apart (a strided add: ``n_fft / hop`` shifted sums, differentiable).

    Args:
        frames: ``(B, T, n_fft)`` with ``n_fft`` a multiple of ``hop_length``.
    Returns:
        ``(B, (T - 1) * hop_length + n_fft)``: frame ``k`` added at sample ``k * hop_length``.
    """
    batch, count, n_fft = frames.shape
    overlap = n_fft // hop_length
    blocks = frames.reshape(batch, count, overlap, hop_length)
    out = F.pad(blocks[:, :, 0], (0, 0, 0, overlap - 1))
    for r in range(1, overlap):
        out = out + F.pad(blocks[:, :, r], (0, 0, r, overlap - 1 - r))
    return out.reshape(batch, (count + overlap - 1) * hop_length)


def inverse_stft(spec: torch.Tensor, config: ISTFTConfig, window: torch.Tensor | None = None) -> torch.Tensor:
    """Inverse STFT with "same" padding, aligned with the shared mel front-end (Vocos's ``ISTFT``).

    irfft of each frame, Hann window, overlap-add, division by the overlap-added squared window, and a trim of
    ``(n_fft - hop) / 2`` samples at each side. The inverse of ``torch.stft(center=False)`` of the signal
    reflect-padded by that amount, as :func:`vocoder_studio.audio.mel.wav_to_mel` takes it.

    Args:
        spec: complex ``(B, T, n_fft // 2 + 1)``, frames first (``torch.stft`` gives ``(B, bins, T)``:
            transpose it).
        config: n_fft, hop_length and win_length.
        window: the synthesis window ``(n_fft,)`` (default :func:`hann_frame_window`).
    Returns:
        real ``(B, T * hop_length)``; sample ``hop k + i`` comes from frames ``k - 2 … k + 2``.
    """
    if spec.ndim != 3 or spec.shape[-1] != config.n_fft // 2 + 1:
        raise ValueError(f"inverse_stft takes (batch, frames, {config.n_fft // 2 + 1}), got {tuple(spec.shape)}")
    if window is None:
        window = hann_frame_window(config, spec.device)
    frames = torch.fft.irfft(spec, n=config.n_fft, dim=-1) * window  # (B, T, n_fft)
    count = frames.shape[1]
    audio = overlap_add(frames, config.hop_length)
    envelope = overlap_add(window.square().expand(1, count, -1), config.hop_length)
    pad = config.pad
    audio = audio[:, pad : audio.shape[-1] - pad]
    envelope = envelope[:, pad : envelope.shape[-1] - pad]
    return audio / envelope.clamp_min(1e-11)


def band_to_bin_weights(config: MelConfig = DEFAULT_CONFIG) -> torch.Tensor:
    """How a per-band value spreads to the STFT bins: float32 ``(n_mels, n_fft // 2 + 1)`` whose column ``k`` is
    the mel filterbank's column ``k`` divided by its sum (the bands' share of bin ``k``); bins no filter covers
    (below the first and above the last band, e.g. above ``fmax``) take the nearest covered bin's column."""
    return torch.tensor(_band_to_bin_weights(config))  # a fresh copy: safe in and out of inference mode


@functools.lru_cache(maxsize=8)
def _band_to_bin_weights(config: MelConfig) -> np.ndarray:
    bank = mel_filterbank(config).astype(np.float32)
    total = bank.sum(0)
    covered = np.flatnonzero(total > 0)
    nearest = covered[np.clip(np.searchsorted(covered, np.arange(bank.shape[1])), 0, len(covered) - 1)]
    nearest = np.where(np.arange(bank.shape[1]) < covered[0], covered[0], nearest)
    weights = bank / np.maximum(total, 1e-12)
    out = np.ascontiguousarray(weights[:, nearest], dtype=np.float32)
    out.flags.writeable = False
    return out


def mel_match(mel: torch.Tensor, log_magnitude: torch.Tensor, phase: torch.Tensor, config: ISTFTConfig,
              window: torch.Tensor, steps: int = MEL_MATCH_STEPS, mel_config: MelConfig = DEFAULT_CONFIG,
              synthesised: torch.Tensor | None = None) -> torch.Tensor:
    """Synthesise the predicted STFT, then make the waveform's own mel match the input mel: each step analyses
    the output with the shared front-end, takes the per-band error ``mel - mel(output)`` (nats), spreads it to
    the bins (:func:`band_to_bin_weights`) and adds it to the predicted log-magnitudes, phases kept; the result
    is synthesised again.

    Why: the network's magnitudes and phases are not a consistent STFT, so the overlap-add changes the spectrum;
    the network learned to offset that on its training voices only. On an unseen English speaker its output
    was 0.7–1.0 nats too loud in every band (noise filling the quiet bands and the pauses). One step is a
    fixed-point (Gauss–Newton-like) correction of the envelope, like Griffin-Lim's magnitude projection but on
    the mel scale and with the network's phases; it costs one more STFT and inverse STFT.

    Args:
        mel: the input ln-mel ``(B, n_mels, T)`` float32 (natural-log magnitude, the front-end's floor).
        log_magnitude, phase: the network's prediction, each ``(B, T, n_fft // 2 + 1)``.
        config: the generator's STFT sizes; ``window``: its synthesis window.
        steps: corrections (0 returns the plain synthesis).
        mel_config: the front-end the input mel was made with (the analysis of each step uses it).
        synthesised: the waveform the prediction already stands for, when known (:func:`match_waveform`): the
            first step analyses it instead of synthesising the prediction again.
    Returns:
        the waveform ``(B, T * hop_length)`` float32. Each step widens the receptive field by
        :attr:`ISTFTConfig.frame_overlap` (3) frames on each side.
    """
    magnitude_limit = MAX_MAGNITUDE
    weights = band_to_bin_weights(mel_config).to(mel.device) if steps else None

    def synthesise(log_mag: torch.Tensor) -> torch.Tensor:
        magnitude = torch.exp(log_mag).clamp(max=magnitude_limit)
        return inverse_stft(torch.complex(magnitude * torch.cos(phase), magnitude * torch.sin(phase)), config,
                            window)

    for step in range(steps):
        assert weights is not None
        output = synthesised if step == 0 and synthesised is not None else synthesise(log_magnitude)
        error = mel.float() - wav_to_mel(output, mel_config)  # (B, n_mels, T), nats
        log_magnitude = log_magnitude + error.transpose(1, 2) @ weights
    return synthesised if steps == 0 and synthesised is not None else synthesise(log_magnitude)


def match_waveform(audio: torch.Tensor, mel: torch.Tensor, steps: int = 1,
                   mel_config: MelConfig = DEFAULT_CONFIG) -> torch.Tensor:
    """:func:`mel_match` for any vocoder's waveform: the front-end's own STFT of ``audio`` (reflect-padded, the
    frames of the mel) gives the magnitudes and phases to start from, which :func:`inverse_stft` would turn
    back into ``audio`` exactly; ``steps`` corrections then make the output's mel follow ``mel``.

    Args:
        audio: ``(B, T * hop_length)`` float32 (not clipped), made from ``mel`` ``(B, n_mels, T)``.
        steps: corrections (0 returns ``audio`` unchanged).
    Returns:
        ``(B, T * hop_length)`` float32. Output block ``k`` depends on ``audio`` within ``±(4 + 3 (steps - 1))``
        hops of it (the analysis and the synthesis frames each reach two hops; each further step three).
        ``audio`` itself is the first step's output to analyse (the STFT round trip is exact), so no synthesis
        is repeated.
    """
    if steps == 0:
        return audio
    config = ISTFTConfig(n_mels=mel_config.n_mels, n_fft=mel_config.n_fft, hop_length=mel_config.hop_length,
                         win_length=mel_config.win_length)
    window = hann_frame_window(config, audio.device)
    padded = F.pad(audio.float().unsqueeze(1), (config.pad, config.pad), mode="reflect").squeeze(1)
    spec = torch.stft(padded, config.n_fft, config.hop_length, config.win_length,
                      torch.hann_window(config.win_length, device=audio.device), center=False,
                      return_complex=True).transpose(1, 2)[:, : mel.shape[-1]]
    log_magnitude = torch.log(spec.abs().clamp_min(1e-9))
    return mel_match(mel, log_magnitude, spec.angle(), config, window, steps, mel_config, synthesised=audio.float())


def mel_match_parameter(default: int) -> Parameter:
    """The ``mel_match`` parameter of a vocoder's panel and CLI: :func:`mel_match` steps after the network."""
    return Parameter("mel_match", "int", default,
                     "mel-matching steps after the network: the output is analysed, and its STFT magnitudes are "
                     "corrected so that its mel follows the input's (phases kept); 0 plays the network's raw output",
                     min=0, max=4)


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
        #: :func:`mel_match` steps after the network; each widens the receptive field by ``frame_overlap``
        self.mel_match_steps = mel_match_steps
        c = self.model.config
        self.receptive_field_frames = c.receptive_field_frames + c.frame_overlap * mel_match_steps

    def _synthesize(self, mel: torch.Tensor) -> torch.Tensor:
        return self.model.synthesize(mel, self.mel_match_steps, self.config)

    def describe(self) -> str:
        c = self.model.config
        millions = count_parameters(self.model) / 1e6
        return f"{self.name}, {c.num_layers} × {c.dim} ConvNeXt, {millions:.1f} M parameters ({self.device})"


def _build(device: str | torch.device = "cpu", config: MelConfig = DEFAULT_CONFIG,
           mel_match: int = MEL_MATCH_STEPS) -> ISTFTVocoder:
    return ISTFTVocoder(device=device, config=config, mel_match_steps=mel_match)


_check, _card = trained_checkpoint(CHECKPOINT, DEFAULT_CONFIG)

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
