"""Three simple densities of ln-mels, fitted on training mels, for comparison with MelNet's NLL (nats per cell
of the raw ln-mel, on exactly the same cells: every cell of every given mel).

- :class:`BandGaussian`: each band an independent Gaussian;
- :class:`PreviousFrame`: "repeat the previous frame" plus a per-band Gaussian residual;
- :class:`LinearPredictor`: per band, a linear Gaussian on the whole previous frame and the lower bands of the
  current frame (least squares) — the strong one.

The frame before a mel's first frame is taken to be the training mean of each band (for the last two).
Mels are ``(n_mels, frames)`` float arrays.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

HALF_LOG_2PI = 0.5 * math.log(2.0 * math.pi)


def _gaussian_nll(residual: np.ndarray, var: np.ndarray) -> np.ndarray:
    """Per-cell NLL ``(n_mels, T)`` of residuals under zero-mean Gaussians of per-band variances ``(n_mels,)``."""
    return HALF_LOG_2PI + 0.5 * np.log(var)[:, None] + 0.5 * residual**2 / var[:, None]


def _previous(mel: np.ndarray, mean: np.ndarray) -> np.ndarray:
    return np.concatenate([mean[:, None], mel[:, :-1]], axis=1)


class Baseline:
    """A fitted density: :meth:`cell_nll` per cell, :meth:`nll` the mean over all cells of the given mels."""

    name = "baseline"

    def cell_nll(self, mel: np.ndarray) -> np.ndarray:
        raise NotImplementedError

    def nll(self, mels: Sequence[np.ndarray]) -> float:
        """Mean NLL per cell (nats) over every cell of ``mels``."""
        total = sum(float(self.cell_nll(np.asarray(m, np.float64)).sum()) for m in mels)
        return total / sum(np.asarray(m).size for m in mels)


class BandGaussian(Baseline):
    name = "band_gaussian"

    def __init__(self, mels: Sequence[np.ndarray]) -> None:
        data = np.concatenate([np.asarray(m, np.float64) for m in mels], axis=1)
        self.mean = data.mean(axis=1)
        self.var = data.var(axis=1) + 1e-6

    def cell_nll(self, mel: np.ndarray) -> np.ndarray:
        return _gaussian_nll(mel - self.mean[:, None], self.var)


class PreviousFrame(Baseline):
    name = "previous_frame"

    def __init__(self, mels: Sequence[np.ndarray]) -> None:
        self.mean = BandGaussian(mels).mean
        res = np.concatenate([np.asarray(m, np.float64) - _previous(np.asarray(m, np.float64), self.mean)
                              for m in mels], axis=1)
        self.var = (res**2).mean(axis=1) + 1e-6

    def cell_nll(self, mel: np.ndarray) -> np.ndarray:
        return _gaussian_nll(mel - _previous(mel, self.mean), self.var)


class LinearPredictor(Baseline):
    name = "linear"

    def __init__(self, mels: Sequence[np.ndarray], ridge: float = 1e-3) -> None:
        self.mean = BandGaussian(mels).mean
        n = self.mean.size
        feats = np.concatenate([self._features(np.asarray(m, np.float64)) for m in mels], axis=1)  # (2n+1, N)
        target = np.concatenate([np.asarray(m, np.float64) for m in mels], axis=1)                # (n, N)
        self.weights = np.zeros((n, 2 * n + 1))
        self.var = np.zeros(n)
        gram = feats @ feats.T
        cross = target @ feats.T
        for band in range(n):
            used = np.r_[np.arange(n), n + np.arange(band), 2 * n]  # previous frame, lower bands, bias
            a = gram[np.ix_(used, used)] + ridge * np.eye(used.size)
            w = np.linalg.solve(a, cross[band, used])
            self.weights[band, used] = w
            res = target[band] - w @ feats[used]
            self.var[band] = float((res**2).mean()) + 1e-6

    def _features(self, mel: np.ndarray) -> np.ndarray:
        return np.concatenate([_previous(mel, self.mean), mel, np.ones((1, mel.shape[1]))], axis=0)

    def cell_nll(self, mel: np.ndarray) -> np.ndarray:
        # the weights on the current frame are zero at and above each band (strictly lower bands only)
        return _gaussian_nll(mel - self.weights @ self._features(mel), self.var)


def fit_all(mels: Sequence[np.ndarray]) -> list[Baseline]:
    """The three baselines fitted on ``mels``."""
    return [BandGaussian(mels), PreviousFrame(mels), LinearPredictor(mels)]
