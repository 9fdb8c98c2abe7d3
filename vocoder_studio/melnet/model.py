"""MelNet (Vasquez & Lewis 2019, arXiv 1906.01083) at a CPU-trainable size: the tier network with its
time-delayed, frequency-delayed and centralized stacks, the feature-extraction network of the upper tiers, the
Gaussian-mixture head and its exact negative log-likelihood.

Conventions: a mel is the shared front-end's ``(n_mels, frames)`` natural-log magnitude; inside the model a
batch is ``(B, T, F)`` (time first) and *normalised* per band, ``x = (mel - band_mean) / band_std``. Every NLL
this module reports is in nats per cell of the raw ln-mel: the normalisation's log-Jacobian ``ln band_std`` is
added back, so the figure compares with any other density of the same values.

Causality inside a tier (frame by frame in time, low to high frequency within a frame):

- the time-delayed stack sees the previous frames only (its input is shifted one frame); each layer runs a GRU
  forward and one backward along frequency (within a frame) and one forward along time (per band), concatenated,
  projected, with a residual connection;
- the centralized stack (tier 1 only) is a GRU forward in time over whole previous frames;
- the frequency-delayed stack sees the lower bands of the current frame (its input is shifted one band): one GRU
  forward along frequency per layer, fed by its own previous layer plus the time-delayed (and centralized)
  stack's output of the same depth;
- upper tiers add features of the tiers below (a bidirectional GRU along each axis over the lower view) into
  layer 0 of both stacks; the lower view is known when a tier is sampled, so it may look both ways;
- the *future* stack (tier 1 of a ``bidirectional`` model, for inpainting, :class:`FutureStack`): a GRU run
  backward in time over the known frames *after* a gap (input: each frame times its known mask, and the mask),
  so that frame ``t``'s summary holds every right-hand frame ``>= t`` that is known in advance, and each band's
  nearest known value weighted by its closeness; it is added into layer 0 of the time-delayed stack (per band)
  and into the context of every frequency-delayed layer (as the centralized stack is), and is exactly zero for
  a frame with nothing known after it (continuation and unconditional sampling are the unidirectional
  model's). It carries MelNet's own two-way conditioning of the upper tiers (their feature network runs
  bidirectional RNNs over the known lower view, Vasquez & Lewis 2019) to the coarsest tier, over the known
  frames only, trained on random gaps as infilling language models are (Donahue, Lee & Liang 2020, "Enabling
  Language Models to Fill in the Blanks"): each training segment gets a random right-context start ``b`` (or
  none), the future stack sees the frames ``>= b`` only, and tier 1's loss counts the frames before ``b``
  (frames after it would see their own future).

Every RNN runs as one batched ``nn.GRU`` call over reshaped batches (one sequence per band along time, one per
frame along frequency); there is no Python loop over cells in training.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.melnet import tiers as tiering
from vocoder_studio.melnet.fill import GapFill

LOG_2PI = math.log(2.0 * math.pi)


class MelNetError(VocoderStudioError):
    """A MelNet checkpoint or config cannot be used, or a sampling request is invalid (names file or value)."""


@dataclass(frozen=True)
class MelNetConfig:
    """MelNet's hyper-parameters (stored beside the weights in every checkpoint).

    Attributes:
        n_mels: bands of the shared front-end the model was built for.
        n_tiers: tiers of the multiscale split (first split along frequency, then time, alternating).
        layers: layers per tier, coarsest first (one entry per tier).
        hidden: hidden size of every RNN and projection.
        mixtures: K, Gaussians per cell.
        log_scale_min: the lowest log standard deviation (normalised units): about 0.45 % of cells sit exactly on
            the front-end's floor, where an unclamped component would spike and drive the NLL to minus infinity.
        bidirectional: tier 1 has the future stack (see the module docstring) and trains on random gaps; False
            (the default, and every checkpoint made before it existed) is the left-to-right model.
        right_context_rate: the share of training segments that get a right context (a random gap end); the
            others train tier 1 as the left-to-right model (continuation, unconditional sampling).
        fill_hidden: channels of the median gap fill (:class:`~vocoder_studio.melnet.fill.GapFill`, the module
            ``fill``), which fills an inpainting range at temperature 0 in one pass; 0 (the default, and
            every checkpoint made before it existed): none, the tiers fill it.
        tier_hidden: the hidden size of each tier, coarsest first (one entry per tier), where tiers differ in
            width (e.g. a tier widened by :func:`widen_tier`); empty (the default, and every checkpoint made
            before it existed): every tier has ``hidden``. :meth:`tier_width` reads it.
    """

    n_mels: int = 80
    n_tiers: int = 4
    layers: tuple[int, ...] = (3, 2, 2, 2)
    hidden: int = 32
    mixtures: int = 10
    log_scale_min: float = -5.0
    bidirectional: bool = False
    right_context_rate: float = 0.75
    fill_hidden: int = 0
    tier_hidden: tuple[int, ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "layers", tuple(int(v) for v in self.layers))
        object.__setattr__(self, "tier_hidden", tuple(int(v) for v in self.tier_hidden))
        if self.tier_hidden and (len(self.tier_hidden) != self.n_tiers or min(self.tier_hidden) < 1):
            raise MelNetError(f"MelNet config: tier_hidden {list(self.tier_hidden)} must give one width >= 1 per "
                              f"tier ({self.n_tiers} tiers)")
        if self.n_tiers < 1 or len(self.layers) != self.n_tiers or min(self.layers) < 1:
            raise MelNetError(f"MelNet config: layers {self.layers} must give one count >= 1 per tier "
                              f"({self.n_tiers} tiers)")
        if self.hidden < 1 or self.mixtures < 1 or self.n_mels < 2 ** ((self.n_tiers) // 2):
            raise MelNetError(f"MelNet config: hidden {self.hidden}, mixtures {self.mixtures} or n_mels "
                              f"{self.n_mels} out of range")
        if self.fill_hidden < 0:
            raise MelNetError(f"MelNet config: fill_hidden {self.fill_hidden} must be >= 0")
        if not 0.0 <= self.right_context_rate <= 1.0:
            raise MelNetError(f"MelNet config: right_context_rate {self.right_context_rate} must be in [0, 1]")

    def to_dict(self) -> dict[str, Any]:
        """The fields as JSON values; a left-to-right model's omit ``bidirectional`` and ``right_context_rate``,
        a model without a median fill ``fill_hidden``, one whose tiers share ``hidden`` ``tier_hidden`` (so its
        checkpoints and training runs read as before they existed)."""
        data = asdict(self)
        data["layers"] = list(self.layers)
        if not self.bidirectional:
            del data["bidirectional"], data["right_context_rate"]
        if not self.fill_hidden:
            del data["fill_hidden"]
        if self.tier_hidden:
            data["tier_hidden"] = list(self.tier_hidden)
        else:
            del data["tier_hidden"]
        return data

    @classmethod
    def from_dict(cls, data: object, source: str = "MelNet config") -> MelNetConfig:
        """Raises: MelNetError: not an object, unknown keys or values out of range (names ``source``)."""
        if not isinstance(data, dict):
            raise MelNetError(f"{source}: the config must be an object")
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise MelNetError(f"{source}: unknown config keys {sorted(unknown)}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise MelNetError(f"{source}: invalid config ({exc})") from None

    def tier_width(self, tier: int) -> int:
        """The hidden size of tier ``tier`` (0-based): ``tier_hidden[tier]``, or ``hidden`` without it."""
        return self.tier_hidden[tier] if self.tier_hidden else self.hidden

    def with_tier_width(self, tier: int, hidden: int) -> MelNetConfig:
        """This config with tier ``tier`` (0-based) ``hidden`` wide (``tier_hidden`` filled in; the result's
        ``tier_hidden`` is empty again when every tier has ``hidden``).

        Raises:
            MelNetError: a tier out of range or a width below 1."""
        if not 0 <= tier < self.n_tiers or hidden < 1:
            raise MelNetError(f"MelNet config: tier {tier + 1} width {hidden}: this MelNet has tiers 1 to "
                              f"{self.n_tiers} and widths are >= 1")
        widths = [self.tier_width(g) for g in range(self.n_tiers)]
        widths[tier] = hidden
        return replace(self, tier_hidden=() if set(widths) == {self.hidden} else tuple(widths))

    def tier_bands(self) -> list[int]:
        """Bands of each tier, coarsest first (e.g. ``[20, 20, 40, 40]`` for 80 bands and 4 tiers)."""
        return [t.shape[-1] for t in tiering.split(np.zeros((4, self.n_mels)), self.n_tiers)]


# --------------------------------------------------------------------------------------------- the mixture
def gmm_parts(params: torch.Tensor, mixtures: int, log_scale_min: float
              ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """Means, clamped log-scales and log-weights ``(..., K)`` of head outputs ``(..., 3K)``."""
    mu, log_s, logits = params.split(mixtures, dim=-1)
    return mu, log_s.clamp(min=log_scale_min), torch.log_softmax(logits, dim=-1)


def gmm_nll(params: torch.Tensor, x: torch.Tensor, mixtures: int, log_scale_min: float) -> torch.Tensor:
    """Exact negative log-likelihood (nats) of values ``x`` ``(...)`` under the mixtures ``params`` ``(..., 3K)``."""
    mu, log_s, log_w = gmm_parts(params, mixtures, log_scale_min)
    z = (x.unsqueeze(-1) - mu) * torch.exp(-log_s)
    return -torch.logsumexp(log_w - log_s - 0.5 * LOG_2PI - 0.5 * z * z, dim=-1)


def gmm_draw(params: torch.Tensor, mixtures: int, log_scale_min: float, limit: float = 8.0) -> torch.Tensor:
    """One value per cell ``(...)`` drawn from the mixtures ``params`` ``(..., 3K)`` at temperature 1 (a
    component by its weight, then its Gaussian; torch's global generator), kept within ``±limit``."""
    mu, log_s, log_w = gmm_parts(params, mixtures, log_scale_min)
    k = torch.distributions.Categorical(logits=log_w).sample().unsqueeze(-1)
    value = mu.gather(-1, k) + torch.exp(log_s.gather(-1, k)) * torch.randn_like(k, dtype=mu.dtype)
    return value.squeeze(-1).clamp(-limit, limit)


# --------------------------------------------------------------------------------------------- the stacks
def _gru(hidden: int, bidirectional: bool = False) -> nn.GRU:
    return nn.GRU(hidden, hidden, batch_first=True, bidirectional=bidirectional)


class TimeLayer(nn.Module):
    """One layer of the time-delayed stack: GRUs forward and backward along frequency and forward along time."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.freq = _gru(hidden, bidirectional=True)
        self.time = _gru(hidden)
        self.proj = nn.Linear(3 * hidden, hidden)

    def forward(self, h: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``h`` ``(B, n, F, H)`` over ``n`` frames; ``state`` ``(1, B*F, H)`` of the time GRU (None: zeros)."""
        b, n, f, hid = h.shape
        along_f, _ = self.freq(h.reshape(b * n, f, hid))
        along_t, state = self.time(h.permute(0, 2, 1, 3).reshape(b * f, n, hid), state)
        along_t = along_t.reshape(b, f, n, hid).permute(0, 2, 1, 3)
        return h + self.proj(torch.cat([along_f.reshape(b, n, f, 2 * hid), along_t], dim=-1)), state


class CentralLayer(nn.Module):
    """One layer of the centralized stack: a GRU forward in time over whole frames."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.time = _gru(hidden)
        self.proj = nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor, state: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
        """``h`` ``(B, n, H)``; ``state`` ``(1, B, H)``."""
        out, state = self.time(h, state)
        return h + self.proj(out), state


class FreqLayer(nn.Module):
    """One layer of the frequency-delayed stack: a GRU forward along frequency within each frame."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.freq = _gru(hidden)
        self.proj = nn.Linear(hidden, hidden)

    def forward(self, h: torch.Tensor, context: torch.Tensor, state: torch.Tensor | None
                ) -> tuple[torch.Tensor, torch.Tensor]:
        """``h``, ``context`` ``(B, n, Fc, H)`` (context: the time/centralized stacks' output of this depth);
        ``state`` ``(1, B*n, H)``: the GRU state after the bands before these ``Fc``."""
        b, n, f, hid = h.shape
        out, state = self.freq((h + context).reshape(b * n, f, hid), state)
        return h + self.proj(out.reshape(b, n, f, hid)), state

    def step(self, h: torch.Tensor, context: torch.Tensor, state: torch.Tensor | None
             ) -> tuple[torch.Tensor, torch.Tensor]:
        """One band: ``h``, ``context`` ``(N, H)``; ``state`` ``(N, H)``. The same arithmetic as :meth:`forward`
        (``torch.gru_cell`` on the GRU's weights), a few times cheaper per call."""
        g = self.freq
        if state is None:
            state = h.new_zeros(h.shape)
        state = torch.gru_cell(h + context, state, g.weight_ih_l0, g.weight_hh_l0,  # type: ignore[arg-type]
                               g.bias_ih_l0, g.bias_hh_l0)  # type: ignore[arg-type]
        return h + self.proj(state), state


class FeatureNet(nn.Module):
    """Features of the lower tiers' view for an upper tier: bidirectional GRUs along time and along frequency."""

    def __init__(self, hidden: int) -> None:
        super().__init__()
        self.inp = nn.Linear(1, hidden)
        self.time = _gru(hidden, bidirectional=True)
        self.freq = _gru(hidden, bidirectional=True)
        self.proj = nn.Linear(4 * hidden, hidden)

    def forward(self, view: torch.Tensor) -> torch.Tensor:
        """``view`` ``(B, T, F)`` (normalised) → features ``(B, T, F, H)``."""
        b, t, f = view.shape
        h = self.inp(view.unsqueeze(-1))
        hid = h.shape[-1]
        along_t, _ = self.time(h.permute(0, 2, 1, 3).reshape(b * f, t, hid))
        along_t = along_t.reshape(b, f, t, 2 * hid).permute(0, 2, 1, 3)
        along_f, _ = self.freq(h.reshape(b * t, f, hid))
        return h + self.proj(torch.cat([along_t, along_f.reshape(b, t, f, 2 * hid)], dim=-1))


class FutureStack(nn.Module):
    """Tier 1's view of the known frames after a gap, three terms added into layer 0 of its time-delayed stack
    (per band) and one into the context of each frequency-delayed layer:

    - a two-layer GRU of ``2H`` units run backward in time over ``(frame × known, known)``: its summary of frame
      ``t`` (frames ``>= t``) is projected into layer 0 and into every layer's context (as the centralized
      stack's output is);
    - each band's nearest known value at or after ``t``, ``v``, ``d`` frames ahead, weighted by the closeness
      ``c_k(d)`` in (``1 / (d + 1)``, ``exp(-d / 3)``, ``exp(-d / 10)``): ``Σ_k n_k (v c_k(d))`` plus
      ``Σ_k m_k c_k(d)``;
    - the previous frame's value ``p`` weighted the same: ``Σ_k q_k (p c_k(d))``.

    Every weight starts at zero but the last two paths' first: :meth:`init_interpolation` sets them to the time
    stack's own input weight ``w`` (``n_0 = w``, ``q_0 = -w``), so that layer 0 reads its previous frame as
    ``p + (v - p) / (d + 1)`` — one step of linear interpolation towards the next known frame — and the warm
    started model fills like MelNet continuing along the interpolation line; training refines every path. Each
    term is zero for a frame with nothing known at or after it: without a right context the model is exactly the
    left-to-right one (continuation, unconditional sampling)."""

    #: closeness functions of the distance ``d`` (tier-1 frames) to the nearest known frame; the first is the
    #: step of linear interpolation
    CLOSENESS = ("1/(d+1)", "exp(-d/3)", "exp(-d/10)")

    def __init__(self, hidden: int, bands: int, layers: int) -> None:
        super().__init__()
        self.bands, self.hidden, self.n_layers = bands, hidden, layers
        k = len(self.CLOSENESS)
        self.inp = nn.Linear(2 * bands, 2 * hidden)
        self.gru = nn.GRU(2 * hidden, 2 * hidden, num_layers=2, batch_first=True)
        self.to_time = nn.Linear(2 * hidden, bands * hidden)
        self.to_context = nn.Linear(2 * hidden, layers * hidden)
        self.nearest = nn.Linear(2 * k, hidden, bias=False)
        self.previous = nn.Linear(k, hidden, bias=False)
        for lin in (self.to_time, self.to_context, self.nearest, self.previous):
            nn.init.zeros_(lin.weight)
            if lin.bias is not None:
                nn.init.zeros_(lin.bias)

    @torch.no_grad()
    def init_interpolation(self, time_in: nn.Linear) -> None:
        """Set the nearest value's and the previous value's first weights to ``±`` the time stack's input weight
        (``time_in``, ``Linear(1, H)``), the others to zero (see the class docstring)."""
        self.nearest.weight.zero_()
        self.previous.weight.zero_()
        self.nearest.weight[:, 0] = time_in.weight[:, 0]
        self.previous.weight[:, 0] = -time_in.weight[:, 0]

    @staticmethod
    def closeness(distance: torch.Tensor) -> torch.Tensor:
        """``(..., 3)`` closeness weights of distances ``(...)`` (frames): see :attr:`CLOSENESS`."""
        return torch.stack([1.0 / (distance + 1.0), torch.exp(-distance / 3.0), torch.exp(-distance / 10.0)], -1)

    def forward(self, x: torch.Tensor, known: torch.Tensor) -> FutureTerms:
        """``x`` ``(B, T, F)`` normalised values, ``known`` ``(B, T, F)`` bool (the right-hand cells it may see).
        Only ``x``'s known cells are read."""
        b, t, f = x.shape
        m = known.to(x.dtype)
        h = self.inp(torch.cat([x * m, m], dim=-1))
        out, _ = self.gru(h.flip(1))
        out = out.flip(1)
        ahead = (known.any(dim=-1).flip(1).cumsum(1).flip(1) > 0).to(x.dtype).unsqueeze(-1)  # (B, T, 1)
        # each band's nearest known frame at or after t: its index (t if none), value and distance
        frame = torch.arange(t, device=x.device).view(1, t, 1)
        index = torch.where(known, frame, torch.full_like(frame, t)).flip(1).cummin(1).values.flip(1)
        has = (index < t).to(x.dtype).unsqueeze(-1)
        value = (x * m).gather(1, index.clamp(max=t - 1)).unsqueeze(-1)
        weights = self.closeness((index - frame).to(x.dtype)) * has  # (B, T, F, 3)
        time = (self.to_time(out) * ahead).reshape(b, t, f, self.hidden) + self.nearest(
            torch.cat([value * weights, weights], dim=-1))
        ctx = (self.to_context(out) * ahead).reshape(b, t, self.n_layers, 1, self.hidden)
        return FutureTerms(time, list(ctx.unbind(2)), weights)

    def previous_term(self, x_prev: torch.Tensor, terms: FutureTerms) -> torch.Tensor:
        """The previous value's term ``(B, n, F, H)`` for previous frames ``x_prev`` ``(B, n, F)`` of the first
        ``n`` frames of ``terms``."""
        n = x_prev.shape[1]
        return self.previous(x_prev.unsqueeze(-1) * terms.closeness[:, :n])


@dataclass
class FutureTerms:
    """The future stack's output for ``T`` frames: ``time`` ``(B, T, F, H)`` (layer 0 of the time stack, without
    the previous value's term), ``context`` ``L × (B, T, 1, H)``, ``closeness`` ``(B, T, F, 3)`` (zero where
    nothing is known ahead)."""

    time: torch.Tensor
    context: list[torch.Tensor]
    closeness: torch.Tensor


@dataclass
class TimeContext:
    """The time-delayed (and centralized) stacks' outputs for ``n`` frames, per layer, and their GRU states."""

    time: list[torch.Tensor]                     # L × (B, n, F, H)
    central: list[torch.Tensor] | None           # L × (B, n, 1, H)
    states: list[torch.Tensor] = field(default_factory=list)
    central_states: list[torch.Tensor] = field(default_factory=list)
    future: list[torch.Tensor] | None = None     # L × (B, n, 1, H): the future stack's context terms

    def context(self, layer: int, bands: slice) -> torch.Tensor:
        h = self.time[layer][:, :, bands]
        if self.central is not None:
            h = h + self.central[layer]
        return h if self.future is None else h + self.future[layer]


class TierNet(nn.Module):
    """The network of one tier: GMM parameters ``(B, T, F, 3K)`` for every cell of the tier.

    Args:
        config: the model's hyper-parameters.
        bands: F, the tier's bands.
        layers: layers of each stack.
        conditioned: an upper tier (has the feature-extraction network); tier 1 has the centralized stack instead.
        hidden: the tier's hidden size (None: ``config.hidden``).
    """

    def __init__(self, config: MelNetConfig, bands: int, layers: int, conditioned: bool, hidden: int | None = None
                 ) -> None:
        super().__init__()
        hid = config.hidden if hidden is None else hidden
        self.bands, self.n_layers, self.conditioned = bands, layers, conditioned
        self.mixtures, self.log_scale_min = config.mixtures, config.log_scale_min
        self.time_in = nn.Linear(1, hid)
        self.freq_in = nn.Linear(1, hid)
        self.band_embedding = nn.Parameter(torch.zeros(bands, hid))
        self.time_layers = nn.ModuleList(TimeLayer(hid) for _ in range(layers))
        self.freq_layers = nn.ModuleList(FreqLayer(hid) for _ in range(layers))
        self.features: FeatureNet | None = FeatureNet(hid) if conditioned else None
        self.cond_time = nn.Linear(hid, hid) if conditioned else None
        self.cond_freq = nn.Linear(hid, hid) if conditioned else None
        self.central_in = None if conditioned else nn.Linear(bands, hid)
        self.central_layers = None if conditioned else nn.ModuleList(CentralLayer(hid) for _ in range(layers))
        self.future: FutureStack | None = (FutureStack(hid, bands, layers)
                                           if config.bidirectional and not conditioned else None)
        if self.future is not None:
            self.future.init_interpolation(self.time_in)
        self.head = nn.Linear(hid, 3 * config.mixtures)

    def conditioning(self, view: torch.Tensor | None, frames: int
                     ) -> tuple[torch.Tensor | None, torch.Tensor | None]:
        """Layer-0 inputs ``(B, frames, F, H)`` for the time and frequency stacks from the lower view (None for
        tier 1). Odd row ``i`` of the split is aligned with even row ``i`` of the view (its left/lower neighbour)."""
        if self.features is None or view is None:
            return None, None
        assert self.cond_time is not None and self.cond_freq is not None
        feats = self.features(view)[:, :frames, : self.bands]
        return self.cond_time(feats), self.cond_freq(feats)

    def time_context(self, x_prev: torch.Tensor, cond: torch.Tensor | None,
                     states: list[torch.Tensor] | None = None, central_states: list[torch.Tensor] | None = None
                     ) -> TimeContext:
        """The delayed stacks over ``n`` frames whose *previous* frames are ``x_prev`` ``(B, n, F)``
        (``x_prev[:, i]`` is the frame before frame ``i``), from GRU states (None: the tier's start)."""
        h = self.time_in(x_prev.unsqueeze(-1)) + self.band_embedding
        if cond is not None:
            h = h + cond
        outs, new_states = [], []
        for i, layer in enumerate(self.time_layers):
            h, s = layer(h, None if states is None else states[i])
            outs.append(h)
            new_states.append(s)
        central, new_central = None, []
        if self.central_in is not None and self.central_layers is not None:
            c = self.central_in(x_prev)
            central = []
            for i, layer in enumerate(self.central_layers):
                c, s = layer(c, None if central_states is None else central_states[i])
                central.append(c.unsqueeze(2))
                new_central.append(s)
        return TimeContext(outs, central, new_states, new_central)

    def time_states(self, x_prev: torch.Tensor, cond: torch.Tensor | None
                    ) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The GRU states ``L × (1, B*F, H)`` (time) and ``L × (1, B, H)`` (centralized) :meth:`time_context`
        ends with from the tier's start, bit for bit, without the outputs no later frame reads: the last layer's
        frequency GRUs and projections (a sampler's priming of a known prefix)."""
        h = self.time_in(x_prev.unsqueeze(-1)) + self.band_embedding
        if cond is not None:
            h = h + cond
        states = []
        for i, layer in enumerate(self.time_layers):
            assert isinstance(layer, TimeLayer)
            if i + 1 < len(self.time_layers):
                h, s = layer(h, None)
            else:
                b, n, f, hid = h.shape
                _, s = layer.time(h.permute(0, 2, 1, 3).reshape(b * f, n, hid))
            states.append(s)
        central = []
        if self.central_in is not None and self.central_layers is not None:
            c = self.central_in(x_prev)
            for i, central_layer in enumerate(self.central_layers):
                assert isinstance(central_layer, CentralLayer)
                if i + 1 < len(self.central_layers):
                    c, s = central_layer(c, None)
                else:
                    _, s = central_layer.time(c)
                central.append(s)
        return states, central

    def freq_start(self, x_below: torch.Tensor, cond: torch.Tensor | None, bands: slice) -> torch.Tensor:
        """Layer-0 input of the frequency stack for ``bands``; ``x_below`` ``(B, n, Fc)`` is the band under each."""
        h = self.freq_in(x_below.unsqueeze(-1)) + self.band_embedding[bands]
        return h if cond is None else h + cond[:, :, bands]

    def future_terms(self, x: torch.Tensor, known: torch.Tensor | None) -> FutureTerms | None:
        """The future stack's terms (:meth:`FutureStack.forward`) for values ``x`` and right-hand ``known``
        ``(B, T, F)``; None without the stack, without ``known`` or with nothing known."""
        if self.future is None or known is None or not bool(known.any()):
            return None
        return self.future(x, known)

    def forward(self, x: torch.Tensor, view: torch.Tensor | None = None, known: torch.Tensor | None = None
                ) -> torch.Tensor:
        """GMM parameters ``(B, T, F, 3K)`` of tier values ``x`` ``(B, T, F)`` (normalised) given the lower view
        ``(B, T', F')`` (upper tiers) and, for tier 1 of a bidirectional model, the right-hand cells ``known``
        ``(B, T, F)`` bool. Cell ``(t, f)``'s parameters depend on ``x[:, :t]``, ``x[:, t, :f]``, the view and
        the known cells of frames ``>= t`` only."""
        frames = x.shape[1]
        cond_t, cond_f = self.conditioning(view, frames)
        x_prev = F.pad(x, (0, 0, 1, 0))[:, :frames]
        future = self.future_terms(x, known)
        if future is not None:
            assert self.future is not None
            term = future.time + self.future.previous_term(x_prev, future)
            cond_t = term if cond_t is None else cond_t + term
        ctx = self.time_context(x_prev, cond_t)
        ctx.future = None if future is None else future.context
        h = self.freq_start(F.pad(x, (1, 0))[..., : self.bands], cond_f, slice(None))
        for i, layer in enumerate(self.freq_layers):
            h, _ = layer(h, ctx.context(i, slice(None)), None)
        return self.head(h)

    def nll(self, params: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
        """Per-cell NLL ``(B, T, F)`` in normalised units."""
        return gmm_nll(params, x, self.mixtures, self.log_scale_min)


class MelNet(nn.Module):
    """The multiscale model: one :class:`TierNet` per tier and the per-band normalisation.

    The buffers ``band_mean``/``band_std`` ``(n_mels,)`` hold the normalisation (set once from training data
    with :meth:`set_normalisation`; ``normalised`` says whether that happened). ``fill`` is the median gap fill
    of a config with ``fill_hidden`` (None otherwise); no NLL involves it.
    """

    band_mean: torch.Tensor
    band_std: torch.Tensor
    normalised: torch.Tensor

    def __init__(self, config: MelNetConfig | None = None) -> None:
        super().__init__()
        self.config = config or MelNetConfig()
        bands = self.config.tier_bands()
        self.tiers = nn.ModuleList(
            TierNet(self.config, bands[g], self.config.layers[g], conditioned=g > 0,
                    hidden=self.config.tier_width(g))
            for g in range(self.config.n_tiers))
        self.fill: GapFill | None = (GapFill(self.config.fill_hidden, self.config.n_mels)
                                      if self.config.fill_hidden else None)
        self.register_buffer("band_mean", torch.zeros(self.config.n_mels))
        self.register_buffer("band_std", torch.ones(self.config.n_mels))
        self.register_buffer("normalised", torch.zeros((), dtype=torch.bool))

    @torch.no_grad()
    def set_normalisation(self, mel: torch.Tensor) -> None:
        """Per-band mean and standard deviation (at least 0.1) of ln-mels ``(B, n_mels, T)`` or ``(n_mels, T)``."""
        flat = mel.reshape(-1, mel.shape[-2], mel.shape[-1]).transpose(0, 1).reshape(mel.shape[-2], -1).float()
        self.band_mean.copy_(flat.mean(dim=1))
        self.band_std.copy_(flat.std(dim=1).clamp(min=0.1))
        self.normalised.fill_(True)

    def normalise(self, mel: torch.Tensor) -> torch.Tensor:
        """Raw ln-mels ``(B, n_mels, T)`` → normalised ``(B, T, n_mels)``."""
        if mel.shape[-2] != self.config.n_mels:
            raise MelNetError(f"mel has {mel.shape[-2]} bands; this MelNet models {self.config.n_mels}")
        return ((mel.transpose(-1, -2) - self.band_mean) / self.band_std).float()

    def denormalise(self, x: torch.Tensor) -> torch.Tensor:
        """Normalised ``(..., T, n_mels)`` → raw ln-mels ``(..., n_mels, T)``."""
        return (x * self.band_std + self.band_mean).transpose(-1, -2)

    def tier_params(self, x: torch.Tensor, only: int | None = None, right: torch.Tensor | None = None,
                    inputs: torch.Tensor | None = None) -> tuple[list[torch.Tensor], list[torch.Tensor | None]]:
        """The tiers of normalised ``x`` ``(B, T, n_mels)`` and each tier's GMM parameters ``(B, T_g, F_g, 3K)``
        (None for tiers other than ``only`` when it is given, 0-based). ``right`` ``(B, T, n_mels)`` bool: the
        cells tier 1's future stack may see (a bidirectional model; None: none). ``inputs`` ``(B, T, n_mels)``:
        the values the tiers *read* (their previous frames, lower bands and lower view; None: ``x``), while the
        returned tiers, the targets, are ``x``'s (noise injection, :meth:`nll`)."""
        parts = tiering.split(x, self.config.n_tiers)
        read = parts if inputs is None else tiering.split(inputs, self.config.n_tiers)
        views = tiering.views(read)
        known = None if right is None else tiering.split(right, self.config.n_tiers)[0]
        params: list[torch.Tensor | None] = []
        for g, net in enumerate(self.tiers):
            if only is not None and g != only:
                params.append(None)
                continue
            params.append(net(read[g], views[g - 1] if g else None, known if g == 0 else None))
        return parts, params

    def cell_nll(self, mel: torch.Tensor, only: int | None = None, right: torch.Tensor | None = None,
                 input_noise: float = 0.0, own_draws: float = 0.0) -> list[torch.Tensor | None]:
        """Per-cell NLL ``(B, T_g, F_g)`` of each tier, nats of the raw ln-mel (log-Jacobian added back), with
        tier 1 seeing the cells ``right`` ``(B, n_mels, T)`` bool (a bidirectional model's right context; None:
        none). ``input_noise`` > 0: the teacher-forced inputs carry Gaussian noise of that standard deviation
        (normalised units; see :meth:`nll`), the targets are the clean cells. ``own_draws`` in [0, 1]: the
        chance that a cell a tier reads is the model's own draw instead (see :meth:`nll`)."""
        if input_noise < 0 or not math.isfinite(input_noise):
            raise MelNetError(f"input_noise {input_noise} must be a finite number >= 0")
        if not 0.0 <= own_draws <= 1.0:
            raise MelNetError(f"own_draws {own_draws} must be a number in [0, 1]")
        x = self.normalise(mel)
        log_std = torch.log(self.band_std).expand(x.shape[1], -1)
        rights = None if right is None else right.transpose(-1, -2)
        inputs = x + input_noise * torch.randn_like(x) if input_noise > 0 else None
        if own_draws > 0:
            inputs = self._own_draws(x if inputs is None else inputs, x, only, rights, own_draws)
        parts, params = self.tier_params(x, only, rights, inputs)
        jacobians = tiering.split(log_std, self.config.n_tiers)
        out: list[torch.Tensor | None] = []
        for g, net in enumerate(self.tiers):
            p = params[g]
            assert isinstance(net, TierNet)
            out.append(None if p is None else net.nll(p, parts[g]) + jacobians[g])
        return out

    @torch.no_grad()
    def _own_draws(self, inputs: torch.Tensor, x: torch.Tensor, only: int | None, right: torch.Tensor | None,
                   rate: float) -> torch.Tensor:
        """``inputs`` ``(B, T, n_mels)`` with each cell of the tiers being trained replaced, with chance ``rate``,
        by a draw from its own mixture given the true cells before it (one teacher-forced pass, no gradient);
        the other cells keep ``inputs``' values (``x``, or ``x`` with input noise)."""
        _, params = self.tier_params(x, only, right)
        read = tiering.split(inputs, self.config.n_tiers)
        mixed = []
        for g, net in enumerate(self.tiers):
            p = params[g]
            if p is None:
                mixed.append(read[g])
                continue
            assert isinstance(net, TierNet)
            drawn = gmm_draw(p, net.mixtures, net.log_scale_min)
            mixed.append(torch.where(torch.rand_like(drawn) < rate, drawn, read[g]))
        return tiering.interleave(mixed)

    def forward(self, mel: torch.Tensor, only: int | None = None, input_noise: float = 0.0,
                own_draws: float = 0.0) -> tuple[torch.Tensor, list[float]]:
        """:meth:`nll` (the training loss), so that a ``DistributedDataParallel`` wrapper sees the pass."""
        return self.nll(mel, only, input_noise=input_noise, own_draws=own_draws)

    def nll(self, mel: torch.Tensor, only: int | None = None, gap_end: torch.Tensor | None = None,
            input_noise: float = 0.0, own_draws: float = 0.0) -> tuple[torch.Tensor, list[float]]:
        """Mean NLL per cell (nats of the raw ln-mel) of ln-mels ``(B, n_mels, T)``, and each tier's mean.

        The total is over all cells (the tiers partition them), or over tier ``only``'s cells when given.
        ``gap_end`` ``(B,)`` int (a bidirectional model): tier 1's future stack sees frames ``>= gap_end`` of each
        mel and only tier 1's cells of frames before it count (``T``: no right context). In training mode a
        bidirectional model draws it when not given (:func:`random_gap_ends`, torch's global generator).

        ``input_noise`` (normalised units, 0: off): noise injection against exposure bias (Valin & Skoglund
        2019, LPCNet, section 3.3; the teacher-forcing mismatch is Bengio et al. 2015, "Scheduled Sampling for
        Sequence Prediction with Recurrent Neural Networks"). Every value a tier *reads* — its previous frames,
        the lower bands of the frame, the lower tiers' view — is the cell plus Gaussian noise of this standard
        deviation (torch's global generator), while the cells it is scored on stay clean, so the network learns
        to predict the true next cell from an imperfect past, as it must when sampling from its own draws. The
        result is then an upper bound of the clean NLL, not the model's density.

        ``own_draws`` (a chance in [0, 1], 0: off): scheduled sampling with the model's own draws, done in
        parallel (Bengio et al. 2015; the parallel form of Duckworth et al. 2019, "Parallel Scheduled Sampling"):
        a first teacher-forced pass without gradient gives every cell's mixture given the true cells before it;
        each cell the trained tiers read is then, with this chance, a draw from its own mixture (temperature 1)
        instead of the truth, and the second pass is scored on the clean cells. The noise is the model's own
        error, shaped as its samples are, where ``input_noise`` is white.

        Raises:
            MelNetError: ``input_noise`` negative or not finite, ``own_draws`` outside [0, 1]; a mel with the
                wrong number of bands.
        """
        right = score = None
        if self.config.bidirectional and gap_end is None and self.training:
            gap_end = random_gap_ends(mel.shape[0], mel.shape[-1], self.config.right_context_rate, mel.device)
        if self.config.bidirectional and gap_end is not None:
            frame = torch.arange(mel.shape[-1], device=mel.device)
            after = (frame >= gap_end.unsqueeze(1)).unsqueeze(1).expand(mel.shape)  # (B, n_mels, T)
            right = after
            score = tiering.split((~after).transpose(-1, -2), self.config.n_tiers)[0]
        cells = self.cell_nll(mel, only, right, input_noise, own_draws)
        if score is not None and cells[0] is not None:
            cells[0] = cells[0][score]
        sums = [c.sum() for c in cells if c is not None]
        count = sum(c.numel() for c in cells if c is not None)
        per_tier = [float("nan") if c is None else float(c.detach().mean()) for c in cells]
        return torch.stack(sums).sum() / count, per_tier


def random_gap_ends(batch: int, frames: int, rate: float, device: torch.device | None = None) -> torch.Tensor:
    """``(batch,)`` int64 right-context starts for gap training (the infilling recipe of Donahue, Lee & Liang
    2020, "Enabling Language Models to Fill in the Blanks", for mel frames): with probability ``rate`` uniform in
    ``[frames // 8, frames - 1]``, else ``frames`` (no right context). Drawn from torch's global generator (part
    of a training checkpoint, so resume stays exact)."""
    low = max(1, frames // 8)
    ends = torch.randint(low, max(low + 1, frames), (batch,))
    keep = torch.rand(batch) < rate
    return torch.where(keep, ends, torch.full_like(ends, frames)).to(device)


def count_parameters(model: nn.Module) -> int:
    return sum(p.numel() for p in model.parameters())
