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
shifts every frame by 128 samples against this front-end (``tests/vocoders/test_istft.py`` checks the
alignment).

A checkpoint ``istft.pt`` is a torch file ``{"config": ISTFTConfig as a dict, "model": state_dict}`` plus
whatever the trainer adds (``"optimizer"``, ``"step"``, …; ignored here), with its model card ``istft.json``
beside it in a models directory (:mod:`vocoder_studio.vocoders.checkpoints`).
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch
from torch import nn
from torch.nn import functional as F

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, mel_to_linear
from vocoder_studio.vocoders import trained
from vocoder_studio.vocoders.base import PositionedVocoder, as_mel_tensor
from vocoder_studio.vocoders.checkpoints import trained_checkpoint
from vocoder_studio.vocoders.entry import VocoderEntry
from vocoder_studio.vocoders.griffin_lim import MAX_LN_MEL
from vocoder_studio.vocoders.params import Parameter
from vocoder_studio.vocoders.stft import (
    MAX_MAGNITUDE,
    band_to_bin_weights,
    hann_frame_window,
    inverse_stft,
    match_waveform,
    mel_match,
    mel_match_parameter,
    overlap_add,
    phase_refine_parameter,
)
from vocoder_studio.vocoders.trained import ModelConfig, count_parameters

#: The checkpoint's file name in a models directory; its model card is ``istft.json``.
CHECKPOINT = "istft.pt"

#: Mel-matching steps the vocoder runs after the network (:func:`mel_match`; 0: the network's raw output).
#: One step took English speech from PESQ-wb 1.91 to 2.25 and log-mel L1 0.85 to 0.21 (models/istft.json).
MEL_MATCH_STEPS = 1

#: Where the synthesised magnitudes come from: the network's head, or the mel's pseudo-inverse.
MAGNITUDES = ("network", "mel")

#: The default: the mel's pseudo-inverse magnitude, a phase from :data:`INIT` refined by :data:`PHASE_REFINE` fast
#: Griffin-Lim iterations, then one mel-matching step. The network's magnitudes fail on voices it never heard; its
#: phase does not. On the 8 validation clips (one thread): network magnitudes + 1 step PESQ-wb 2.32 / STOI 0.921;
#: pseudo-inverse + the network's phase + 4 / 6 / 8 iterations + 1 step 3.04 / 0.943, 3.08 / 0.946, 3.16 / 0.949
#: at 35 / 39 / 46 % of Griffin-Lim 32's compute (3.15 / 0.952).
MAGNITUDE = "mel"

#: Where the refinement starts: the network's phase, or PGHI's (Průša, Balazs & Søndergaard 2017) on the
#: synthesised magnitude with the network's phase for the coefficients PGHI leaves (below -60 dB of their block).
INITS = ("network", "pghi")

#: The default start and iterations, chosen on the 8 validation clips (one mel-matching step each): from PGHI,
#: 0 / 2 / 4 / 8 iterations scored PESQ-wb 3.27 / 3.39 / 3.31 / 3.34 and STOI 0.959 / 0.962 / 0.960 / 0.958; from
#: the network's phase 4 / 8 iterations 3.04 / 0.943 and 3.16 / 0.949 (Griffin-Lim 32 from a random phase: 3.15 /
#: 0.952). With PGHI the network's phase only fills the quiet coefficients: a random phase there scored 3.30 /
#: 0.960 (4 iterations), 0.01 less.
INIT = "pghi"
PHASE_REFINE = 2

#: PGHI's blocks (frames at absolute positions, as Griffin-Lim's: streaming gets the whole file's start).
PGHI_BLOCK_FRAMES = 64


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

    def _features(self, mel: torch.Tensor) -> torch.Tensor:
        """The backbone's output before the head, ``(B, T, dim)``."""
        x = self.embed(mel)
        x = self.norm(x.transpose(1, 2)).transpose(1, 2)
        for block in self.blocks:
            x = block(x)
        return self.final_norm(x.transpose(1, 2))

    def spectrum(self, mel: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The predicted STFT: log-magnitude and phase (radians, unwrapped), each ``(B, T, n_fft // 2 + 1)``."""
        x = self.head(self._features(mel))  # (B, T, n_fft + 2)
        log_magnitude, phase = x.chunk(2, dim=-1)
        return log_magnitude, phase

    def phase(self, mel: torch.Tensor) -> torch.Tensor:
        """The predicted phase alone, ``(B, T, n_fft // 2 + 1)`` (as :meth:`spectrum`'s; the head's magnitude half
        is not computed)."""
        bins = self.config.n_fft // 2 + 1
        return F.linear(self._features(mel), self.head.weight[bins:], self.head.bias[bins:])

    def forward(self, mel: torch.Tensor) -> torch.Tensor:
        """ln-mel ``(B, n_mels, T)`` float32 → waveform ``(B, T * hop_length)`` float32 (not clipped)."""
        return self.synthesize(mel, 0)

    def waveform(self, log_magnitude: torch.Tensor, phase: torch.Tensor) -> torch.Tensor:
        """The waveform ``(B, T * hop_length)`` of a predicted spectrum (:meth:`spectrum`'s two ``(B, T, bins)``
        tensors, magnitude clipped at :data:`MAX_MAGNITUDE`): ``forward(mel)`` is
        ``waveform(*spectrum(mel))``, for a trainer that also needs the spectrum."""
        magnitude = torch.exp(log_magnitude.float()).clamp(max=MAX_MAGNITUDE)
        phase = phase.float()
        window: torch.Tensor = self.window  # type: ignore[assignment]
        return inverse_stft(torch.complex(magnitude * torch.cos(phase), magnitude * torch.sin(phase)), self.config,
                            window)

    def synthesize(self, mel: torch.Tensor, mel_match_steps: int = MEL_MATCH_STEPS,
                   mel_config: MelConfig = DEFAULT_CONFIG, phase_refine: int = 0,
                   magnitude: str = "network", phase: torch.Tensor | None = None) -> torch.Tensor:
        """ln-mel ``(B, n_mels, T)`` float32 → waveform ``(B, T * hop_length)`` float32 (not clipped), after
        ``mel_match_steps`` steps of :func:`mel_match` against ``mel_config``'s front-end (0: the raw output,
        as training sees it) and ``phase_refine`` Griffin-Lim iterations from the network's phase
        (:func:`~vocoder_studio.vocoders.stft.refine_phase`).

        ``magnitude``: ``"network"`` (the head's log-magnitude) or ``"mel"``: the front-end's pseudo-inverse of
        the mel (:func:`~vocoder_studio.audio.mel.mel_to_linear`, what Griffin-Lim starts from) with the
        network's phase only. ``phase``: the phase to start from ``(B, T, n_fft // 2 + 1)`` instead of the
        network's (with ``magnitude="mel"`` the network does not run then).
        """
        # the head may run in bfloat16/float16 under autocast; the FFT and complex numbers need float32
        if magnitude == "network":
            log_magnitude, own_phase = self.spectrum(mel)
            log_magnitude, phase = log_magnitude.float(), own_phase.float() if phase is None else phase
        else:
            phase = self.phase(mel).float() if phase is None else phase
            log_magnitude = torch.log(mel_to_linear(mel.float(), mel_config)).transpose(1, 2)
        window: torch.Tensor = self.window  # type: ignore[assignment]
        return mel_match(mel, log_magnitude, phase, self.config, window, mel_match_steps, mel_config,
                         refine=phase_refine)


#: this model's checkpoint files (:class:`~vocoder_studio.vocoders.trained.CheckpointFiles`)
FILES = trained.CheckpointFiles("iSTFT", ISTFTConfig, ISTFTGenerator)
save_model = FILES.save
read_checkpoint = FILES.read
load_model = FILES.load


class ISTFTVocoder(PositionedVocoder, trained.TrainedVocoder):
    """The iSTFT vocoder: a trained :class:`ISTFTGenerator` on the CPU or GPU.

    Args:
        model: the generator to run (tests and the trainer's previews); None loads ``istft.pt`` from the models
            directories.
        device: torch device.
        config: the mel front-end; the model's ``n_mels`` and ``hop_length`` must match it.
        mel_match_steps: steps of :func:`mel_match` after the network (default :data:`MEL_MATCH_STEPS`; 0 plays
            the network's raw output, as its training scores it).
        phase_refine: fast Griffin-Lim iterations from the network's phase, before the mel matching (default 0;
            the registry entry's is :data:`PHASE_REFINE`).
        magnitude: ``"network"`` (default: the model as trained, what the trainer's previews score) or ``"mel"``
            (the mel's pseudo-inverse with the network's phase; the registry entry's default, :data:`MAGNITUDE`).
        init: where the refinement starts (:data:`INITS`): ``"network"`` (default: its own phase) or ``"pghi"``
            (PGHI on the synthesised magnitude, the network's phase for the coefficients it leaves; integrated in
            absolute blocks of :data:`PGHI_BLOCK_FRAMES` frames, so a streamed chunk starts from the whole file's
            phase; the registry entry's default, :data:`INIT`).
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
                 config: MelConfig = DEFAULT_CONFIG, mel_match_steps: int = MEL_MATCH_STEPS,
                 phase_refine: int = 0, magnitude: str = "network", init: str = "network") -> None:
        super().__init__(model, device, config)
        if magnitude not in MAGNITUDES:
            raise ValueError(f"magnitude must be one of {', '.join(MAGNITUDES)}, got {magnitude!r}")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        self.magnitude = magnitude
        self.init = init
        if init == "pghi":  # numba's import and its compiled loop load here, not in the first chunk (as Griffin-Lim)
            from vocoder_studio.vocoders import pghi

            pghi.pghi(np.ones((config.n_fft // 2 + 1, 2)), config.hop_length, config.n_fft, config.win_length)
        # mel matching and phase refinement from the network's own spectrum, inside _synthesize: each step and
        # each iteration widens the receptive field by ``frame_overlap`` (the first needs no extra analysis)
        self.mel_match_inside = True
        self.set_mel_match(mel_match_steps, widen=self.model.config.frame_overlap * (mel_match_steps + phase_refine),
                           refine=phase_refine)

    def _synthesize(self, mel: torch.Tensor) -> torch.Tensor:
        phase = self._pghi_phase(mel) if self.init == "pghi" else None
        return self.model.synthesize(mel, self.mel_match_steps, self.config, self.phase_refine, self.magnitude,
                                     phase)

    def _pghi_phase(self, mel: torch.Tensor) -> torch.Tensor:
        """PGHI's phase ``(B, T, bins)`` float32 for the frames ``mel`` holds: integrated over the whole blocks of
        the mel around them (:meth:`range_position`) on the magnitude synthesised (the network's or the mel's
        pseudo-inverse), the network's phase for the coefficients below PGHI's tolerance (the network run on the
        blocks with its receptive field around them, so each frame gets the whole file's value)."""
        from vocoder_studio.vocoders import pghi  # numba: imported only when PGHI runs

        c, model = self.config, self.model
        offset, source = self.range_position()
        sources = [source] if source is not None else list(mel)
        offset = offset if source is not None else 0
        frames = mel.shape[-1]
        reach = model.config.backbone_context_frames

        def network(whole: Any, lo: int, hi: int, part_of: Callable[[torch.Tensor], torch.Tensor]) -> np.ndarray:
            a, b = max(0, lo - reach), min(whole.shape[-1], hi + reach)
            out = part_of(as_mel_tensor(whole[..., a:b], c).unsqueeze(0).to(self.device))
            return out[0, lo - a : hi - a].float().cpu().T.double().numpy()  # (bins, hi - lo)

        def magnitude_of(whole: Any, lo: int, hi: int) -> np.ndarray:
            if self.magnitude == "network":
                log_magnitude = network(whole, lo, hi, lambda x: model.spectrum(x)[0])
                return np.minimum(np.exp(log_magnitude), MAX_MAGNITUDE)
            part = as_mel_tensor(whole[..., lo:hi], c).clamp(max=MAX_LN_MEL)
            return mel_to_linear(part, c).double().numpy()

        def given_of(whole: Any, lo: int, hi: int) -> np.ndarray:
            return network(whole, lo, hi, model.phase)

        out = [torch.from_numpy(pghi.range_phase(
            offset, offset + frames, whole.shape[-1], PGHI_BLOCK_FRAMES, functools.partial(magnitude_of, whole),
            functools.partial(given_of, whole), c.hop_length, c.n_fft, c.win_length)).float().T for whole in sources]
        return torch.stack(out).to(mel.device)

    def describe(self) -> str:
        c = self.model.config
        millions = count_parameters(self.model) / 1e6
        return f"{self.name}, {c.num_layers} × {c.dim} ConvNeXt, {millions:.1f} M parameters ({self.device})"


def _build(device: str | torch.device = "cpu", config: MelConfig = DEFAULT_CONFIG,
           mel_match: int = MEL_MATCH_STEPS, phase_refine: int = PHASE_REFINE,
           magnitude: str = MAGNITUDE, init: str = INIT) -> ISTFTVocoder:
    return ISTFTVocoder(device=device, config=config, mel_match_steps=mel_match, phase_refine=phase_refine,
                        magnitude=magnitude, init=init)


_check, _card = trained_checkpoint(CHECKPOINT, DEFAULT_CONFIG, verify=FILES.check_weights)

VOCODERS = (
    VocoderEntry(
        name="istft",
        label="iSTFT (Vocos-style, ours)",
        factory=_build,
        parameters=(
            mel_match_parameter(MEL_MATCH_STEPS),
            phase_refine_parameter(PHASE_REFINE),
            Parameter("magnitude", "choice", MAGNITUDE, "the STFT magnitudes synthesised: the network's, or the "
                      "mel's pseudo-inverse (Griffin-Lim's) with the network's phase", choices=MAGNITUDES),
            Parameter("init", "choice", INIT, "the phase the refinement starts from: the network's, or pghi (Phase "
                      "Gradient Heap Integration, Průša, Balazs & Søndergaard 2017) on the synthesised magnitude, "
                      "with the network's phase where the magnitude is too quiet to integrate", choices=INITS),
        ),
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
