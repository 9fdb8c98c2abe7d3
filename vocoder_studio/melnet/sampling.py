"""Sampling MelNet: unconditional, continuation and inpainting, with cached incremental RNN state.

Every tier is sampled frame by frame and, within a frame, band by band from low to high. The time-delayed and
centralized stacks keep their GRU states between frames (a frame costs one GRU step per layer along time, plus
the per-frame GRUs along frequency); frames given as context are run through those stacks in one batched call
(a prefix is "primed", never rerun), and the frequency-delayed stack runs only for frames holding cells to
sample.

How context is used (``known`` cells are kept exactly, the others are sampled):

- *continuation* (``prime``): the prefix is known in every tier; generation proceeds left to right after it.
- *inpainting* (``source`` + ``inpaint=(start, end)``): every cell outside frames ``[start, end)`` is known.
  Within a tier the order is left to right, so a tier sees the frames *before* the gap directly, and the frames
  *after* the gap only through its conditioning: every upper tier (2…n) is conditioned on the whole view of the
  tiers below it, run by bidirectional RNNs over both axes, which holds the right-hand frames (known) as well
  as the gap as sampled by the lower tiers. Tier 1 (the coarsest) fills the gap from the left context only.
  The output keeps every cell outside the gap bit for bit.

Temperature ``τ`` divides the mixture logits and multiplies the component scales; ``τ = 0`` takes the mean of
the most likely component (deterministic). The same seed gives the same sample.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import numpy as np
import torch

from vocoder_studio.errors import JobCancelled, MelShapeError
from vocoder_studio.melnet import tiers as tiering
from vocoder_studio.melnet.model import FreqLayer, MelNet, MelNetError, TierNet, gmm_parts

#: ``progress(fraction, message)`` (the engine's job progress signature).
ProgressFn = Callable[[float, str], None]
#: ``on_frames(start, block)``: final ln-mel frames ``block`` ``(n_mels, k)`` starting at frame ``start``.
FramesFn = Callable[[int, np.ndarray], None]

#: Sampled values are kept within ± this many band standard deviations of the band mean (the data lies within
#: about ±4): a draw from a mixture's tail fed back into the network must not grow without bound.
SAMPLE_LIMIT = 8.0


def _check_cancel(cancel: Any) -> None:
    """Stop if asked: ``cancel`` is None, an object with ``check()`` (raises, e.g. the engine's CancelToken),
    or a callable returning True when the job should stop."""
    if cancel is None:
        return
    check = getattr(cancel, "check", None)
    if callable(check):
        check()
    elif callable(cancel) and cancel():
        raise JobCancelled("cancelled")


def _draw(params: torch.Tensor, net: TierNet, temperature: float, uniform: torch.Tensor,
          normal: torch.Tensor) -> torch.Tensor:
    """Values ``(N,)`` drawn from mixtures ``params`` ``(N, 3K)`` with pre-drawn ``uniform``/``normal`` ``(N,)``."""
    mu, log_s, log_w = gmm_parts(params, net.mixtures, net.log_scale_min)
    if temperature <= 0:
        k = log_w.argmax(dim=-1, keepdim=True)
        return mu.gather(-1, k).squeeze(-1).clamp(-SAMPLE_LIMIT, SAMPLE_LIMIT)
    cdf = torch.softmax(log_w / temperature, dim=-1).cumsum(dim=-1)
    k = torch.searchsorted(cdf, uniform.unsqueeze(-1).contiguous()).clamp(max=net.mixtures - 1)
    value = mu.gather(-1, k) + torch.exp(log_s.gather(-1, k)) * temperature * normal.unsqueeze(-1)
    return value.squeeze(-1).clamp(-SAMPLE_LIMIT, SAMPLE_LIMIT)


class _TierRun:
    """One tier's incremental pass: fills ``x`` ``(T, F)`` (normalised) in place where ``known`` is False."""

    def __init__(self, net: TierNet, x: torch.Tensor, known: torch.Tensor, view: torch.Tensor | None) -> None:
        self.net, self.x, self.known = net, x, known
        self.frames, self.bands = x.shape
        self.cond_t, self.cond_f = net.conditioning(None if view is None else view.unsqueeze(0), self.frames)

    def run(self, temperature: float, generator: torch.Generator, score: bool = False,
            after_frame: Callable[[int], None] | None = None) -> torch.Tensor | None:
        """Sample every unknown cell; with ``score``, also return each cell's log-probability ``(T, F)`` as the
        incremental pass computes it (for tests against the full forward pass)."""
        net, x, known = self.net, self.x, self.known
        frames, bands = self.frames, self.bands
        logp = torch.zeros(frames, bands) if score else None
        todo = (~known).any(dim=1)
        last = frames - 1 if score else (int(torch.nonzero(todo).max()) if bool(todo.any()) else -1)
        first = 0 if score else (int(torch.nonzero(todo).min()) if bool(todo.any()) else frames)
        # prime: frames [0, first) are known; one batched call brings the time/central GRUs to frame ``first``
        states: list[torch.Tensor] | None = None
        central: list[torch.Tensor] | None = None
        if 0 < first <= last:
            x_prev = torch.nn.functional.pad(x[: first - 1], (0, 0, 1, 0)).unsqueeze(0)
            ctx = net.time_context(x_prev, None if self.cond_t is None else self.cond_t[:, :first])
            states, central = ctx.states, ctx.central_states or None
        layers = [layer for layer in net.freq_layers if isinstance(layer, FreqLayer)]
        w_in = net.freq_in.weight[:, 0]
        for t in range(first, last + 1):
            x_prev = (x[t - 1] if t > 0 else x.new_zeros(bands)).view(1, 1, bands)
            ctx = net.time_context(x_prev, None if self.cond_t is None else self.cond_t[:, t: t + 1],
                                   states, central)
            states, central = ctx.states, ctx.central_states or None
            if score or bool(todo[t]):
                uniform = torch.rand(bands, generator=generator)
                normal = torch.randn(bands, generator=generator)
                # layer 0 of the frequency stack is affine in the band below: precompute the rest for the frame
                base = net.freq_in.bias + net.band_embedding
                if self.cond_f is not None:
                    base = base + self.cond_f[0, t]
                contexts = [ctx.context(i, slice(None))[0, 0] for i in range(net.n_layers)]
                known_row = known[t].tolist()
                f_states: list[torch.Tensor | None] = [None] * net.n_layers
                below = x.new_zeros(())
                for f in range(bands):
                    h = (base[f] + below * w_in).view(1, -1)
                    for i, layer in enumerate(layers):
                        h, f_states[i] = layer.step(h, contexts[i][f].view(1, -1), f_states[i])
                    params = net.head(h)
                    if logp is not None:
                        logp[t, f] = -net.nll(params[0], x[t, f])
                    if not known_row[f]:
                        x[t, f] = _draw(params, net, temperature, uniform[f: f + 1], normal[f: f + 1])[0]
                    below = x[t, f]
            if after_frame is not None:
                after_frame(t)
        return logp


def _generate(model: MelNet, target: np.ndarray, known: np.ndarray, temperature: float, seed: int,
              progress: ProgressFn | None, cancel: Any, on_frames: FramesFn | None, chunk: int,
              score: bool = False) -> tuple[np.ndarray, list[torch.Tensor | None]]:
    """Fill the unknown cells of ``target`` ``(n_mels, T)`` (raw ln-mel; ``known`` same shape, bool)."""
    config = model.config
    n_mels, frames = target.shape
    if n_mels != config.n_mels:
        raise MelShapeError(f"mel has {n_mels} bands; this MelNet models {config.n_mels}")
    if frames < 1:
        raise MelNetError("nothing to generate: 0 frames")
    generator = torch.Generator().manual_seed(int(seed))
    model.eval()
    logps: list[torch.Tensor | None] = []
    with torch.inference_mode():
        x = model.normalise(torch.tensor(np.asarray(target, dtype=np.float32)).unsqueeze(0))[0]
        x = torch.where(torch.from_numpy(known.T.copy()), x, torch.zeros(()))
        parts = [p.clone() for p in tiering.split(x, config.n_tiers)]
        masks = tiering.split(torch.from_numpy(known.T.copy()), config.n_tiers)
        time_index = tiering.split(torch.arange(frames).unsqueeze(1).expand(frames, n_mels), config.n_tiers)
        total = sum(int(p.shape[0]) for p in parts)
        done_frames = 0
        emitted = 0
        top = config.n_tiers - 1

        for g, net in enumerate(model.tiers):
            assert isinstance(net, TierNet)
            view = tiering.views(parts[:g], config.n_tiers)[-1] if g else None
            run = _TierRun(net, parts[g], masks[g], view)
            base = done_frames

            def after(t: int, g: int = g, base: int = base, view: torch.Tensor | None = view) -> None:
                nonlocal emitted
                _check_cancel(cancel)
                if progress is not None:
                    progress((base + t + 1) / total, f"tier {g + 1}/{config.n_tiers}, frame {t + 1}/"
                             f"{parts[g].shape[0]}")
                if g != top or on_frames is None:
                    return
                ready = int(time_index[g][t].max()) + 1 if t + 1 < parts[g].shape[0] else frames
                if ready - emitted >= chunk or ready == frames:
                    full = parts[g] if view is None else tiering.interleave_pair(view, parts[g],
                                                                              tiering.tier_axis(config.n_tiers, g))
                    block = _raw(model, full[emitted:ready], target[:, emitted:ready], known[:, emitted:ready])
                    on_frames(emitted, block)
                    emitted = ready

            _check_cancel(cancel)
            logps.append(run.run(temperature, generator, score, after))
            done_frames += int(parts[g].shape[0])
        out = _raw(model, tiering.interleave(parts), target, known)
        if on_frames is not None and emitted < frames:  # frames after the last one sampled (all known)
            on_frames(emitted, out[:, emitted:])
    if progress is not None:
        progress(1.0, "done")
    return out, logps


def _raw(model: MelNet, x: torch.Tensor, target: np.ndarray, known: np.ndarray) -> np.ndarray:
    """Normalised ``(T, F)`` → raw ``(F, T)`` float32, the known cells copied bit for bit from ``target``."""
    raw = model.denormalise(x).numpy().astype(np.float32)
    return np.where(known, target, raw).astype(np.float32)


def sample(model: MelNet, frames: int = 0, *, prime: np.ndarray | None = None, source: np.ndarray | None = None,
           inpaint: tuple[int, int] | None = None, temperature: float = 1.0, seed: int = 0,
           progress: ProgressFn | None = None, cancel: Any = None, on_frames: FramesFn | None = None,
           chunk: int = 8, floor: float | None = None) -> np.ndarray:
    """Sample a mel from MelNet.

    Modes:
        - unconditional: ``sample(model, frames)``: ``frames`` new frames;
        - continuation: ``sample(model, frames, prime=mel)``: ``mel`` ``(n_mels, P)`` followed by ``frames`` new
          frames (the prefix is kept bit for bit);
        - inpainting: ``sample(model, source=mel, inpaint=(start, end))``: ``mel`` with frames ``[start, end)``
          regenerated given everything else (see the module docstring for how the right-hand side is used).

    Args:
        model: a trained :class:`MelNet` (``load_model``).
        frames: new frames (unconditional, continuation); ignored when inpainting.
        temperature: ``τ >= 0``; 0 is deterministic (the most likely component's mean).
        seed: the random seed (the same seed, model and arguments give the same output).
        progress: ``progress(fraction, "tier g/n, frame i/T")`` after each frame of each tier.
        cancel: checked between frames: an object with ``check()`` that raises (the engine's ``CancelToken``)
            or a callable returning True to stop.
        on_frames: ``on_frames(start, block)`` with final frames as they are completed (during the last tier),
            ``block`` ``(n_mels, k)`` float32 ln-mel, in order, about ``chunk`` frames at a time, covering the
            whole output (known frames included) — e.g. ``lambda s, b: cancel.partial((s, b))`` in a job.
        floor: values are clamped to at least this (default: none; pass ``MelConfig.floor_ln``).
    Returns:
        the ln-mel ``(n_mels, T)`` float32.
    Raises:
        MelNetError: no frames to generate, or an inpainting range outside the source.
        MelShapeError: a prime/source of the wrong shape or with non-finite values.
        JobCancelled: cancelled between frames.
    """
    n_mels = model.config.n_mels
    if inpaint is not None:
        if source is None:
            raise MelNetError("inpainting needs the source mel")
        target = _checked(source, n_mels, "source")
        start, end = int(inpaint[0]), int(inpaint[1])
        if not 0 <= start < end <= target.shape[1]:
            raise MelNetError(f"inpainting range {start}:{end} is not inside the source's {target.shape[1]} frames")
        known = np.ones(target.shape, bool)
        known[:, start:end] = False
    else:
        if frames < 0:
            raise MelNetError(f"frames must be >= 0, not {frames}")
        prefix = np.zeros((n_mels, 0), np.float32) if prime is None else _checked(prime, n_mels, "prime")
        if frames == 0:
            raise MelNetError("nothing to generate: 0 new frames")
        target = np.concatenate([prefix, np.zeros((n_mels, frames), np.float32)], axis=1)
        known = np.zeros(target.shape, bool)
        known[:, : prefix.shape[1]] = True
    if not math.isfinite(temperature) or temperature < 0:
        raise MelNetError(f"temperature must be a finite number >= 0, not {temperature}")
    out, _ = _generate(model, target, known, temperature, seed, progress, cancel, on_frames, chunk)
    if floor is not None:
        out = np.where(known, out, np.maximum(out, floor)).astype(np.float32)
    return out


def incremental_log_probs(model: MelNet, mel: np.ndarray) -> list[torch.Tensor]:
    """Each tier's per-cell log-probability ``(T_g, F_g)`` (normalised units) computed by the *sampler's*
    incremental pass with every cell known — equal, up to float rounding, to the full forward pass's."""
    target = _checked(mel, model.config.n_mels, "mel")
    _, logps = _generate(model, target, np.ones(target.shape, bool), 1.0, 0, None, None, None, 8, score=True)
    return [lp for lp in logps if lp is not None]


def _checked(mel: np.ndarray, n_mels: int, what: str) -> np.ndarray:
    arr = np.asarray(mel)
    if arr.ndim != 2 or arr.shape[0] != n_mels:
        raise MelShapeError(f"{what}: expected a mel of shape ({n_mels}, frames), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise MelShapeError(f"{what}: the mel holds non-finite values")
    return arr.astype(np.float32, copy=False)


def evaluate(model: MelNet, mels: list[np.ndarray]) -> dict[str, Any]:
    """Mean NLL per mel cell (nats of the raw ln-mel, normalisation's log-Jacobian included) of ``mels``
    (each ``(n_mels, frames)``), in total and per tier (each tier's mean over its own cells).

    Returns:
        ``{"nll_per_cell": x, "tiers": [t1, …], "cells": N, "files": len(mels)}``.
    Raises:
        MelShapeError: a mel of the wrong shape or with non-finite values.
    """
    n_tiers = model.config.n_tiers
    sums, counts = np.zeros(n_tiers), np.zeros(n_tiers)
    model.eval()
    with torch.inference_mode():
        for i, mel in enumerate(mels):
            arr = _checked(mel, model.config.n_mels, f"mel {i}")
            for g, cells in enumerate(model.cell_nll(torch.tensor(arr).unsqueeze(0))):
                if cells is not None and cells.numel():
                    sums[g] += float(cells.double().sum())
                    counts[g] += cells.numel()
    total = int(counts.sum())
    if total == 0:
        raise MelNetError("nothing to evaluate: no frames")
    return {"nll_per_cell": float(sums.sum() / total),
            "tiers": [float(s / c) if c else None for s, c in zip(sums, counts, strict=True)],
            "cells": total, "files": len(mels)}
