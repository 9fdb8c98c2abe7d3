"""MelNet (Vasquez & Lewis 2019): a multiscale autoregressive model of mel-spectrograms that generates,
continues and inpaints them. ``model`` (the network and its NLL), ``tiers`` (the multiscale split), ``sample``
(incremental sampling), ``checkpoint`` (save/load), ``baselines`` (simple densities to compare against)."""

from __future__ import annotations

from vocoder_studio.melnet.checkpoint import load_model, save_model
from vocoder_studio.melnet.model import MelNet, MelNetConfig, MelNetError
from vocoder_studio.melnet.sampling import (
    evaluate,
    evaluate_inpainting,
    incremental_log_probs,
    intra_op_threads,
    sample,
)

__all__ = ["MelNet", "MelNetConfig", "MelNetError", "evaluate", "evaluate_inpainting", "incremental_log_probs",
           "intra_op_threads", "load_model", "sample", "save_model"]
