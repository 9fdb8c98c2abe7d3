"""MelNet's fill at temperature 0: the conditional median of every cell of a gap given the known frames on both
sides, for fills judged by their L1 distance to the truth.

A draw from MelNet is a plausible fill, not the closest one: the value that minimises a cell's expected absolute
error is its conditional *median*, and an autoregressive model fed its own most likely values (temperature 0)
drifts from it the further it runs into a gap. :class:`GapFill` predicts the medians directly, in one pass
without feedback, as a context encoder fills a spectrogram gap from both sides (Marafioti et al. 2019, "A
Context Encoder for Audio Inpainting", IEEE/ACM TASLP 27(12)), trained on random gaps with the L1 loss that makes
its output the median (Koenker & Bassett 1978, regression quantiles, at 0.5). It starts from linear
interpolation across the gap (band by band, between the nearest known values before and after) and adds a
correction read from both sides by dilated convolutions along time. It fills every band: predicting only
MelNet's coarsest tier and letting the upper tiers fill the rest was measured worse, because the upper tiers see
their own cells after a gap only through the tiers below (Vasquez & Lewis 2019, arXiv 1906.01083).

Arrays are normalised mels ``(B, T, F)`` (time first, as the tier networks read them) with a known mask of the
same shape.
"""

from __future__ import annotations

import torch
from torch import nn


def interpolation_features(x: torch.Tensor, known: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per cell, band by band: the linear interpolation ``(B, T, F)`` across each run of unknown cells between the
    nearest known values before and after (one side's value where only one side is known, 0 where neither), and
    the features ``(B, T, F, 5)``: known, relative position in the run, ``ln(1 + d)`` to the known cells before
    and after (frames, 0 where that side has none), and whether both sides are known."""
    b, t, f = x.shape
    frame = torch.arange(t, device=x.device).view(1, t, 1).expand(b, t, f)
    before = torch.where(known, frame, torch.full_like(frame, -1)).cummax(1).values
    after = torch.where(known, frame, torch.full_like(frame, t)).flip(1).cummin(1).values.flip(1)
    has_before, has_after = before >= 0, after < t
    v_before = x.gather(1, before.clamp(min=0))
    v_after = x.gather(1, after.clamp(max=t - 1))
    d_before = (frame - before).to(x.dtype)
    d_after = (after - frame).to(x.dtype)
    both = has_before & has_after
    frac = torch.where(both, d_before / (d_before + d_after).clamp(min=1), torch.zeros_like(d_before))
    line = torch.where(both, v_before + (v_after - v_before) * frac,
                       torch.where(has_before, v_before, torch.where(has_after, v_after, torch.zeros_like(x))))
    line = torch.where(known, x, line)
    feats = torch.stack([known.to(x.dtype), frac,
                         torch.where(has_before, torch.log1p(d_before), torch.zeros_like(x)),
                         torch.where(has_after, torch.log1p(d_after), torch.zeros_like(x)),
                         both.to(x.dtype)], dim=-1)
    return line, feats


class GapFill(nn.Module):
    """The median fill of a gap (see the module docstring): ``forward(x, known)`` → ``(B, T, F)``.

    Per frame, every band's known value (0 where unknown), its interpolated value and :func:`interpolation_features`
    are projected to ``hidden`` channels, run through residual 1-D convolutions along time (kernel 3, dilations
    1, 2, 4, …, 32: 127 frames seen, 1.5 s), and mapped to one correction per band, added to the interpolation;
    known cells are returned unchanged. The output layer starts at zero, so an untrained fill is linear
    interpolation.

    Args:
        hidden: channels of the convolutions.
        bands: F, the bands it fills (the mel's ``n_mels``).
    """

    DILATIONS = (1, 2, 4, 8, 16, 32)

    def __init__(self, hidden: int, bands: int) -> None:
        super().__init__()
        self.bands, self.hidden = bands, hidden
        self.inp = nn.Conv1d(7 * bands, hidden, kernel_size=1)
        self.convs = nn.ModuleList(nn.Conv1d(hidden, hidden, kernel_size=3, dilation=d, padding=d)
                                   for d in self.DILATIONS)
        self.out = nn.Conv1d(hidden, bands, kernel_size=1)
        nn.init.zeros_(self.out.weight)
        nn.init.zeros_(self.out.bias)  # type: ignore[arg-type]

    def forward(self, x: torch.Tensor, known: torch.Tensor) -> torch.Tensor:
        """``x`` ``(B, T, F)`` normalised values (only the known cells are read), ``known`` ``(B, T, F)`` bool →
        ``(B, T, F)``: ``x`` where known, the predicted median elsewhere."""
        b, t, f = x.shape
        m = known.to(x.dtype)
        line, feats = interpolation_features(x * m, known)
        per_band = torch.cat([(x * m).unsqueeze(-1), line.unsqueeze(-1), feats], dim=-1)  # (B, T, F, 7)
        h = self.inp(per_band.reshape(b, t, 7 * f).transpose(1, 2))
        for conv in self.convs:
            h = h + conv(torch.nn.functional.gelu(h))
        correction = self.out(torch.nn.functional.gelu(h)).transpose(1, 2)
        return torch.where(known, x, line + correction)
