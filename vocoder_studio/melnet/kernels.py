"""MelNet's incremental sampling step compiled with numba: one call per frame of a tier runs its time-delayed and
centralized stacks one step (:meth:`~vocoder_studio.melnet.sampling._TierRun._time_step`'s arithmetic) and then,
band by band, the frequency-delayed stack, the mixture head and the draw (``_TierRun.run``'s inner loop and
``sampling._draw``), in float32 as the torch calls do (the draw in float64, as the Python floats do).

The torch path costs a dozen small-tensor calls per cell, each a few microseconds of dispatch for a few thousand
multiply-adds; here a cell costs its arithmetic. Results equal the torch path up to float rounding (the sums run
in another order than MKL's): tested against it on fixed seeds (tests/melnet/test_sampling_compiled.py).

Weights are passed pre-transposed, ``(in, out)``, so that each matrix-vector product runs as rows of
independent multiply-adds over the outputs, which LLVM vectorises without reassociating any sum. A GRU follows
torch's gate order and formulas (Cho et al. 2014, as ``torch.nn.GRU`` documents them): ``r, z, n``,
``n = tanh(W_in x + b_in + r (W_hn h + b_hn))``, ``h' = (h - n) z + n``.

``cache=True``: the first call of a fresh install compiles for some seconds, later processes load the cache;
numba is imported when this module is, so import it only when sampling runs.
"""

from __future__ import annotations

import math

import numba
import numpy as np

ONE = np.float32(1.0)
TWO = np.float32(2.0)


@numba.njit(cache=True, nogil=True)
def _affine(out: np.ndarray, bias: np.ndarray, wt: np.ndarray, v: np.ndarray) -> None:
    """``out = bias + v @ wt``: ``wt`` ``(in, out)``, ``v`` ``(in,)``, ``bias`` and ``out`` ``(out,)``."""
    n = out.shape[0]
    for j in range(n):
        out[j] = bias[j]
    for k in range(wt.shape[0]):
        vk = v[k]
        for j in range(n):
            out[j] += wt[k, j] * vk


@numba.njit(cache=True, nogil=True)
def _gru_cell(x: np.ndarray, h: np.ndarray, out: np.ndarray, wih: np.ndarray, whh: np.ndarray, bih: np.ndarray,
              bhh: np.ndarray, gi: np.ndarray, gh: np.ndarray) -> None:
    """One GRU step of input ``x`` from state ``h`` into ``out`` (may be ``h``); ``gi``/``gh`` ``(3H,)`` scratch."""
    _affine(gi, bih, wih, x)
    _affine(gh, bhh, whh, h)
    hid = h.shape[0]
    for j in range(hid):
        r = ONE / (ONE + math.exp(-(gi[j] + gh[j])))
        z = ONE / (ONE + math.exp(-(gi[hid + j] + gh[hid + j])))
        n = ONE - TWO / (math.exp(TWO * (gi[2 * hid + j] + r * gh[2 * hid + j])) + ONE)  # tanh
        out[j] = (h[j] - n) * z + n


@numba.njit(cache=True, nogil=True)
def _draw(params: np.ndarray, weights: np.ndarray, mixtures: int, log_scale_min: float, temperature: float,
          uniform: float, normal: float, limit: float) -> float:
    """``sampling._draw`` on a head's output ``params`` ``(3K,)`` float32, in float64 (``weights`` ``(K,)``
    float64 scratch)."""
    best = 0
    for k in range(1, mixtures):
        if params[2 * mixtures + k] > params[2 * mixtures + best]:
            best = k
    if temperature <= 0:
        value = float(params[best])
    else:
        top = float(params[2 * mixtures + best])
        total = 0.0
        for k in range(mixtures):
            weights[k] = math.exp((float(params[2 * mixtures + k]) - top) / temperature)
            total += weights[k]
        goal, running, pick = uniform * total, 0.0, mixtures - 1
        for k in range(mixtures):
            running += weights[k]
            if running >= goal:
                pick = k
                break
        scale = math.exp(max(float(params[mixtures + pick]), log_scale_min))
        value = float(params[pick]) + scale * temperature * normal
    return min(max(value, -limit), limit)


@numba.njit(cache=True, nogil=True)
def time_step(x_prev: np.ndarray, base: np.ndarray, closeness: np.ndarray, future: np.ndarray, outs: np.ndarray,
              states: np.ndarray, central: np.ndarray, w_time: np.ndarray, w_previous: np.ndarray,
              bi_wih: np.ndarray, bi_whh: np.ndarray, bi_bih: np.ndarray, bi_bhh: np.ndarray, t_wih: np.ndarray,
              t_whh: np.ndarray, t_bih: np.ndarray, t_bhh: np.ndarray, proj_w: np.ndarray, proj_b: np.ndarray,
              c_w: np.ndarray, c_b: np.ndarray, c_wih: np.ndarray, c_whh: np.ndarray, c_bih: np.ndarray,
              c_bhh: np.ndarray, c_proj_w: np.ndarray, c_proj_b: np.ndarray) -> None:
    """Advance the time-delayed stack (and the centralized one, where ``central`` has layers) by one frame whose
    previous frame is ``x_prev`` ``(F,)``; write each layer's context for the frequency stack into ``outs``
    ``(L, F, H)``.

    ``base`` ``(F, H)``: layer 0's input without the previous value's term; ``closeness`` ``(F, 3)`` and
    ``w_previous`` ``(3, H)``: the future stack's previous-value term (``closeness`` with no rows: none).
    Per layer ``i``: ``bi_*[i, d]`` the frequency GRU of direction ``d`` (0 up, 1 down), ``t_*[i]`` the time GRU,
    ``proj_*[i]`` the projection ``(3H, H)``; ``states`` ``(L, F, H)`` the time GRU's states, replaced.
    ``c_w`` ``(F, H)`` and ``c_b`` the centralized input, ``c_*[i]`` its GRU and projection, ``central``
    ``(Lc, H)`` its states, replaced (``Lc`` 0: no centralized stack). ``future`` ``(L, H)`` (no rows: none).
    """
    bands, hid = base.shape
    layers = states.shape[0]
    h = np.empty((bands, hid), np.float32)
    for f in range(bands):
        xf = x_prev[f]
        for j in range(hid):
            h[f, j] = base[f, j] + xf * w_time[j]
    if closeness.shape[0]:
        for f in range(bands):
            for k in range(closeness.shape[1]):
                v = x_prev[f] * closeness[f, k]
                for j in range(hid):
                    h[f, j] += v * w_previous[k, j]
    gi = np.empty(3 * hid, np.float32)
    gh = np.empty(3 * hid, np.float32)
    along = np.empty((bands, 3 * hid), np.float32)
    state = np.zeros(hid, np.float32)
    row = np.empty(hid, np.float32)
    for i in range(layers):
        for d in range(2):  # the bidirectional GRU along frequency: up the bands, then down
            state[:] = 0
            for s in range(bands):
                f = s if d == 0 else bands - 1 - s
                _gru_cell(h[f], state, state, bi_wih[i, d], bi_whh[i, d], bi_bih[i, d], bi_bhh[i, d], gi, gh)
                along[f, d * hid: (d + 1) * hid] = state
        for f in range(bands):  # the GRU along time, every band one step
            _gru_cell(h[f], states[i, f], states[i, f], t_wih[i], t_whh[i], t_bih[i], t_bhh[i], gi, gh)
            along[f, 2 * hid:] = states[i, f]
        for f in range(bands):
            _affine(row, proj_b[i], proj_w[i], along[f])
            for j in range(hid):
                h[f, j] = row[j] + h[f, j]
        outs[i] = h
    if central.shape[0]:
        c = np.empty(hid, np.float32)
        _affine(c, c_b, c_w, x_prev)
        for i in range(central.shape[0]):
            _gru_cell(c, central[i], central[i], c_wih[i], c_whh[i], c_bih[i], c_bhh[i], gi, gh)
            _affine(row, c_proj_b[i], c_proj_w[i], central[i])
            for j in range(hid):
                c[j] = row[j] + c[j]
            for f in range(bands):
                for j in range(hid):
                    outs[i, f, j] += c[j]
    if future.shape[0]:
        for i in range(layers):
            for f in range(bands):
                for j in range(hid):
                    outs[i, f, j] += future[i, j]


@numba.njit(cache=True, nogil=True)
def freq_frame(row: np.ndarray, known: np.ndarray, contexts: np.ndarray, base: np.ndarray, uniform: np.ndarray,
               normal: np.ndarray, temperature: float, w_freq: np.ndarray, wih: np.ndarray, whh: np.ndarray,
               bih: np.ndarray, bhh: np.ndarray, proj_w: np.ndarray, proj_b: np.ndarray, head_w: np.ndarray,
               head_b: np.ndarray, mixtures: int, log_scale_min: float, limit: float) -> None:
    """Sample the unknown cells of one frame ``row`` ``(F,)`` (normalised, in place; ``known`` ``(F,)`` bool)
    band by band: the frequency-delayed stack over ``contexts`` ``(L, F, H)`` (the time stacks' output), layer
    0's input ``base[f] + w_freq × (the value below)``, the head ``(H, 3K)`` and the draw of band ``f`` with
    ``uniform[f]`` and ``normal[f]`` (``sampling._draw``). Per layer ``i``: the GRU ``wih[i]``, ``whh[i]``
    ``(H, 3H)``, ``bih[i]``, ``bhh[i]`` and the projection ``proj_w[i]`` ``(H, H)``, ``proj_b[i]``."""
    bands, hid = base.shape
    layers = contexts.shape[0]
    gates = np.empty((layers, bands, 3 * hid), np.float32)
    for i in range(layers):  # each layer's context share of the input gates, for every band at once
        for f in range(bands):
            _affine(gates[i, f], bih[i], wih[i], contexts[i, f])
    states = np.zeros((layers, hid), np.float32)
    h = np.empty(hid, np.float32)
    out = np.empty(hid, np.float32)
    gi = np.empty(3 * hid, np.float32)
    gh = np.empty(3 * hid, np.float32)
    params = np.empty(head_b.shape[0], np.float32)
    weights = np.empty(mixtures)
    below = np.float32(0.0)
    for f in range(bands):
        for j in range(hid):
            h[j] = base[f, j] + w_freq[j] * below
        for i in range(layers):
            _gru_cell(h, states[i], states[i], wih[i], whh[i], gates[i, f], bhh[i], gi, gh)
            _affine(out, proj_b[i], proj_w[i], states[i])
            for j in range(hid):
                h[j] = out[j] + h[j]
        if not known[f]:
            _affine(params, head_b, head_w, h)
            row[f] = np.float32(_draw(params, weights, mixtures, log_scale_min, temperature, float(uniform[f]),
                                      float(normal[f]), limit))
        below = row[f]


def warm_up() -> None:
    """Load (or, on a fresh install, compile) the kernels for the argument types the sampler passes, on tiny
    arrays: a caller about to sample in a hurry (a live continuation) pays numba's start here instead."""
    z = np.zeros
    f32 = np.float32
    x, hid, layers = z(2, f32), 2, 1
    time_step(x, z((2, hid), f32), z((2, 3), f32), z((layers, hid), f32), z((layers, 2, hid), f32),
              z((layers, 2, hid), f32), z((layers, hid), f32), z(hid, f32), z((3, hid), f32),
              z((layers, 2, hid, 3 * hid), f32), z((layers, 2, hid, 3 * hid), f32), z((layers, 2, 3 * hid), f32),
              z((layers, 2, 3 * hid), f32), z((layers, hid, 3 * hid), f32), z((layers, hid, 3 * hid), f32),
              z((layers, 3 * hid), f32), z((layers, 3 * hid), f32), z((layers, 3 * hid, hid), f32),
              z((layers, hid), f32), z((2, hid), f32), z(hid, f32), z((layers, hid, 3 * hid), f32),
              z((layers, hid, 3 * hid), f32), z((layers, 3 * hid), f32), z((layers, 3 * hid), f32),
              z((layers, hid, hid), f32), z((layers, hid), f32))
    freq_frame(z(2, f32), np.ones(2, bool), z((layers, 2, hid), f32), z((2, hid), f32), z(2, f32), z(2, f32), 1.0,
               z(hid, f32), z((layers, hid, 3 * hid), f32), z((layers, hid, 3 * hid), f32), z((layers, 3 * hid), f32),
               z((layers, 3 * hid), f32), z((layers, hid, hid), f32), z((layers, hid), f32), z((hid, 3), f32),
               z(3, f32), 1, -5.0, 8.0)
