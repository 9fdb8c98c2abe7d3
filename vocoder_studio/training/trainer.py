"""One trainer for every trainable vocoder: random speech segments, exact resume, a CSV log with validation
scores, a wall-clock budget, CPU or one GPU.

A model plugs in as a :class:`Recipe` (build the network, its loss on a batch of audio, and how it vocodes a
mel for validation). The trainer owns everything else:

- **data**: random segments of the training pack (:class:`~vocoder_studio.training.data.SegmentSampler`), drawn
  by a seeded ``numpy`` generator whose state is part of the checkpoint (the "data position");
- **exact resume**: the checkpoint holds the model, the optimiser, the step, the sampler's and torch's random
  states and the elapsed time; a run stopped and resumed reaches the same weights as one that never stopped
  (tested bit for bit on the CPU);
- **logs**: ``log.csv`` (step, seconds, learning rate, each loss term) and ``valid.csv`` (step, mel-L1 and,
  where the ``pesq``/``pystoi`` packages are present, PESQ-wb and STOI on held-out clips);
- **budget**: stops itself after ``minutes`` (or ``steps``), saving a checkpoint; it also saves every
  ``checkpoint_every_s`` seconds, atomically, so a killed run loses little;
- **speed**: bf16 autocast and TF32 on a GPU; float32 on the CPU (emulated bf16 is far slower there);
- **adversarial training** (optional): a recipe that also follows :class:`AdversarialRecipe` declares a
  discriminator, its loss and the generator's loss against it, and :class:`DiscriminatorSettings` (its
  optimiser and the step it turns on at). Before that step the trainer runs the recipe's plain ``loss`` (a
  generator warm-up; the discriminator is not even built); from it on, each step updates the discriminator on
  real and detached generated audio, then the generator. The discriminator and its optimiser join the
  checkpoint once they exist, so resume stays exact; a checkpoint without them (a generator carried alone to
  another machine) resumes with a freshly initialised discriminator.
"""

from __future__ import annotations

import csv
import json
import math
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np
import torch
import torch.distributed as dist
from torch import nn

from vocoder_studio.audio.io import atomic_path
from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.engine.jobs import CancelToken
from vocoder_studio.errors import TrainingError, VocoderStudioError
from vocoder_studio.training.data import Pack, SegmentSampler, validation_clips
from vocoder_studio.training.distributed import AgreedStop, distributed_rank_world
from vocoder_studio.training.validation import score_clips

Progress = Callable[[float, str], None]


class Recipe(Protocol):
    """What the trainer needs to know about one model."""

    name: str

    def build(self) -> nn.Module:
        """A freshly initialised network (seeded by the trainer)."""

    def loss(self, model: nn.Module, audio: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The training loss on a batch of audio ``(B, samples)`` in [-1, 1], and its terms for the log."""

    def vocode(self, model: nn.Module, mel: torch.Tensor) -> torch.Tensor:
        """Audio ``(B, T * hop)`` of ln-mels ``(B, n_mels, T)`` (for validation, in eval mode, no grad)."""

    def hyperparameters(self) -> dict[str, Any]:
        """The model's configuration, stored in checkpoints (a resume with other settings is refused)."""

    def save(self, model: nn.Module, path: Path) -> None:
        """Write the inference checkpoint the vocoder loads (weights and configuration, no optimiser)."""

    def describe(self, model: nn.Module) -> str:
        """The architecture in words, with the parameter count, for the model card."""


@dataclass(frozen=True)
class DiscriminatorSettings:
    """When and how an :class:`AdversarialRecipe`'s discriminator trains (AdamW; HiFi-GAN's settings).

    Attributes:
        start_step: the discriminator trains from this step on (0: from the first step); before it the
            generator trains alone on the recipe's ``loss``. Not part of a run's identity: a resumed run may
            switch it on earlier or later.
        learning_rate, betas, weight_decay: the discriminator's AdamW.
        grad_clip: the discriminator's gradient norm is clipped to this (None: no clipping).
        generator_learning_rate: the generator's learning rate from ``start_step`` on (None: unchanged).
        generator_ramp_steps: the generator's adversarial terms are weighted ``k / generator_ramp_steps`` at
            the ``k``-th step after ``start_step`` (0 from the first, 1 from ``generator_ramp_steps`` on), so the
            discriminator learns before the generator follows it instead of chasing a random one's gradients
            (the recipe's ``generator_loss`` takes ``adversarial_weight``). 0: full weight from the first step.
            Like ``start_step``, not part of a run's identity.
    """

    start_step: int = 100_000
    learning_rate: float = 2e-4
    betas: tuple[float, float] = (0.8, 0.99)
    weight_decay: float = 0.01
    grad_clip: float | None = None
    generator_learning_rate: float | None = 2e-4
    generator_ramp_steps: int = 0

    def adversarial_weight(self, step: int) -> float:
        """The weight of the generator's adversarial terms at optimisation step ``step`` (0-based), in [0, 1]."""
        if self.generator_ramp_steps <= 0:
            return 1.0
        return min(1.0, max(0.0, (step - self.start_step) / self.generator_ramp_steps))


class AdversarialRecipe(Recipe, Protocol):
    """A :class:`Recipe` with a discriminator (the trainer recognises it by ``build_discriminator``)."""

    discriminator_settings: DiscriminatorSettings

    def build_discriminator(self) -> nn.Module:
        """A freshly initialised discriminator (seeded by the trainer with ``seed + 1``)."""

    def generate(self, model: nn.Module, audio: torch.Tensor) -> torch.Tensor:
        """The generator's audio ``(B, samples)`` for a batch of real audio (from its mel), with gradients."""

    def discriminator_loss(self, discriminator: nn.Module, real: torch.Tensor,
                           fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The discriminator's loss on real and generated audio (``fake`` is detached), and its log terms."""

    def generator_loss(self, discriminator: nn.Module, real: torch.Tensor,
                       fake: torch.Tensor) -> tuple[torch.Tensor, dict[str, float]]:
        """The generator's loss against the discriminator (adversarial, feature matching, reconstruction). With
        :attr:`DiscriminatorSettings.generator_ramp_steps` set, the trainer also passes ``adversarial_weight``
        (in [0, 1]), the weight of the adversarial and feature-matching terms."""


def is_adversarial(recipe: Recipe) -> bool:
    """Whether ``recipe`` declares a discriminator (:class:`AdversarialRecipe`)."""
    return callable(getattr(recipe, "build_discriminator", None))


@dataclass(frozen=True)
class TrainSettings:
    """Optimisation settings (AdamW; Vocos's defaults where they apply).

    Attributes:
        batch_size: segments per step.
        segment_samples: samples per segment (a multiple of ``hop_length``).
        learning_rate, betas, weight_decay: AdamW.
        grad_clip: the gradient norm is clipped to this (None: no clipping).
        seed: seeds the network's initialisation, the sampler and torch's generator.
        log_every: steps between rows of ``log.csv``.
        validate_every: steps between validations (0: only at the end).
        checkpoint_every_s: seconds between checkpoints.
        valid_clips: held-out clips scored at each validation.
        lr_decay: ``(start, end)`` steps of a cosine decay of every learning rate (the generator's, the
            discriminator's) from its value to ``lr_floor`` times it (Vocos, Loshchilov & Hutter's SGDR without
            restarts); constant before ``start`` and at the floor after ``end``. None: constant. Not part of the
            run's identity: a run that plateaued can be annealed from where it stands.
        lr_floor: the fraction of each learning rate left after the decay.
        augment_gain: each segment's amplitude is multiplied by ``exp(u)``, ``u`` uniform in
            ``[-augment_gain, augment_gain]`` nats (the ln-mel shifts by ``u``): level invariance (0: off).
        augment_speed: each segment is played ``f`` times faster, ``ln f`` uniform in ``±ln(1 + augment_speed)``
            (Ko et al. 2015, "Audio augmentation for speech recognition": pitch and formants scale by ``f``, a
            cheap stand-in for more speakers; resampled with librosa/soxr). 0: off. Neither is part of the run's
            identity: a run can be continued with augmentation turned on (give the same values on every resume
            to keep it exact).
    """

    batch_size: int = 16
    segment_samples: int = 8192
    learning_rate: float = 5e-4
    betas: tuple[float, float] = (0.8, 0.99)
    weight_decay: float = 0.01
    grad_clip: float | None = 10.0
    seed: int = 0
    log_every: int = 10
    validate_every: int = 500
    checkpoint_every_s: float = 120.0
    valid_clips: int = 8
    lr_decay: tuple[int, int] | None = None
    lr_floor: float = 0.01
    augment_gain: float = 0.0
    augment_speed: float = 0.0

    def lr_factor(self, step: int) -> float:
        """The multiplier of every learning rate at optimisation step ``step`` (0-based), in [lr_floor, 1]."""
        if self.lr_decay is None:
            return 1.0
        start, end = self.lr_decay
        progress = min(1.0, max(0.0, (step - start) / max(1, end - start)))
        return self.lr_floor + (1.0 - self.lr_floor) * 0.5 * (1.0 + math.cos(math.pi * progress))


@dataclass
class RunState:
    """What a run has done so far (saved in its checkpoint)."""

    step: int = 0
    elapsed_s: float = 0.0
    history: list[dict[str, float]] = field(default_factory=list)


def load_fitting(model: torch.nn.Module, source: dict[str, torch.Tensor], nothing_fits: str) -> tuple[int, int]:
    """Copy into ``model`` every tensor of ``source`` whose name and shape match its state dict (a warm start).

    Returns:
        ``(copied, total)``: tensors copied, tensors in the model's state dict.
    Raises:
        TrainingError: no tensor fits (the message is ``nothing_fits``).
    """
    state = model.state_dict()
    fits = {k: v for k, v in source.items() if k in state and state[k].shape == v.shape}
    if not fits:
        raise TrainingError(nothing_fits)
    model.load_state_dict({**state, **fits})
    return len(fits), len(state)


class Trainer:
    """Trains ``recipe``'s model on the training pack, in ``run_dir`` (checkpoint.pt, log.csv, valid.csv).

    Args:
        recipe: the model to train.
        train: the training pack; ``valid``: the held-out pack (None: no validation).
        run_dir: the run's folder (created).
        settings: optimisation settings.
        device: ``"cpu"`` or ``"cuda"`` (a torch device).
        resume: continue from ``run_dir/checkpoint.pt`` when it exists.
    Raises:
        TrainingError: the checkpoint belongs to another model or other settings.
    """

    def __init__(self, recipe: Recipe, train: Pack, valid: Pack | None, run_dir: Path,
                 settings: TrainSettings = TrainSettings(), device: str | torch.device = "cpu",
                 resume: bool = True, config: MelConfig = DEFAULT_CONFIG) -> None:
        if settings.segment_samples % config.hop_length:
            raise TrainingError(f"segment_samples {settings.segment_samples} is not a multiple of the hop length")
        self.recipe, self.settings, self.config = recipe, settings, config
        self.device = torch.device(device)
        self.run_dir = Path(run_dir)
        self.run_dir.mkdir(parents=True, exist_ok=True)
        torch.manual_seed(settings.seed)
        self.model = recipe.build().to(self.device)
        self.optimizer = torch.optim.AdamW(self.model.parameters(), lr=settings.learning_rate,
                                           betas=settings.betas, weight_decay=settings.weight_decay)
        #: this process's rank and the number of ranks (``torchrun``): each rank trains its slice of one global
        #: batch drawn by identically seeded samplers, gradients are averaged over the ranks after each backward
        #: pass (data parallel, as DistributedDataParallel does), and rank 0 alone validates and writes
        self.rank, self.world = distributed_rank_world()
        if self.world > 1:  # the same start on every rank, whatever the seeds did
            for tensor in self.model.state_dict().values():
                dist.broadcast(tensor, 0)
        self.sampler = SegmentSampler(train, settings.segment_samples, settings.seed, settings.augment_gain,
                                      settings.augment_speed)
        self.valid = [] if valid is None else validation_clips(valid, settings.valid_clips, config)
        self.state = RunState()
        #: the discriminator's settings, for an adversarial recipe (else None)
        self.adversarial: DiscriminatorSettings | None = (
            cast(AdversarialRecipe, recipe).discriminator_settings if is_adversarial(recipe) else None)
        #: the discriminator and its optimiser: built when it turns on (or by a resume that has them)
        self.discriminator: nn.Module | None = None
        self.discriminator_optimizer: torch.optim.Optimizer | None = None
        if resume and self.checkpoint_path.exists():
            self.load_checkpoint()

    def warm_start(self, path: Path) -> tuple[int, int]:
        """Copy into the model every tensor of the checkpoint ``path`` (read by the recipe's
        ``initial_weights(path)``) whose name and shape match: a new run that starts from a trained model, e.g.
        to fine-tune it with another loss. Call it before the first step; the optimiser starts fresh.

        Returns:
            ``(copied, total)``: tensors copied, tensors in this model's state dict.
        Raises:
            TrainingError: the recipe cannot read a checkpoint, the checkpoint is unreadable, or no tensor fits.
        """
        reader = getattr(self.recipe, "initial_weights", None)
        if reader is None:
            raise TrainingError(f"{path}: {self.recipe.name} cannot start from a checkpoint")
        try:
            source = reader(path)
        except VocoderStudioError as exc:
            raise TrainingError(str(exc)) from None
        return load_fitting(self.model, source, f"{path}: no weight of this checkpoint fits the "
                                               f"{self.recipe.name} being trained")

    @property
    def discriminator_on(self) -> bool:
        """Whether the next step trains adversarially (an adversarial recipe, at or past its start step)."""
        return self.adversarial is not None and self.state.step >= self.adversarial.start_step

    def _ensure_discriminator(self, switching: bool) -> tuple[nn.Module, torch.optim.Optimizer]:
        """Build the discriminator and its optimiser once, from ``seed + 1`` (so its initialisation neither
        depends on nor moves the training random state); ``switching``: also set the generator's learning rate
        to ``generator_learning_rate`` (the discriminator turns on now)."""
        assert self.adversarial is not None
        if self.discriminator is None or self.discriminator_optimizer is None:
            with torch.random.fork_rng(devices=[]):
                torch.manual_seed(self.settings.seed + 1)
                discriminator = cast(AdversarialRecipe, self.recipe).build_discriminator()
            self.discriminator = discriminator.to(self.device)
            ds = self.adversarial
            self.discriminator_optimizer = torch.optim.AdamW(
                self.discriminator.parameters(), lr=ds.learning_rate, betas=ds.betas, weight_decay=ds.weight_decay)
            if switching and ds.generator_learning_rate is not None:
                for group in self.optimizer.param_groups:
                    group["lr"] = ds.generator_learning_rate
        return self.discriminator, self.discriminator_optimizer

    @property
    def checkpoint_path(self) -> Path:
        return self.run_dir / "checkpoint.pt"

    def _identity(self) -> dict[str, Any]:
        settings = asdict(self.settings)
        settings.pop("checkpoint_every_s")
        settings.pop("log_every")
        settings.pop("validate_every")
        settings.pop("lr_decay")
        settings.pop("lr_floor")
        settings.pop("augment_gain")
        settings.pop("augment_speed")
        identity = {"model": self.recipe.name, "hyperparameters": self.recipe.hyperparameters(),
                    "settings": settings, "mel_config": asdict(self.config)}
        if self.adversarial is not None:
            discriminator = asdict(self.adversarial)
            discriminator.pop("start_step")
            discriminator.pop("generator_ramp_steps")  # a schedule too (runs from before it still resume)
            identity["discriminator"] = discriminator
        return identity

    def save_checkpoint(self) -> Path:
        """Write everything a resume needs, atomically (rank 0 only: the other ranks hold the same state)."""
        if self.rank != 0:
            return self.checkpoint_path
        data = {
            "identity": self._identity(),
            "model": self.model.state_dict(),
            "optimizer": self.optimizer.state_dict(),
            "sampler": self.sampler.state(),
            "torch_rng": torch.get_rng_state(),
            "cuda_rng": torch.cuda.get_rng_state_all() if self.device.type == "cuda" else None,
            "state": asdict(self.state),
        }
        if self.discriminator is not None and self.discriminator_optimizer is not None:
            data["discriminator"] = self.discriminator.state_dict()
            data["discriminator_optimizer"] = self.discriminator_optimizer.state_dict()
        with atomic_path(self.checkpoint_path) as tmp:
            torch.save(data, tmp)
        return self.checkpoint_path

    def load_checkpoint(self) -> None:
        """Resume from ``checkpoint.pt``.

        Raises:
            TrainingError: unreadable, or made for another model, settings or front-end.
        """
        try:
            data = torch.load(self.checkpoint_path, map_location="cpu", weights_only=False)
        except Exception as exc:
            raise TrainingError(f"{self.checkpoint_path}: unreadable checkpoint ({exc})") from None
        if json.dumps(data.get("identity"), sort_keys=True, default=str) != json.dumps(
                self._identity(), sort_keys=True, default=str):
            raise TrainingError(f"{self.checkpoint_path}: made for another model or other settings; "
                                "start a new run folder or pass the same settings")
        self.model.load_state_dict(data["model"])
        self.optimizer.load_state_dict(data["optimizer"])
        if self.adversarial is not None and "discriminator" in data:
            discriminator, optimizer = self._ensure_discriminator(switching=False)
            discriminator.load_state_dict(data["discriminator"])
            optimizer.load_state_dict(data["discriminator_optimizer"])
        self.sampler.set_state(data["sampler"])
        torch.set_rng_state(data["torch_rng"])
        if data.get("cuda_rng") is not None and self.device.type == "cuda":
            torch.cuda.set_rng_state_all(data["cuda_rng"])
        self.state = RunState(**data["state"])

    def _append_csv(self, name: str, row: dict[str, float]) -> None:
        """Append ``row``; when it brings new columns (a discriminator turned on) the file is rewritten once
        with the wider header, earlier rows leaving those columns empty. Rank 0 only."""
        if self.rank != 0:
            return
        path = self.run_dir / name
        if path.exists():
            with path.open(newline="") as f:
                header = next(csv.reader(f), [])
            added = [key for key in row if key not in header]
            if added:
                with path.open(newline="") as f:
                    rows = list(csv.DictReader(f))
                with atomic_path(path) as tmp, tmp.open("w", newline="") as f:
                    writer = csv.DictWriter(f, fieldnames=header + added, restval="")
                    writer.writeheader()
                    writer.writerows(rows)
                header += added
        else:
            header = list(row)
            with path.open("w", newline="") as f:
                csv.DictWriter(f, fieldnames=header).writeheader()
        with path.open("a", newline="") as f:
            csv.DictWriter(f, fieldnames=header, restval="").writerow(row)

    def train_step(self) -> dict[str, float]:
        """One optimisation step on a fresh batch; returns the loss terms."""
        self.model.train()
        self._schedule_learning_rates()
        batch = torch.from_numpy(self._batch()).to(self.device)
        autocast = torch.autocast("cuda", dtype=torch.bfloat16, enabled=self.device.type == "cuda")
        if self.discriminator_on:
            return self._adversarial_step(batch, autocast)
        with autocast:
            loss, terms = self.recipe.loss(self.model, batch)
        self.optimizer.zero_grad(set_to_none=True)
        loss.backward()
        self._average_gradients(self.model)
        if self.settings.grad_clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.grad_clip)
            terms = {**terms, "grad_norm": float(norm)}
        self.optimizer.step()
        self.state.step += 1
        return {"loss": float(loss.detach()), **terms}

    def _batch(self) -> np.ndarray:
        """This rank's segments: its slice of one global batch of ``world × batch_size`` (every rank's sampler
        draws the same, so rank 0's sampler state resumes them all)."""
        size = self.settings.batch_size
        if self.world == 1:
            return self.sampler.batch(size)
        return self.sampler.batch(size * self.world)[self.rank * size : (self.rank + 1) * size]

    def _average_gradients(self, module: nn.Module) -> None:
        """Average ``module``'s gradients over the ranks (nothing with one rank)."""
        if self.world == 1:
            return
        for parameter in module.parameters():
            if parameter.grad is not None:
                dist.all_reduce(parameter.grad)
                parameter.grad /= self.world

    def _schedule_learning_rates(self) -> None:
        """Set each optimiser's learning rate for the coming step: its base value (the generator's switches to
        ``generator_learning_rate`` with the discriminator) times ``settings.lr_factor(step)``."""
        factor = self.settings.lr_factor(self.state.step)
        base = self.settings.learning_rate
        if self.discriminator_on and self.adversarial is not None:
            _, d_optimizer = self._ensure_discriminator(switching=True)
            for group in d_optimizer.param_groups:
                group["lr"] = self.adversarial.learning_rate * factor
            base = self.adversarial.generator_learning_rate or base
        for group in self.optimizer.param_groups:
            group["lr"] = base * factor

    def _adversarial_step(self, batch: torch.Tensor, autocast: torch.autocast) -> dict[str, float]:
        """One step with the discriminator on: generate, update the discriminator on real and detached generated
        audio, then the generator against the updated discriminator (MelGAN's and HiFi-GAN's order)."""
        recipe = cast(AdversarialRecipe, self.recipe)
        assert self.adversarial is not None
        discriminator, d_optimizer = self._ensure_discriminator(switching=True)
        discriminator.train()
        with autocast:
            fake = recipe.generate(self.model, batch)
            d_loss, d_terms = recipe.discriminator_loss(discriminator, batch, fake.detach())
        d_optimizer.zero_grad(set_to_none=True)
        d_loss.backward()
        self._average_gradients(discriminator)
        terms: dict[str, float] = {}
        if self.adversarial.grad_clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(discriminator.parameters(), self.adversarial.grad_clip)
            terms["d_grad_norm"] = float(norm)
        d_optimizer.step()
        discriminator.requires_grad_(False)  # the generator's step needs no gradients of the discriminator
        try:
            with autocast:
                if self.adversarial.generator_ramp_steps > 0:
                    weight = self.adversarial.adversarial_weight(self.state.step)
                    # only recipes that take the weight are given it (a ramp is asked for by their settings)
                    g_loss, g_terms = cast(Any, recipe).generator_loss(discriminator, batch, fake,
                                                                       adversarial_weight=weight)
                    g_terms = {**g_terms, "adv_weight": weight}
                else:
                    g_loss, g_terms = recipe.generator_loss(discriminator, batch, fake)
        finally:
            discriminator.requires_grad_(True)
        self.optimizer.zero_grad(set_to_none=True)
        g_loss.backward()
        self._average_gradients(self.model)
        if self.settings.grad_clip is not None:
            norm = torch.nn.utils.clip_grad_norm_(self.model.parameters(), self.settings.grad_clip)
            terms["grad_norm"] = float(norm)
        self.optimizer.step()
        self.state.step += 1
        return {"loss": float(g_loss.detach()), **g_terms, "d_loss": float(d_loss.detach()), **d_terms, **terms}

    def validate(self) -> dict[str, float]:
        """Scores on the held-out clips (empty without a validation pack, and on ranks other than 0); appended to
        ``valid.csv``."""
        if not self.valid or self.rank != 0:
            return {}
        self.model.eval()

        def vocode(mel: np.ndarray) -> np.ndarray:
            with torch.no_grad():
                x = torch.from_numpy(mel).unsqueeze(0).to(self.device)
                return self.recipe.vocode(self.model, x)[0].float().clamp(-1, 1).cpu().numpy()

        scores = score_clips(self.valid, vocode, self.config)
        row = {"step": self.state.step, "seconds": round(self.state.elapsed_s, 1), **scores}
        self.state.history.append(row)
        self._append_csv("valid.csv", row)
        return scores

    def run(self, minutes: float | None = None, steps: int | None = None, progress: Progress | None = None,
            cancel: CancelToken | None = None) -> RunState:
        """Train until ``minutes`` of wall time or ``steps`` more steps (whichever comes first), then validate
        and checkpoint. Cancelling stops after the current step, with a checkpoint.

        Returns:
            the run's state (step, total elapsed seconds, validation history).
        """
        if self.world > 1 and not isinstance(cancel, AgreedStop):  # the ranks agree on when to stop
            agreed, seconds, began = AgreedStop(minutes, cancel), (minutes or 0.0) * 60.0, time.monotonic()
            shown = progress
            if progress is not None and minutes:  # the bar still shows the time used of the budget

                def shown(fraction: float, message: str) -> None:
                    assert progress is not None
                    progress(min(1.0, max(fraction, (time.monotonic() - began) / seconds)), message)

            return self.run(None, steps, shown, cast(CancelToken, agreed))
        budget = math.inf if minutes is None else minutes * 60.0
        target = math.inf if steps is None else self.state.step + steps
        started = time.monotonic()
        first_step = self.state.step
        base_elapsed = self.state.elapsed_s
        last_save = started
        while self.state.step < target and time.monotonic() - started < budget:
            if cancel is not None and cancel.cancelled:
                break
            terms = self.train_step()
            now = time.monotonic()
            self.state.elapsed_s = base_elapsed + now - started
            if self.state.step % self.settings.log_every == 0:
                self._append_csv("log.csv", {"step": self.state.step, "seconds": round(self.state.elapsed_s, 2),
                                             "lr": self.optimizer.param_groups[0]["lr"],
                                             **{k: round(v, 5) for k, v in terms.items()}})
            if progress is not None:
                by_time = (now - started) / budget if budget < math.inf else 0.0
                by_steps = (self.state.step - first_step) / steps if steps else 0.0
                progress(min(1.0, max(by_time, by_steps)), f"step {self.state.step}: loss {terms['loss']:.4f}")
            every = self.settings.validate_every
            if every and self.state.step % every == 0:
                self.validate()
            if now - last_save >= self.settings.checkpoint_every_s:
                self.save_checkpoint()
                last_save = now
        self.validate()
        self.save_checkpoint()
        return self.state
