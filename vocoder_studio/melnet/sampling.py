"""Sampling MelNet: unconditional, continuation and inpainting, with cached incremental RNN state.

Every tier is sampled frame by frame and, within a frame, band by band from low to high. The time-delayed and
centralized stacks keep their GRU states between frames (a frame costs one GRU step per layer along time, plus
the per-frame GRUs along frequency); frames given as context are run through those stacks in one batched call
(a prefix is "primed", never rerun), and the frequency-delayed stack runs only for frames holding cells to
sample. A frame's steps run compiled (:mod:`vocoder_studio.melnet.kernels`, numba); ``sample(compiled=False)``
runs them as torch calls, the same sample within float rounding.

How context is used (``known`` cells are kept exactly, the others are sampled):

- *continuation* (``prime``): the prefix is known in every tier; generation proceeds left to right after it.
- *inpainting* (``source`` + ``inpaint=(start, end)``): every cell outside frames ``[start, end)`` is known.
  Within a tier the order is left to right, so a tier sees the frames *before* the gap directly, and the frames
  *after* the gap through its conditioning: every upper tier (2…n) is conditioned on the whole view of the
  tiers below it, run by bidirectional RNNs over both axes, which holds the right-hand frames (known) as well
  as the gap as sampled by the lower tiers. Tier 1 (the coarsest) of a ``bidirectional`` model runs its future
  stack backward over the known frames after the gap once, before sampling it, so that each gap frame sees
  what follows; a left-to-right model's tier 1 fills from the left context only. The output keeps every cell
  outside the gap bit for bit. Continuation and unconditional sampling have no right context: they run no
  future stack and cost what they did.
- a fill at temperature 0 (every tier at 0) of a model with a median gap fill (``MelNet.fill``,
  :mod:`vocoder_studio.melnet.fill`) is that network's one pass instead: each cell's conditional median given
  both sides (the left side alone for a range that runs to the end), the fill closest to the truth in L1, where
  the tiers' most likely values drift.

Temperature ``τ`` divides the mixture logits and multiplies the component scales; ``τ = 0`` takes the mean of
the most likely component (deterministic). Each tier may draw at its own temperature, ``τ`` times a per-tier
factor (``tier_temperatures``, coarsest first). The same seed gives the same sample.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import torch

from vocoder_studio.errors import JobCancelled, MelShapeError
from vocoder_studio.melnet import tiers as tiering
from vocoder_studio.melnet.model import CentralLayer, FreqLayer, MelNet, MelNetError, TierNet, TimeLayer
from vocoder_studio.threads import intra_op_threads

#: ``progress(fraction, message)`` (the engine's job progress signature).
ProgressFn = Callable[[float, str], None]
#: ``on_frames(start, block)``: final ln-mel frames ``block`` ``(n_mels, k)`` starting at frame ``start``.
FramesFn = Callable[[int, np.ndarray], None]

#: The fill's temperature (:func:`evaluate_inpainting`'s default), chosen on the validation pack: a bidirectional
#: MelNet's 0.5 s fills at 0 / 0.3 / 1.0 had L1 0.910 / 0.925 / 0.950 (20 clips; scripts/melnet_inpaint.py).
FILL_TEMPERATURE = 0.0

#: New and continued frames' temperature (with :func:`default_tier_temperatures`): the model's own spread; below
#: about 0.8 new sound fades to silence (docs/melnet_voicing.md).
NEW_TEMPERATURE = 1.0

#: Sampled values are kept within ± this many band standard deviations of the band mean (the data lies within
#: about ±4): a draw from a mixture's tail fed back into the network must not grow without bound.
SAMPLE_LIMIT = 8.0

#: Per-tier temperature factors (coarsest first) for new and continued frames of a 4-tier model, chosen on the
#: corpus's validation levels by the pYIN voiced fraction of HiFi-GAN audio (scripts/melnet_voicing.py). Tier 1
#: a little above 1: at 1 and below the coarse tier drifts into silence, a state it rarely leaves (at 0.8 most
#: of a 4 s sample is silent); the upper tiers at 0, their most likely component's mean: their independent
#: per-cell noise blurs the harmonics between the coarse bands (keeping tier 1 true and resampling tiers 2-4
#: at 1 halves real speech's voiced fraction).
VOICED_TIER_TEMPERATURES = (1.1, 0.0, 0.0, 0.0)


def default_tier_temperatures(n_tiers: int) -> tuple[float, ...] | None:
    """:data:`VOICED_TIER_TEMPERATURES` for a model of that many tiers, else None (every tier at ``τ``)."""
    return VOICED_TIER_TEMPERATURES if n_tiers == len(VOICED_TIER_TEMPERATURES) else None


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


def _draw(params: list[float], mixtures: int, log_scale_min: float, temperature: float, uniform: float,
          normal: float) -> float:
    """One value drawn from the mixture ``params`` (``3K`` floats: means, log-scales, logits) with the pre-drawn
    ``uniform`` in [0, 1) and standard ``normal``; plain Python floats (a cell's ten components cost less here
    than a dozen tensor calls). Temperature 0 takes the mean of the most likely component."""
    mu, log_s, logits = params[:mixtures], params[mixtures: 2 * mixtures], params[2 * mixtures:]
    if temperature <= 0:
        value = mu[logits.index(max(logits))]
    else:
        k = pick_component(logits, temperature, uniform)
        value = mu[k] + math.exp(max(log_s[k], log_scale_min)) * temperature * normal
    return min(max(value, -SAMPLE_LIMIT), SAMPLE_LIMIT)


def pick_component(logits: list[float], sharpen: float, uniform: float) -> int:
    """The mixture component that ``uniform`` (in [0, 1)) picks from ``softmax(logits / sharpen)`` by inverse CDF
    (``sharpen > 0``; the last component where rounding leaves the sum short)."""
    top = max(logits)
    weights = [math.exp((v - top) / sharpen) for v in logits]
    goal, total = uniform * math.fsum(weights), 0.0
    for i, w in enumerate(weights):
        total += w
        if total >= goal:
            return i
    return len(logits) - 1


def _both_ways(gru: torch.nn.GRU) -> list[torch.Tensor]:
    """Weights ``[w_ih, w_hh, b_ih, b_hh]`` of one GRU of hidden size ``2H`` that runs the bidirectional one-layer
    ``gru`` (hidden ``H``) in a single pass: its input is ``[x_k, x_(n-1-k)]``, its state ``[forward, backward]``,
    and each gate's weights are block-diagonal, so the two halves never mix (the same arithmetic)."""
    hid = gru.hidden_size

    def blocks(fwd: torch.Tensor, bwd: torch.Tensor) -> torch.Tensor:
        out = fwd.new_zeros(6 * hid, 2 * hid)
        for gate in range(3):
            out[2 * gate * hid: (2 * gate + 1) * hid, :hid] = fwd[gate * hid: (gate + 1) * hid]
            out[(2 * gate + 1) * hid: (2 * gate + 2) * hid, hid:] = bwd[gate * hid: (gate + 1) * hid]
        return out

    def biases(fwd: torch.Tensor, bwd: torch.Tensor) -> torch.Tensor:
        return torch.cat([torch.cat([fwd[g * hid: (g + 1) * hid], bwd[g * hid: (g + 1) * hid]]) for g in range(3)])

    return [blocks(_param(gru, "weight_ih_l0"), _param(gru, "weight_ih_l0_reverse")),
            blocks(_param(gru, "weight_hh_l0"), _param(gru, "weight_hh_l0_reverse")),
            biases(_param(gru, "bias_ih_l0"), _param(gru, "bias_ih_l0_reverse")),
            biases(_param(gru, "bias_hh_l0"), _param(gru, "bias_hh_l0_reverse"))]


def _param(module: torch.nn.Module, name: str) -> torch.Tensor:
    value = getattr(module, name)
    assert isinstance(value, torch.Tensor)
    return value


class _TierRun:
    """One tier's incremental pass: fills ``x`` ``(T, F)`` (normalised) in place where ``known`` is False.

    Per frame it costs one step of each time-delayed layer (the bidirectional GRU along the previous frame's
    bands, one GRU cell step along time for all bands at once), one centralized step (tier 1), then one
    ``torch.gru_cell`` per frequency-delayed layer and band. Everything that does not depend on the band below
    (layer-0 inputs from the conditioning, the stacks' context rows) is computed for the whole frame first and
    split into rows once; weights are pre-transposed for ``addmm``; the mixture draw runs on Python floats and a
    frame's values are written back in one call. The arithmetic is the full pass's (the step log-probabilities
    match it, tested), only cheaper per call. Sampling runs those steps as two compiled calls per frame
    (:mod:`vocoder_studio.melnet.kernels`, a few microseconds per cell instead of a dozen torch calls); the torch
    calls stay as the reference they are tested against (``compiled=False``) and score the log-probabilities.
    A known prefix is primed in one batched pass that skips the outputs no later frame reads
    (:meth:`TierNet.time_states`).
    """

    def __init__(self, net: TierNet, x: torch.Tensor, known: torch.Tensor, view: torch.Tensor | None,
                 right: torch.Tensor | None = None) -> None:
        self.net, self.x, self.known = net, x, known
        self.frames, self.bands = x.shape
        cond_t, cond_f = net.conditioning(None if view is None else view.unsqueeze(0), self.frames)
        # the future stack (tier 1 of a bidirectional model) over the right-hand known cells ``right`` (T, F),
        # run once for the whole tier: its terms join the conditioning (layer 0) and each layer's context
        future = net.future_terms(x.unsqueeze(0), None if right is None else right.unsqueeze(0))
        self.future_terms = future
        if future is not None:
            cond_t = future.time if cond_t is None else cond_t + future.time
        self.future = None if future is None else [c[0, :, 0] for c in future.context]  # L × (T, H)
        # the previous value's term: (x_prev ⊙ closeness[t]) (F, 3) @ previous.weight.T, added per frame
        self.closeness = None if future is None else future.closeness[0]
        self.w_previous = None if net.future is None else net.future.previous.weight.t()
        self.cond_t = cond_t
        # layer-0 inputs without the value-dependent term, per frame: (T, F, H) (or (F, H) without conditioning)
        time_base = net.time_in.bias + net.band_embedding
        freq_base = net.freq_in.bias + net.band_embedding
        self.time_base = time_base if cond_t is None else time_base + cond_t[0]
        self.freq_base = freq_base if cond_f is None else freq_base + cond_f[0]
        self.w_time = net.time_in.weight[:, 0]
        self.w_freq = net.freq_in.weight[:, 0]
        self.time_layers = [layer for layer in net.time_layers if isinstance(layer, TimeLayer)]
        self.freq_layers = [layer for layer in net.freq_layers if isinstance(layer, FreqLayer)]
        self.central_layers = [layer for layer in (net.central_layers or []) if isinstance(layer, CentralLayer)]
        self.proj_t = [(lay.proj.bias, lay.proj.weight.t()) for lay in self.time_layers]
        self.proj_f = [(lay.proj.bias, lay.proj.weight.t()) for lay in self.freq_layers]
        self.proj_c = [(lay.proj.bias, lay.proj.weight.t()) for lay in self.central_layers]
        self.head = (net.head.bias.unsqueeze(0), net.head.weight.t())
        self.hidden = net.head.weight.shape[1]

    @functools.cached_property
    def both_ways(self) -> list[list[torch.Tensor]]:
        """Each time layer's bidirectional GRU as one GRU of twice the width (:func:`_both_ways`), built when the
        torch path first needs it."""
        return [_both_ways(lay.freq) for lay in self.time_layers]

    def _time_step(self, x_prev: torch.Tensor, t: int, states: list[torch.Tensor],
                   central: list[torch.Tensor]) -> list[torch.Tensor]:
        """Advance the time-delayed (and centralized) stacks by frame ``t`` whose previous frame is ``x_prev``
        ``(F,)``; ``states`` ``L × (F, H)`` and ``central`` ``L × (1, H)`` are replaced in place. Returns the
        context of each frequency-delayed layer, ``L × (F, H)``."""
        base = self.time_base if self.time_base.dim() == 2 else self.time_base[t]
        h = torch.addr(base, x_prev, self.w_time)
        if self.closeness is not None and self.w_previous is not None:
            h = h.addmm(x_prev.unsqueeze(1) * self.closeness[t], self.w_previous)
        hid = self.hidden
        zeros = h.new_zeros(1, 1, 2 * hid)
        outs = []
        for i, layer in enumerate(self.time_layers):
            # both directions along frequency as one GRU of twice the width (block-diagonal weights) over the
            # bands and the bands reversed side by side: half the sequential steps of a bidirectional call
            both = torch._VF.gru(torch.cat([h, h.flip(0)], dim=1).unsqueeze(0), zeros,  # type: ignore[attr-defined]
                                 self.both_ways[i], True, 1, 0.0, False, False, True)[0][0]
            t_gru = layer.time
            states[i] = torch.gru_cell(h, states[i], t_gru.weight_ih_l0, t_gru.weight_hh_l0,  # type: ignore[arg-type]
                                       t_gru.bias_ih_l0, t_gru.bias_hh_l0)  # type: ignore[arg-type]
            bias, weight = self.proj_t[i]
            along = torch.cat([both[:, :hid], both[:, hid:].flip(0), states[i]], dim=1)
            h = torch.addmm(bias, along, weight).add_(h)
            outs.append(h)
        if self.central_layers:
            net = self.net
            assert net.central_in is not None
            c = torch.addmv(net.central_in.bias, net.central_in.weight, x_prev).unsqueeze(0)
            for i, central_layer in enumerate(self.central_layers):
                c_gru = central_layer.time
                central[i] = torch.gru_cell(c, central[i], c_gru.weight_ih_l0,  # type: ignore[arg-type]
                                            c_gru.weight_hh_l0, c_gru.bias_ih_l0, c_gru.bias_hh_l0)  # type: ignore[arg-type]
                bias, weight = self.proj_c[i]
                c = torch.addmm(bias, central[i], weight).add_(c)
                outs[i] = outs[i] + c
        if self.future is not None:
            outs = [out + future[t] for out, future in zip(outs, self.future, strict=True)]
        return outs

    def _prime(self, first: int, last: int) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """The time/central GRU states ``L × (F, H)``, ``L × (1, H)`` before frame ``first``: frames ``[0, first)``
        are known, and one batched call runs the stacks over them (zeros when ``first`` is 0)."""
        net, x = self.net, self.x
        states = [x.new_zeros(self.bands, self.hidden) for _ in self.time_layers]
        central = [x.new_zeros(1, self.hidden) for _ in self.central_layers]
        if 0 < first <= last:
            x_prev = torch.nn.functional.pad(x[: first - 1], (0, 0, 1, 0)).unsqueeze(0)
            cond = None if self.cond_t is None else self.cond_t[:, :first]
            if self.future_terms is not None and net.future is not None:
                term = net.future.previous_term(x_prev, self.future_terms)
                cond = term if cond is None else cond + term
            time_states, central_states = net.time_states(x_prev, cond)
            states = [s[0] for s in time_states]
            central = [s[0] for s in central_states]
        return states, central

    def _kernel_weights(self) -> tuple[tuple[Any, ...], tuple[Any, ...]]:
        """The constant arguments of :func:`kernels.time_step` and :func:`kernels.freq_frame` (after their
        per-frame ones): float32 numpy arrays, matrices transposed to ``(in, out)``, one row per layer."""
        net, hid = self.net, self.hidden
        t_layers, c_layers = self.time_layers, self.central_layers

        def arr(t: torch.Tensor) -> np.ndarray:
            return np.ascontiguousarray(t.detach().numpy(), dtype=np.float32)

        def stack(tensors: list[torch.Tensor], *shape: int) -> np.ndarray:
            return arr(torch.stack(tensors)) if tensors else np.zeros((0, *shape), np.float32)

        def gru(grus: list[torch.nn.GRU], suffix: str = "") -> list[np.ndarray]:
            return [stack([_param(g, "weight_ih_l0" + suffix).t() for g in grus], hid, 3 * hid),
                    stack([_param(g, "weight_hh_l0" + suffix).t() for g in grus], hid, 3 * hid),
                    stack([_param(g, "bias_ih_l0" + suffix) for g in grus], 3 * hid),
                    stack([_param(g, "bias_hh_l0" + suffix) for g in grus], 3 * hid)]

        def proj(layers: list[Any], width: int) -> list[np.ndarray]:
            return [stack([lay.proj.weight.t() for lay in layers], width, hid),
                    stack([lay.proj.bias for lay in layers], hid)]

        up, down = gru([lay.freq for lay in t_layers]), gru([lay.freq for lay in t_layers], "_reverse")
        both = [np.ascontiguousarray(np.stack([u, d], axis=1)) for u, d in zip(up, down, strict=True)]
        if net.central_in is not None and c_layers:
            central_in = [arr(net.central_in.weight.t()), arr(net.central_in.bias)]
        else:
            central_in = [np.zeros((self.bands, hid), np.float32), np.zeros(hid, np.float32)]
        w_previous = (np.zeros((3, hid), np.float32) if self.w_previous is None else arr(self.w_previous))
        time_w = (arr(self.w_time), w_previous, *both, *gru([lay.time for lay in t_layers]),
                  *proj(t_layers, 3 * hid), *central_in, *gru([lay.time for lay in c_layers]), *proj(c_layers, hid))
        freq_w = (arr(self.w_freq), *gru([lay.freq for lay in self.freq_layers]), *proj(self.freq_layers, hid),
                  arr(self.head[1]), arr(self.head[0][0]), net.mixtures, float(net.log_scale_min),
                  float(SAMPLE_LIMIT))
        return time_w, freq_w

    def _run_compiled(self, temperature: float, generator: torch.Generator, first: int, last: int,
                      todo: torch.Tensor, states: list[torch.Tensor], central: list[torch.Tensor],
                      after_frame: Callable[[int], None] | None) -> None:
        """:meth:`run`'s loop by the numba kernels, one call of each per frame: the same steps, random draws (in
        the same order from ``generator``) and callbacks."""
        from vocoder_studio.melnet import kernels  # numba: imported (and its cache loaded) when sampling runs

        bands, hid = self.bands, self.hidden
        shared = self.x.is_contiguous()
        x = self.x.numpy() if shared else np.ascontiguousarray(self.x.numpy())
        known = np.ascontiguousarray(self.known.numpy())
        todo_rows = todo.tolist()
        time_w, freq_w = self._kernel_weights()
        time_states = np.ascontiguousarray(torch.stack(states).numpy())
        central_states = (np.ascontiguousarray(torch.cat(central).numpy()) if central
                          else np.zeros((0, hid), np.float32))
        time_base, freq_base = (np.ascontiguousarray(b.numpy()) for b in (self.time_base, self.freq_base))
        closeness = (np.zeros((self.frames, 0, 3), np.float32) if self.closeness is None
                     else np.ascontiguousarray(self.closeness.numpy()))
        future = (np.zeros((self.frames, 0, hid), np.float32) if self.future is None
                  else np.ascontiguousarray(torch.stack(self.future, dim=1).numpy()))  # (T, L, H)
        contexts = np.empty((len(self.time_layers), bands, hid), np.float32)
        zero_row = np.zeros(bands, np.float32)
        for t in range(first, last + 1):
            kernels.time_step(x[t - 1] if t > 0 else zero_row, time_base if time_base.ndim == 2 else time_base[t],
                              closeness[t], future[t], contexts, time_states, central_states, *time_w)
            if todo_rows[t]:
                uniform = torch.rand(bands, generator=generator).numpy()
                normal = torch.randn(bands, generator=generator).numpy()
                kernels.freq_frame(x[t], known[t], contexts, freq_base if freq_base.ndim == 2 else freq_base[t],
                                   uniform, normal, float(temperature), *freq_w)
                if not shared:
                    self.x[t] = torch.from_numpy(x[t])
            if after_frame is not None:
                after_frame(t)

    def run(self, temperature: float, generator: torch.Generator, score: bool = False,
            after_frame: Callable[[int], None] | None = None, compiled: bool = True) -> torch.Tensor | None:
        """Sample every unknown cell; with ``score``, also return each cell's log-probability ``(T, F)`` as the
        incremental pass computes it (for tests against the full forward pass). ``compiled`` (and not
        ``score``): the same steps by :mod:`~vocoder_studio.melnet.kernels` (numba), equal up to float rounding;
        False: torch calls (the reference the kernels are tested against)."""
        net, x, known = self.net, self.x, self.known
        frames, bands, hidden = self.frames, self.bands, self.hidden
        logp = torch.zeros(frames, bands) if score else None
        todo = (~known).any(dim=1)
        last = frames - 1 if score else (int(torch.nonzero(todo).max()) if bool(todo.any()) else -1)
        first = 0 if score else (int(torch.nonzero(todo).min()) if bool(todo.any()) else frames)
        states, central = self._prime(first, last)
        if compiled and not score:
            self._run_compiled(temperature, generator, first, last, todo, states, central, after_frame)
            return None
        mixtures, floor = net.mixtures, net.log_scale_min
        head_bias, head_weight = self.head
        cells = [(_param(lay.freq, "weight_ih_l0"), _param(lay.freq, "weight_hh_l0"),
                  _param(lay.freq, "weight_ih_l0").t(), _param(lay.freq, "bias_ih_l0"),
                  _param(lay.freq, "bias_hh_l0"), *self.proj_f[i]) for i, lay in enumerate(self.freq_layers)]
        w_freq = self.w_freq.unsqueeze(0)
        zero_row = x.new_zeros(bands)
        for t in range(first, last + 1):
            contexts = self._time_step(x[t - 1] if t > 0 else zero_row, t, states, central)
            if not (score or bool(todo[t])):
                if after_frame is not None:
                    after_frame(t)
                continue
            uniform = torch.rand(bands, generator=generator).tolist()
            normal = torch.randn(bands, generator=generator).tolist()
            base = (self.freq_base if self.freq_base.dim() == 2 else self.freq_base[t]).unsqueeze(1).unbind(0)
            # the context's share of each layer's input gates, with the input bias, for every band at once: the
            # cell then takes it as its input bias (W_ih (h + c) + b_ih = W_ih h + (W_ih c + b_ih))
            gates = [torch.addmm(b_ih, c, w_ih_t).unbind(0) for c, (_, _, w_ih_t, b_ih, _, _, _) in
                     zip(contexts, cells, strict=True)]
            row = x[t].tolist()
            known_row = known[t].tolist()
            f_states = [x.new_zeros(1, hidden) for _ in cells]
            sampled = False
            below = 0.0
            for f in range(bands):
                h = torch.add(base[f], w_freq, alpha=below)
                for i, (w_ih, w_hh, _, _, b_hh, bias, weight) in enumerate(cells):
                    f_states[i] = torch.gru_cell(h, f_states[i], w_ih, w_hh, gates[i][f], b_hh)
                    h = torch.addmm(bias, f_states[i], weight).add_(h)
                params = torch.addmm(head_bias, h, head_weight)
                if logp is not None:
                    logp[t, f] = -net.nll(params[0], x[t, f])
                if not known_row[f]:
                    drawn = _draw(params[0].tolist(), mixtures, floor, temperature, uniform[f], normal[f])
                    row[f] = float(np.float32(drawn))  # the value the tensor will hold
                    sampled = True
                below = row[f]
            if sampled:
                x[t] = torch.tensor(row, dtype=x.dtype)
            if after_frame is not None:
                after_frame(t)
        return logp


def _generate(model: MelNet, target: np.ndarray, known: np.ndarray, temperature: float | Sequence[float],
              seed: int, progress: ProgressFn | None, cancel: Any, on_frames: FramesFn | None, chunk: int,
              score: bool = False, right: np.ndarray | None = None, median_fill: bool = False,
              compiled: bool = True) -> tuple[np.ndarray, list[torch.Tensor | None]]:
    """Fill the unknown cells of ``target`` ``(n_mels, T)`` (raw ln-mel; ``known`` same shape, bool); tier ``g``
    draws at ``temperature[g]`` (one number: every tier at it). ``right`` (same shape, bool): the cells a
    bidirectional tier 1 sees ahead of it; default: the known cells of the frames after the last frame holding an
    unknown cell (none when generation runs to the end). ``median_fill`` (an inpainting request): at temperature 0
    a model's median gap fill (``MelNet.fill``) fills the unknown cells in one pass, the tiers sample nothing.
    ``compiled``: the tiers sample with the numba kernels (False: torch calls, see :meth:`_TierRun.run`)."""
    config = model.config
    n_mels, frames = target.shape
    if n_mels != config.n_mels:
        raise MelShapeError(f"mel has {n_mels} bands; this MelNet models {config.n_mels}")
    if frames < 1:
        raise MelNetError("nothing to generate: 0 frames")
    temperatures = ([float(temperature)] * config.n_tiers if isinstance(temperature, (int, float))
                    else [float(t) for t in temperature])
    generator = torch.Generator().manual_seed(int(seed))
    model.eval()
    logps: list[torch.Tensor | None] = []
    with torch.inference_mode():
        x = model.normalise(torch.tensor(np.asarray(target, dtype=np.float32)).unsqueeze(0))[0]
        known_t = torch.from_numpy(known.T.copy())
        x = torch.where(known_t, x, torch.zeros(()))
        if model.fill is not None and median_fill and not score and all(t == 0 for t in temperatures):
            # a fill at temperature 0: the gap's medians in one pass of the fill network (module docstring)
            _check_cancel(cancel)
            x = model.fill(x.unsqueeze(0), known_t.unsqueeze(0))[0].clamp(-SAMPLE_LIMIT, SAMPLE_LIMIT)
            out = _raw(model, x, target, known)
            if on_frames is not None:
                on_frames(0, out)
            if progress is not None:
                progress(1.0, "done")
            return out, [None] * config.n_tiers
        if right is None:
            unknown_frames = np.flatnonzero(~known.all(axis=0))
            right = known.copy()
            right[:, : int(unknown_frames.max()) + 1 if unknown_frames.size else 0] = False
        right_1 = tiering.split(torch.from_numpy(right.T.copy()), config.n_tiers)[0]
        parts = [p.clone(memory_format=torch.contiguous_format) for p in tiering.split(x, config.n_tiers)]
        masks = tiering.split(known_t, config.n_tiers)
        time_index = tiering.split(torch.arange(frames).unsqueeze(1).expand(frames, n_mels), config.n_tiers)
        total = sum(int(p.shape[0]) for p in parts)
        done_frames = 0
        emitted = 0
        top = config.n_tiers - 1

        for g, net in enumerate(model.tiers):
            assert isinstance(net, TierNet)
            view = tiering.views(parts[:g], config.n_tiers)[-1] if g else None
            run = _TierRun(net, parts[g], masks[g], view, right_1 if g == 0 else None)
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
            logps.append(run.run(temperatures[g], generator, score, after, compiled))
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
           inpaint: tuple[int, int] | None = None, temperature: float = 1.0,
           tier_temperatures: Sequence[float] | None = None, seed: int = 0,
           progress: ProgressFn | None = None, cancel: Any = None, on_frames: FramesFn | None = None,
           chunk: int = 8, floor: float | None = None, threads: int | None = 1, compiled: bool = True) -> np.ndarray:
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
        temperature: ``τ >= 0``; 0 is deterministic (the most likely component's mean; a fill of a model with a
            median gap fill: its medians, see the module docstring).
        tier_temperatures: one factor ``>= 0`` per tier, coarsest first: tier ``g`` draws at ``temperature ×
            tier_temperatures[g]`` (None: 1 for every tier, the same ``τ`` everywhere).
            :data:`VOICED_TIER_TEMPERATURES` are the factors the command line and the window use.
        seed: the random seed (the same seed, model and arguments give the same output).
        progress: ``progress(fraction, "tier g/n, frame i/T")`` after each frame of each tier.
        cancel: checked between frames: an object with ``check()`` that raises (the engine's ``CancelToken``)
            or a callable returning True to stop.
        on_frames: ``on_frames(start, block)`` with final frames as they are completed (during the last tier),
            ``block`` ``(n_mels, k)`` float32 ln-mel, in order, about ``chunk`` frames at a time (a median fill's
            one pass: all at once), covering the whole output (known frames included) — e.g.
            ``lambda s, b: cancel.partial((s, b))`` in a job.
        floor: values are clamped to at least this (default: none; pass ``MelConfig.floor_ln``).
        threads: torch intra-op threads of the calling thread while sampling, restored afterwards
            (:func:`intra_op_threads`; None: unchanged). One is the fastest for MelNet's tiny ops.
        compiled: sample with the compiled per-frame kernels (:mod:`vocoder_studio.melnet.kernels`, numba); False:
            the same steps as torch calls, several times slower, equal up to float rounding (the reference the
            kernels are tested against).
    Returns:
        the ln-mel ``(n_mels, T)`` float32.
    Raises:
        MelNetError: no frames to generate, an inpainting range outside the source, a negative or non-finite
            temperature, or not one tier temperature per tier.
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
    factors = [1.0] * model.config.n_tiers if tier_temperatures is None else [float(v) for v in tier_temperatures]
    if len(factors) != model.config.n_tiers or not all(math.isfinite(v) and v >= 0 for v in factors):
        raise MelNetError(f"tier temperatures must be {model.config.n_tiers} finite numbers >= 0 (one per tier, "
                          f"coarsest first), not {list(tier_temperatures or [])}")
    with intra_op_threads(threads):
        out, _ = _generate(model, target, known, [temperature * v for v in factors], seed, progress, cancel,
                           on_frames, chunk, median_fill=inpaint is not None, compiled=compiled)
    if floor is not None:
        out = np.where(known, out, np.maximum(out, floor)).astype(np.float32)
    return out


def incremental_log_probs(model: MelNet, mel: np.ndarray, gap_end: int | None = None) -> list[torch.Tensor]:
    """Each tier's per-cell log-probability ``(T_g, F_g)`` (normalised units) computed by the *sampler's*
    incremental pass with every cell known — equal, up to float rounding, to the full forward pass's
    (``MelNet.tier_params``). ``gap_end``: a bidirectional tier 1 sees the frames from it on as its right
    context (as when a gap ending there is filled); None: no right context."""
    target = _checked(mel, model.config.n_mels, "mel")
    right = np.zeros(target.shape, bool)
    if gap_end is not None:
        right[:, gap_end:] = True
    _, logps = _generate(model, target, np.ones(target.shape, bool), 1.0, 0, None, None, None, 8, score=True,
                         right=right)
    return [lp for lp in logps if lp is not None]


def _checked(mel: np.ndarray, n_mels: int, what: str) -> np.ndarray:
    arr = np.asarray(mel)
    if arr.ndim != 2 or arr.shape[0] != n_mels:
        raise MelShapeError(f"{what}: expected a mel of shape ({n_mels}, frames), got {arr.shape}")
    if not np.isfinite(arr).all():
        raise MelShapeError(f"{what}: the mel holds non-finite values")
    return arr.astype(np.float32, copy=False)


def evaluate(model: MelNet, mels: list[np.ndarray], threads: int | None = 1) -> dict[str, Any]:
    """Mean NLL per mel cell (nats of the raw ln-mel, normalisation's log-Jacobian included) of ``mels``
    (each ``(n_mels, frames)``), in total and per tier (each tier's mean over its own cells), on ``threads``
    intra-op threads (:func:`intra_op_threads`).

    Returns:
        ``{"nll_per_cell": x, "tiers": [t1, …], "cells": N, "files": len(mels)}``.
    Raises:
        MelShapeError: a mel of the wrong shape or with non-finite values.
    """
    n_tiers = model.config.n_tiers
    sums, counts = np.zeros(n_tiers), np.zeros(n_tiers)
    model.eval()
    with torch.inference_mode(), intra_op_threads(threads):
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


def evaluate_inpainting(model: MelNet, mels: list[np.ndarray], gap: int, temperature: float = FILL_TEMPERATURE,
                        seed: int = 0, floor: float | None = None, threads: int | None = 1) -> dict[str, Any]:
    """Fill a gap of ``gap`` frames in the middle of each mel and score it against the truth and against linear
    interpolation across the gap (all figures in ln-mel units, mean absolute difference per cell).

    For each mel ``(n_mels, T)`` with ``T >= gap + 2`` the gap is frames ``[s, s + gap)`` with ``s = (T - gap) // 2``;
    MelNet refills it at ``temperature`` (:func:`sample` with ``inpaint``), the baseline draws straight lines per
    band from frame ``s - 1`` to frame ``s + gap``.

    Returns:
        ``{"clips", "gap_frames", "temperature", "fill_l1", "linear_l1", "fill_edge_l1", "linear_edge_l1",
        "true_edge_l1", "natural_l1"}``: ``*_l1`` the error of the gap's cells against the truth; ``*_edge_l1``
        the mean over both gap edges of the L1 between the two frames meeting there (``s - 1``/``s`` and
        ``s + gap - 1``/``s + gap``) — the boundary discontinuity —, ``true_edge_l1`` the same in the original,
        ``natural_l1`` the original's mean frame-to-frame L1 over whole clips; plus ``"per_clip"`` rows.
    Raises:
        MelNetError: ``gap`` < 1 or no mel long enough.
    """
    if gap < 1:
        raise MelNetError(f"inpainting gap must be at least one frame, not {gap}")
    rows = []
    for i, mel in enumerate(mels):
        truth = _checked(mel, model.config.n_mels, f"mel {i}")
        frames = truth.shape[1]
        if frames < gap + 2:
            continue
        s, e = (frames - gap) // 2, (frames - gap) // 2 + gap
        fill = sample(model, source=truth, inpaint=(s, e), temperature=temperature, seed=seed + i, floor=floor,
                      threads=threads)
        weights = np.arange(1, gap + 1, dtype=np.float32) / (gap + 1)
        linear = truth.copy()
        linear[:, s:e] = truth[:, s - 1: s] + (truth[:, e: e + 1] - truth[:, s - 1: s]) * weights

        def edges(m: np.ndarray, s: int = s, e: int = e) -> float:
            return float((np.abs(m[:, s] - m[:, s - 1]).mean() + np.abs(m[:, e] - m[:, e - 1]).mean()) / 2)

        rows.append({"frames": frames, "gap": (s, e),
                     "fill_l1": float(np.abs(fill[:, s:e] - truth[:, s:e]).mean()),
                     "linear_l1": float(np.abs(linear[:, s:e] - truth[:, s:e]).mean()),
                     "fill_edge_l1": edges(fill), "linear_edge_l1": edges(linear), "true_edge_l1": edges(truth),
                     "natural_l1": float(np.abs(np.diff(truth, axis=1)).mean())})
    if not rows:
        raise MelNetError(f"no mel is long enough for a {gap}-frame gap with a frame on each side")
    keys = ("fill_l1", "linear_l1", "fill_edge_l1", "linear_edge_l1", "true_edge_l1", "natural_l1")
    return {"clips": len(rows), "gap_frames": gap, "temperature": temperature,
            **{k: float(np.mean([r[k] for r in rows])) for k in keys}, "per_clip": rows}
