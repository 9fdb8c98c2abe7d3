"""Griffin-Lim vocoder with momentum: "Fast Griffin-Lim" (Perraudin, Balazs & Søndergaard, 2013).

The iterations start from a phase chosen by ``init``: ``random`` (a fixed random phase per absolute frame),
``zeros``, or ``pghi``, Phase Gradient Heap Integration (Průša, Balazs & Søndergaard 2017,
:mod:`vocoder_studio.vocoders.pghi`): a phase computed from the magnitude's gradients, close enough that a few
iterations do what 32 do from a random start.

The linear magnitude comes from a clipped pseudo-inverse of the mel filterbank (not librosa's NNLS). The STFT
matches the mel front-end, and the output is aligned with the original audio: the front-end's frame ``k``
is centred on sample ``256 k + 128``, so the centred iSTFT output is shifted by 128 samples.
"""

from __future__ import annotations

import functools
import math
from typing import Any

import numpy as np
import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, mel_to_linear
from vocoder_studio.vocoders.base import PositionedVocoder, as_mel_tensor
from vocoder_studio.vocoders.entry import VocoderEntry
from vocoder_studio.vocoders.params import Parameter
from vocoder_studio.vocoders.stft import mel_match_parameter

#: Mel values are clamped to at most this (ln 10⁴, +80 dB over full scale) before ``exp``: a finite mel of 88.7
#: or more overflowed float32 to inf and the iterations turned it into NaN samples. Real mels stay below ln 1e2.
MAX_LN_MEL = math.log(1e4)

#: Phase of the first iteration is drawn per absolute frame from this many fixed random frames, so a chunk
#: starts from the same phases as the whole file (streaming and splicing stay close to the full output).
_PHASE_TABLE_FRAMES = 4096


#: The starting phases ``init`` takes.
INITS = ("random", "zeros", "pghi")

#: PGHI integrates blocks of this many frames at absolute positions (0.74 s), each on its own, so that a streamed
#: chunk gets exactly the whole file's starting phase from the blocks around it (:func:`pghi.block_range`).
PGHI_BLOCK_FRAMES = 64


@functools.lru_cache(maxsize=2)
def _phase_table(bins: int, seed: int = 0) -> torch.Tensor:
    generator = torch.Generator().manual_seed(seed)
    return torch.rand(bins, _PHASE_TABLE_FRAMES, generator=generator) * (2 * torch.pi)


class GriffinLim(PositionedVocoder):
    """Fast Griffin-Lim phase reconstruction on the CPU or GPU.

    Args:
        iterations: number of projection iterations: 8 from PGHI (the default) scored PESQ-wb 3.29 / STOI 0.955
            on 8 validation clips where 32 from a random start scored 3.15 / 0.952, at 37 % of the compute.
        momentum: the "fast" acceleration α in [0, 1); 0 gives the classic algorithm, 0.99 the paper's.
        device: torch device.
        mel_match: mel-matching steps after the phase retrieval (:meth:`Vocoder.set_mel_match`; default 0).
        init: the starting phase, one of :data:`INITS`: ``random`` (fixed per absolute frame), ``zeros``, or
            ``pghi`` (Průša et al. 2017; the default), integrated in blocks of :data:`PGHI_BLOCK_FRAMES` frames.
    Raises:
        ValueError: a value out of range.
    """

    name = "griffin-lim"
    receptive_field_frames = 16
    #: longer mels are vocoded in chunks (24 s at the defaults): memory stays flat however long the file
    max_frames_per_call = 2048

    def __init__(
        self,
        iterations: int = 8,
        momentum: float = 0.99,
        device: str | torch.device = "cpu",
        config: MelConfig = DEFAULT_CONFIG,
        mel_match: int = 0,
        init: str = "pghi",
    ) -> None:
        super().__init__(device, config)
        self.set_mel_match(mel_match)
        if iterations < 1:
            raise ValueError(f"iterations must be >= 1, got {iterations}")
        if init not in INITS:
            raise ValueError(f"init must be one of {', '.join(INITS)}, got {init!r}")
        self.init = init
        if init == "pghi":  # numba's import and its compiled loop (cached on disk) load here, on the thread that
            # builds the vocoder, not in the first chunk: 0.5–2 s in a fresh process (a fresh install compiles
            # for 5–10 s once)
            from vocoder_studio.vocoders import pghi

            bins = config.n_fft // 2 + 1
            pghi.pghi(np.ones((bins, 2)), config.hop_length, config.n_fft, config.win_length)
        if not 0.0 <= momentum < 1.0:
            raise ValueError(f"momentum must be in [0, 1), got {momentum}")
        self.iterations = iterations
        self.momentum = momentum

    def _stft(self, audio: torch.Tensor, window: torch.Tensor) -> torch.Tensor:
        c = self.config
        pad_mode = "reflect" if audio.shape[-1] > c.n_fft // 2 else "constant"
        return torch.stft(audio, c.n_fft, c.hop_length, c.win_length, window, center=True, pad_mode=pad_mode,
                          return_complex=True)

    def _istft(self, spec: torch.Tensor, window: torch.Tensor, length: int) -> torch.Tensor:
        c = self.config
        return torch.istft(spec, c.n_fft, c.hop_length, c.win_length, window, center=True, length=length)

    def _synthesize(self, mel: torch.Tensor) -> torch.Tensor:
        return self._run(mel, None)

    def spectral_convergence(self, mel: torch.Tensor | np.ndarray) -> np.ndarray:
        """How far each iteration is from a consistent STFT: ``‖|STFT(x_k)| − S‖ / ‖S‖`` of the signal ``x_k``
        synthesised from the starting phase (k = 0) and after each iteration, against the magnitude ``S`` the mel
        gives (the measure Griffin-Lim decreases; Griffin & Lim 1984).

        Args:
            mel: ln-mel ``(n_mels, frames)``, vocoded whole.
        Returns:
            float64 ``(iterations + 1,)``, dimensionless (0: consistent).
        """
        curve: list[float] = []
        with torch.inference_mode():
            self._run(as_mel_tensor(mel, self.config).unsqueeze(0).to(self.device), curve)
        return np.asarray(curve, np.float64)

    def _run(self, mel: torch.Tensor, curve: list[float] | None) -> torch.Tensor:
        """The iterations; with ``curve`` a list, the spectral convergence before each and after the last is
        appended to it."""
        c = self.config
        batch, _, frames = mel.shape
        magnitude = mel_to_linear(mel.clamp(max=MAX_LN_MEL), c)  # (B, bins, T); exp cannot overflow
        window = torch.hann_window(c.win_length, device=mel.device)
        # The centred STFT of (T - 1) * hop samples has exactly T frames.
        length = max(frames - 1, 1) * c.hop_length
        if frames == 1:
            magnitude = torch.cat([magnitude, magnitude], dim=-1)
        phase = self._initial_phase(mel, frames).to(mel.device)
        if frames == 1:
            phase = torch.cat([phase, phase], dim=-1)
        angles = torch.polar(torch.ones_like(magnitude), phase.expand_as(magnitude))
        previous = torch.zeros_like(angles)
        alpha = self.momentum / (1.0 + self.momentum) if self.momentum else 0.0
        for _ in range(self.iterations):
            rebuilt = self._stft(self._istft(magnitude * angles, window, length), window)
            if curve is not None:
                curve.append(float((rebuilt.abs() - magnitude).norm() / magnitude.norm().clamp_min(1e-12)))
            angles = rebuilt - alpha * previous if alpha else rebuilt
            angles = angles / angles.abs().clamp_min(1e-16)
            previous = rebuilt
        audio = self._istft(magnitude * angles, window, length)
        if curve is not None:
            rebuilt = self._stft(audio, window)
            curve.append(float((rebuilt.abs() - magnitude).norm() / magnitude.norm().clamp_min(1e-12)))
        shift = c.hop_length // 2
        out = torch.zeros(batch, frames * c.hop_length, device=mel.device)
        usable = min(length, frames * c.hop_length - shift)
        out[:, shift : shift + usable] = audio[:, :usable]
        return out

    def _initial_phase(self, mel: torch.Tensor, frames: int) -> torch.Tensor:
        """The starting phase ``(B or 1, bins, frames)`` float32 of the frames ``mel`` holds, which start at the
        absolute frame :meth:`range_position` gives (in the whole mel) when a range is vocoded; each depends only
        on the absolute frame (random) or its PGHI block, never on the chunk."""
        bins = self.config.n_fft // 2 + 1
        offset, source = self.range_position()
        if self.init == "zeros":
            return torch.zeros(1, bins, frames)
        table = _phase_table(bins)
        if self.init == "random":
            return table[:, (torch.arange(frames) + offset) % _PHASE_TABLE_FRAMES].unsqueeze(0)
        from vocoder_studio.vocoders import pghi  # numba: imported (and compiled) only when PGHI runs

        c = self.config
        sources = [source] if source is not None else [m for m in mel.cpu()]
        offset = offset if source is not None else 0

        def magnitude_of(whole: Any, lo: int, hi: int) -> np.ndarray:
            part = as_mel_tensor(whole[..., lo:hi], c).clamp(max=MAX_LN_MEL)
            return mel_to_linear(part, c).double().numpy()

        def given_of(lo: int, hi: int) -> np.ndarray:
            return table[:, torch.arange(lo, hi) % _PHASE_TABLE_FRAMES].double().numpy()

        out = []
        for whole in sources:
            phase = pghi.range_phase(offset, offset + frames, whole.shape[-1], PGHI_BLOCK_FRAMES,
                                     functools.partial(magnitude_of, whole), given_of, c.hop_length, c.n_fft,
                                     c.win_length)
            out.append(torch.from_numpy(phase).float())
        return torch.stack(out)

    def describe(self) -> str:
        return (f"{self.name}, {self.init} start, {self.iterations} iterations, momentum {self.momentum:g} "
                f"({self.device})")


VOCODERS = (
    VocoderEntry(
        name="griffin-lim",
        label="Griffin-Lim (fast, momentum)",
        factory=GriffinLim,
        parameters=(
            Parameter("iterations", "int", 8, "phase-retrieval iterations: more is cleaner and slower (from a "
                      "random start 32 are needed for what 8 do from PGHI)",
                      min=1, max=1000),
            Parameter("momentum", "float", 0.99, "Fast Griffin-Lim acceleration α; 0 is the classic algorithm",
                      min=0.0, max=0.999),
            mel_match_parameter(0),
            Parameter("init", "choice", "pghi", "the phase the iterations start from: random, zeros, or pghi "
                      "(Phase Gradient Heap Integration, Průša, Balazs & Søndergaard 2017: a phase from the "
                      "magnitude's gradients, no iterations needed)", choices=INITS),
        ),
        description="Phase reconstruction, no model: PGHI's phase (Průša et al. 2017) refined by fast Griffin-Lim "
        "(Perraudin et al. 2013): instant, slightly phasey",
    ),
)
