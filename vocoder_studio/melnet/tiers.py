"""MelNet's multiscale split: a mel is split recursively into even and odd rows, alternating between the
frequency and the time axis, and interleaving the pieces back is the exact inverse.

Arrays here are ``(..., frames, bands)`` (time first, as the tier networks read them). With ``n`` tiers the
full view is split ``n - 1`` times: the first split (of the full mel) is along frequency, the next along time,
and so on. Each split keeps the odd rows as a tier and splits the even rows further; the last even view is
tier 1 (the coarsest, modelled unconditionally). Tier ``g > 1`` is conditioned on the view it was split from's
even half, i.e. on everything of the tiers below it. Rows of an odd length split into ``ceil`` even and
``floor`` odd rows, so no padding is needed.
"""

from __future__ import annotations

from typing import TypeVar

import numpy as np
import torch

A = TypeVar("A", torch.Tensor, np.ndarray)

TIME, FREQ = -2, -1


def split_axes(n_tiers: int) -> list[int]:
    """The axis of each split, from the full view down: ``[FREQ, TIME, FREQ, …]`` (``n_tiers - 1`` of them)."""
    return [FREQ if i % 2 == 0 else TIME for i in range(n_tiers - 1)]


def _take(x: A, axis: int, start: int) -> A:
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, None, 2)
    return x[tuple(index)]


def split(x: A, n_tiers: int) -> list[A]:
    """The tiers of ``x`` (``(..., T, F)``), coarsest first: ``[tier 1, tier 2, …, tier n]``.

    Tier ``g``'s conditioning view is :func:`interleave` of tiers ``1..g-1`` (``views(x)[g - 1]``).
    """
    if n_tiers < 1:
        raise ValueError(f"n_tiers must be at least 1, not {n_tiers}")
    odd: list[A] = []
    view = x
    for axis in split_axes(n_tiers):
        odd.append(_take(view, axis, 1))
        view = _take(view, axis, 0)
    return [view, *reversed(odd)]


def _merge(even: A, odd: A, axis: int) -> A:
    shape = list(even.shape)
    shape[axis] = even.shape[axis] + odd.shape[axis]
    if isinstance(even, torch.Tensor):
        out = even.new_empty(shape)
    else:
        out = np.empty(shape, dtype=np.result_type(even, odd))
    index = [slice(None)] * len(shape)
    index[axis] = slice(0, None, 2)
    out[tuple(index)] = even
    index[axis] = slice(1, None, 2)
    out[tuple(index)] = odd
    return out


def views(tiers: list[A], n_tiers: int | None = None) -> list[A]:
    """The cumulative views: ``views[g]`` is tiers ``1..g+1`` interleaved (``views[-1]`` is the full mel).

    ``tiers`` may be the first few tiers of an ``n_tiers`` split (default: all of them).
    """
    n = len(tiers) if n_tiers is None else n_tiers
    axes = list(reversed(split_axes(n)))  # from the coarsest merge up
    out = [tiers[0]]
    for g in range(1, len(tiers)):
        out.append(_merge(out[-1], tiers[g], axes[g - 1]))
    return out


def interleave(tiers: list[A]) -> A:
    """The inverse of :func:`split`: the full ``(..., T, F)`` array from its tiers (coarsest first)."""
    return views(tiers)[-1]


def tier_axis(n_tiers: int, g: int) -> int:
    """The axis along which tier ``g`` (0-based, ``g >= 1``) was split from its conditioning view."""
    return list(reversed(split_axes(n_tiers)))[g - 1]


def interleave_pair(even: A, odd: A, axis: int) -> A:
    """Even rows ``even`` and odd rows ``odd`` merged along ``axis`` (one step of :func:`interleave`)."""
    return _merge(even, odd, axis)
