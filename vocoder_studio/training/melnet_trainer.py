"""The shared trainer with MelNet's differences: the per-band normalisation is fitted once on the training pack
before the first step; validation reports the held-out NLL per mel cell (nats of the raw ln-mel, per tier and in
total) instead of vocoding scores (MelNet makes mels, it does not vocode them); one tier can train alone (the
recipe's ``tier``: the other tiers are frozen); and it runs DistributedDataParallel when a process group is up.

Distributed training (``torchrun --nproc_per_node=N -m vocoder_studio train melnet …``, gloo on the CPU, NCCL on
GPUs): every rank draws the same global batch of ``N × batch_size`` segments from the same seeded sampler and
trains on its own slice, DDP averaging the gradients, so the ranks keep identical weights and the run equals a
single process with an ``N`` times larger batch (up to float rounding). Because the sampler's state is the same on
every rank, rank 0's checkpoint resumes all of them exactly. Rank 0 alone validates and writes checkpoints and
logs. A wall-clock budget (``minutes``) is agreed on every step (the ranks stop after the same step).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch.nn.parallel import DistributedDataParallel

from vocoder_studio.audio.mel import wav_to_mel
from vocoder_studio.melnet.model import MelNet, MelNetConfig, MelNetError
from vocoder_studio.training.corpus import Pack
from vocoder_studio.training.trainer import Trainer, TrainingError, load_fitting


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
    """:class:`Trainer` for a :class:`MelNet` recipe (same arguments). Under an initialised process group of more
    than one rank it trains DistributedDataParallel (see the module docstring)."""

    def __init__(self, *args: object, **kwargs: object) -> None:
        super().__init__(*args, **kwargs)  # type: ignore[arg-type]
        model = self.model
        assert isinstance(model, MelNet)
        if not bool(model.normalised):  # a fresh run (a resumed one has the buffers in its checkpoint)
            model.set_normalisation(torch.from_numpy(normalisation_mel(self.sampler.pack)).to(self.device))
        tier = getattr(self.recipe, "tier", None)
        #: the tier trained alone (0-based), or None for all of them
        self.only: int | None = None if tier is None else int(tier) - 1
        if self.only is not None:  # the other tiers keep their initial weights and get no gradients
            for g, net in enumerate(model.tiers):
                net.requires_grad_(g == self.only)
        if getattr(self.recipe, "future_only", False):  # an adapter: only tier 1's future stack trains
            future = model.tiers[0].future
            if future is None:
                raise TrainingError("future_only needs a bidirectional MelNet (config bidirectional: true)")
            model.requires_grad_(False)
            future.requires_grad_(True)
        self.ddp: DistributedDataParallel | None = None
        if self.world > 1:  # MelNet's loss is its forward pass: the DistributedDataParallel wrapper itself
            ids = ([torch.cuda.current_device() if self.device.index is None else self.device.index]
                   if self.device.type == "cuda" else None)
            self.ddp = DistributedDataParallel(model, device_ids=ids)

    def warm_start(self, path: Path) -> tuple[int, int]:
        """Copy into the model every tensor of the MelNet checkpoint ``path`` whose name and shape match (the
        normalisation included): a new run that starts from a trained model, e.g. to retrain some tiers with other
        training settings. A tier this model has wider than the checkpoint's is widened first so that it starts
        as the same function (:func:`vocoder_studio.melnet.widen.widen_tier`, seed 0); a narrower one is refused
        when this model's config sets the widths (``tier_hidden``). Call it before the first step; the optimiser
        starts fresh.

        Returns:
            ``(copied, total)``: tensors copied, tensors in this model's state dict.
        Raises:
            TrainingError: an unreadable checkpoint, one of which no tensor fits, or a tier ``tier_hidden`` makes
                narrower than the checkpoint's.
        """
        from vocoder_studio.melnet.checkpoint import load_model
        from vocoder_studio.melnet.widen import widen_tier

        model = self.model
        assert isinstance(model, MelNet)
        try:
            loaded = load_model(path)
            for g in range(model.config.n_tiers):
                width = model.config.tier_width(g)
                if width > loaded.config.tier_width(g) or (model.config.tier_hidden and
                                                             width != loaded.config.tier_width(g)):
                    loaded = widen_tier(loaded, g, width)  # refuses a narrower tier that tier_hidden asks for
        except MelNetError as exc:
            raise TrainingError(str(exc)) from None
        source = loaded.state_dict()
        return load_fitting(self.model, source, f"{path}: no weight of this MelNet fits the model being trained")

    def train_step(self) -> dict[str, float]:
        """One optimisation step; under DDP on this rank's slice of the shared global batch."""
        if self.ddp is None:
            return super().train_step()
        self.model.train()
        self._schedule_learning_rates()
        size = self.settings.batch_size
        audio = self.sampler.batch(size * self.world)[self.rank * size: (self.rank + 1) * size]
        batch = torch.from_numpy(audio).to(self.device)
        with torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda"):
            with torch.no_grad():
                mel = wav_to_mel(batch, self.config)
            loss, per_tier = self.ddp(mel.float(), self.only, float(getattr(self.recipe, "input_noise", 0.0)),
                                      float(getattr(self.recipe, "own_draws", 0.0)))
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        terms = {f"nll_tier{g + 1}": v for g, v in enumerate(per_tier) if v == v}
        if self.settings.grad_clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.grad_clip)
            terms["grad_norm"] = float(norm)
        self.optimizer.step()
        self.state.step += 1
        return {"loss": float(loss.detach()), **terms}

    def validate(self) -> dict[str, float]:
        """Mean NLL per cell of the held-out clips (``nll``) and per tier (``nll_tier1`` …); appended to
        ``valid.csv`` (rank 0 only under DDP; the others return ``{}``)."""
        if not self.valid or self.rank != 0:
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


def merge_tier_runs(run_dirs: list[Path], base: MelNet | None = None) -> tuple[MelNet, dict[str, Any]]:
    """One MelNet from per-tier runs (``train melnet --tier N``, one run folder per tier, in any order): tier
    ``g``'s weights (and width, ``MelNetConfig.tier_hidden``) from the run that trained tier ``g``; the
    normalisation, fitted the same way in every run, from the first (it must agree across runs). With ``base`` (a
    whole model, e.g. the shipped one) the runs may give some tiers only: the other tiers (with their widths), and
    every tensor the runs do not hold (the gap fill ``fill.*``), stay ``base``'s; the runs' tier shapes (but for
    a widened tier's width) and normalisation must be ``base``'s.

    Returns:
        the model (eval mode) and what the runs did: ``{"tier_steps": [...], "tier_seconds": [...],
        "tier_input_noise": [...], "scores": {"nll_tier1": ..., ...}, "run_tiers": [...]}`` (each tier's last
        validation NLL from its own run; its ``input_noise``, 0 for plain teacher forcing; a tier kept from
        ``base`` has 0 steps and seconds and no score; ``run_tiers``: the 1-based tiers the runs gave).
    Raises:
        TrainingError: an unreadable checkpoint, a run of all tiers or of another model, different configs or
            normalisations, a tier given twice or missing (without ``base``).
    """
    runs: dict[int, dict[str, Any]] = {}
    config: MelNetConfig | None = None
    for folder in run_dirs:
        path = Path(folder) / "checkpoint.pt"
        try:
            data = torch.load(path, map_location="cpu", weights_only=False)
            identity = data["identity"]
            hyper = dict(identity["hyperparameters"])
        except Exception as exc:
            raise TrainingError(f"{path}: unreadable training checkpoint ({exc})") from None
        tier = hyper.pop("tier", None)
        hyper.pop("future_only", None)
        noise = float(hyper.pop("input_noise", 0.0))
        hyper.pop("own_draws", None)
        if identity.get("model") != "melnet" or tier is None:
            raise TrainingError(f"{path}: not a single-tier MelNet run (train melnet --tier N)")
        try:
            this = MelNetConfig.from_dict({k: tuple(v) if k == "layers" else v for k, v in hyper.items()}, str(path))
        except MelNetError as exc:
            raise TrainingError(str(exc)) from None
        if not 1 <= int(tier) <= this.n_tiers:
            raise TrainingError(f"{path}: tier {tier} is not one of this MelNet's tiers 1-{this.n_tiers}")
        width = this.tier_width(int(tier) - 1)
        this = replace(this, tier_hidden=())  # each run brings its own tier's width; the rest must agree
        if config is not None and this != config:
            raise TrainingError(f"{path}: another MelNet config than the other runs ({this} vs {config})")
        if int(tier) in runs:
            raise TrainingError(f"{path}: tier {tier} is given twice")
        config = this
        runs[int(tier)] = {**data, "input_noise": noise, "width": width}
    if base is not None and config is not None:
        shape = ("n_mels", "n_tiers", "layers", "hidden", "mixtures", "log_scale_min")
        if any(getattr(config, k) != getattr(base.config, k) for k in shape):
            raise TrainingError(f"merging MelNet tiers: the runs' tiers are not shaped as the base model's "
                                f"({config} vs {base.config})")
        config = base.config
    if config is None or (base is None and sorted(runs) != list(range(1, config.n_tiers + 1))):
        have = sorted(runs)
        raise TrainingError(f"merging MelNet tiers: need one run for each of tiers 1-"
                            f"{config.n_tiers if config else '?'}, got {have}")
    if max(runs) > config.n_tiers:
        raise TrainingError(f"merging MelNet tiers: tier {max(runs)} of a {config.n_tiers}-tier model")
    for tier, data in runs.items():
        config = config.with_tier_width(tier - 1, int(data["width"]))
    model = MelNet(config)
    first = base.state_dict() if base is not None else runs[min(runs)]["model"]
    state = dict(first) if base is not None else {k: v for k, v in first.items() if not k.startswith("tiers.")}
    for tier, data in runs.items():
        weights = data["model"]
        for key in ("band_mean", "band_std"):
            if not torch.equal(weights[key], first[key]):
                raise TrainingError(f"merging MelNet tiers: tier {tier}'s run has another normalisation ({key})")
        prefix = f"tiers.{tier - 1}."
        state.update({k: v for k, v in weights.items() if k.startswith(prefix)})
    model.load_state_dict(state)
    info: dict[str, Any] = {"tier_steps": [], "tier_seconds": [], "tier_input_noise": [], "scores": {},
                            "run_tiers": sorted(runs)}
    for tier in range(1, config.n_tiers + 1):
        if tier not in runs:  # kept from the base model
            info["tier_input_noise"].append(0.0)
            info["tier_steps"].append(0)
            info["tier_seconds"].append(0.0)
            continue
        run_state = runs[tier]["state"]
        info["tier_input_noise"].append(runs[tier]["input_noise"])
        info["tier_steps"].append(int(run_state["step"]))
        info["tier_seconds"].append(float(run_state["elapsed_s"]))
        last = run_state["history"][-1] if run_state["history"] else {}
        if f"nll_tier{tier}" in last:
            info["scores"][f"nll_tier{tier}"] = float(last[f"nll_tier{tier}"])
    return model.eval(), info
