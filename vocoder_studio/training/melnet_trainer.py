"""The shared trainer with MelNet's two differences: the per-band normalisation is fitted once on the training
pack before the first step, and validation reports the held-out NLL per mel cell (nats of the raw ln-mel, per
tier and in total) instead of vocoding scores (MelNet makes mels, it does not vocode them)."""

from __future__ import annotations

import numpy as np
import torch

from vocoder_studio.audio.mel import wav_to_mel
from vocoder_studio.melnet.model import MelNet
from vocoder_studio.training.corpus import Pack
from vocoder_studio.training.trainer import Trainer


def normalisation_mel(pack: Pack, clips: int = 64, max_seconds: float = 6.0) -> np.ndarray:
    """ln-mels ``(n_mels, frames)`` of ``clips`` clips spread evenly over ``pack`` (each cut to ``max_seconds``),
    end to end: the data the per-band mean and deviation are taken from (deterministic, no random state)."""
    mels = []
    for index in np.linspace(0, len(pack) - 1, num=min(clips, len(pack))).astype(int):
        clip = pack.clip(int(index))[: int(max_seconds * pack.sample_rate)]
        if clip.size >= 2048:
            mels.append(wav_to_mel(clip))
    return np.concatenate(mels, axis=1)


class MelNetTrainer(Trainer):
    """:class:`Trainer` for a :class:`MelNet` recipe (same arguments)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        model = self.model
        assert isinstance(model, MelNet)
        if not bool(model.normalised):  # a fresh run (a resumed one has the buffers in its checkpoint)
            model.set_normalisation(torch.from_numpy(normalisation_mel(self.sampler.pack)).to(self.device))

    def validate(self) -> dict[str, float]:
        """Mean NLL per cell of the held-out clips (``nll``) and per tier (``nll_tier1`` …); appended to
        ``valid.csv``."""
        if not self.valid:
            return {}
        model = self.model
        assert isinstance(model, MelNet)
        model.eval()
        total, count = 0.0, 0
        tiers = np.zeros(model.config.n_tiers)
        tier_cells = np.zeros(model.config.n_tiers)
        with torch.no_grad():
            for clip in self.valid:
                mel = torch.from_numpy(wav_to_mel(clip, self.config)).unsqueeze(0).to(self.device)
                cells = model.cell_nll(mel)
                for g, c in enumerate(cells):
                    assert c is not None
                    tiers[g] += float(c.sum())
                    tier_cells[g] += c.numel()
                total += sum(float(c.sum()) for c in cells if c is not None)
                count += mel.numel()
        scores = {"nll": total / count, **{f"nll_tier{g + 1}": tiers[g] / tier_cells[g] for g in range(len(tiers))}}
        row = {"step": self.state.step, "seconds": round(self.state.elapsed_s, 1),
               **{k: round(float(v), 5) for k, v in scores.items()}}
        self.state.history.append(row)
        self._append_csv("valid.csv", row)
        return scores
