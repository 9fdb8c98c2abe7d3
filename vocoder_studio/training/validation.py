"""Validation scores of a model under training: each held-out clip's mel vocoded and scored against the clip
(:mod:`vocoder_studio.evaluation.metrics`). The clips themselves are
:func:`vocoder_studio.training.data.validation_clips`.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig, wav_to_mel

#: The validation PESQ-wb of a clip the ``pesq`` package refuses (silence-like output): the scale's floor.
PESQ_FLOOR = 1.0


def score_clips(clips: list[np.ndarray], vocode: Callable[[np.ndarray], np.ndarray],
                config: MelConfig = DEFAULT_CONFIG) -> dict[str, float]:
    """Mean scores of ``vocode(mel) -> audio`` against the original clips: ``mel_l1`` always, ``pesq_wb`` and
    ``stoi`` when their packages are installed (after alignment, :mod:`vocoder_studio.evaluation.metrics`)."""
    from vocoder_studio.evaluation import metrics

    scores: dict[str, list[float]] = {"mel_l1": [], "pesq_wb": [], "stoi": []}
    scored = not metrics.missing_packages(metrics.SCORERS)
    for clip in clips:
        audio = vocode(wav_to_mel(clip, config))
        scores["mel_l1"].append(metrics.log_mel_l1(clip, audio))
        if not scored:
            continue
        pesq = metrics.pesq_wb_or_none(clip, audio, config.sample_rate)
        if pesq is None:  # PESQ refuses silence-like output of an untrained model: score it as the floor
            scores["pesq_wb"].append(PESQ_FLOOR)
            continue
        scores["pesq_wb"].append(pesq)
        scores["stoi"].append(metrics.stoi(clip, audio, config.sample_rate))
    return {k: float(np.mean(v)) for k, v in scores.items() if v}
