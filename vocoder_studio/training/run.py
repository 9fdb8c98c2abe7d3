"""What ``vocoder-studio data prepare`` and ``vocoder-studio train NAME`` do: the corpus, a run folder per model,
a progress bar, and the export of a trained model with its card into a models directory."""

from __future__ import annotations

import json
import math
import os
import platform
from collections.abc import Callable
from dataclasses import asdict, replace
from dataclasses import fields as fields_of
from pathlib import Path
from typing import Any, cast

import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.engine.jobs import CancelToken
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.training import corpus
from vocoder_studio.training.recipes import RECIPES
from vocoder_studio.training.trainer import Trainer

#: Models whose hyper-parameters ``--config FILE`` sets (name → the label its errors use); their config is kept
#: as ``config.json`` beside the checkpoint.
CONFIGURABLE = {"melnet": "MelNet", "wavenet": "WaveNet"}


def _progress_bar() -> Any:
    """A tqdm bar driven by ``progress(fraction, message)``: the message, percent, elapsed and remaining time."""
    from tqdm import tqdm

    return tqdm(total=1000, dynamic_ncols=True, leave=True, mininterval=0.5,
                bar_format="{desc} {percentage:3.0f}%|{bar}| {elapsed}<{remaining}")


def _driver(bar: Any) -> Callable[[float, str], None]:
    def progress(fraction: float, message: str) -> None:
        bar.set_description_str(message, refresh=False)
        bar.update(int(fraction * 1000) - bar.n)

    return progress


def prepare_data(rescan: bool = False) -> dict[str, Path]:
    """Fetch the corpus and write the packs (``data prepare``); ``rescan`` rewrites the committed manifest from
    the fetched clips first (for maintainers).

    Returns:
        the pack path of each split.
    """
    bar = _progress_bar()
    progress = _driver(bar)
    try:
        if rescan:
            corpus.write_manifest(corpus.scan(corpus.fetch(progress)))
        return corpus.prepare(progress)
    finally:
        bar.close()


def hardware(device: torch.device) -> str:
    """``"2-core CPU (x86_64), 2 threads"`` or the GPU's name."""
    if device.type == "cuda":
        return f"1× {torch.cuda.get_device_name(device)}, bf16 autocast"
    return f"{os.cpu_count()}-core CPU ({platform.machine()}), {torch.get_num_threads()} threads"


#: The numeric flags' ranges, as (test, how the one-line error states it); every one must also be finite.
_AT_LEAST_0: tuple[Callable[[float], bool], str] = (lambda x: x >= 0, ">= 0")
_ABOVE_0: tuple[Callable[[float], bool], str] = (lambda x: x > 0, "> 0")
_CHANCE: tuple[Callable[[float], bool], str] = (lambda x: 0 <= x <= 1, "in [0, 1]")


def train(name: str, device: torch.device, minutes: float | None, steps: int | None, run_dir: Path | None,
          resume: bool = True, lr_decay: tuple[int, int] | None = None, tier: int | None = None,
          config_file: Path | None = None, augment_gain: float | None = None,
          augment_speed: float | None = None, cancel: CancelToken | None = None,
          input_noise: float | None = None, init: Path | None = None, own_draws: float | None = None,
          phase_weight: float | None = None, learning_rate: float | None = None,
          magnitude_weight: float | None = None, widen: int | None = None) -> Trainer:
    """Train model ``name`` in ``run_dir`` (default: ``<data>/runs/<name>``, ``<data>/runs/melnet-tierN`` for one
    MelNet tier) for a budget, with a progress bar.

    ``lr_decay``: ``(start, end)`` steps of a cosine learning-rate decay (:attr:`TrainSettings.lr_decay`).
    ``tier`` (MelNet only): train only this tier, 1-based (tiers share no weights: one process per tier).
    ``config_file`` (MelNet, WaveNet): a JSON object of :class:`MelNetConfig` / :class:`WaveNetConfig` fields
    (missing ones keep their defaults); it is copied as ``config.json`` into the run folder, beside the checkpoint.
    ``cancel``: set it to stop after the step under way (validated and checkpointed, as when the budget ends).
    ``augment_gain`` (nats), ``augment_speed`` (a fraction): random level and speed of each training segment
    (:attr:`TrainSettings.augment_gain`, :attr:`TrainSettings.augment_speed`); None keeps the recipe's (off).
    ``input_noise`` (MelNet only): noise injection on the teacher-forced inputs
    (:attr:`MelNetRecipe.input_noise`, part of the run's identity); None keeps the recipe's (off).
    ``own_draws`` (MelNet only): scheduled sampling with the model's own draws, the chance per input cell
    (:attr:`MelNetRecipe.own_draws`, part of the run's identity); None keeps the recipe's (off).
    ``init`` (MelNet, iSTFT): a new run starts from this checkpoint's weights wherever names and shapes match
    (:meth:`Trainer.warm_start`, :meth:`MelNetTrainer.warm_start`); a run that resumes its own checkpoint ignores it.
    ``phase_weight`` (iSTFT only): APNet's anti-wrapping phase losses against the real audio's phase, with this
    weight (:attr:`ISTFTRecipe.phase_weight`, part of the run's identity); None keeps the recipe's (off).
    ``magnitude_weight`` (iSTFT only): the L1 of the head's log-magnitude against the real audio's STFT
    (:attr:`ISTFTRecipe.magnitude_weight`, part of the run's identity); None keeps the recipe's (off).
    ``learning_rate``: the optimiser's base rate instead of the recipe's (part of the run's identity: give it on
    every resume).
    ``widen`` (MelNet, with ``tier`` and ``init``): the trained tier is this many hidden units wide
    (``MelNetConfig.tier_hidden``, part of the run's identity: give it on every resume); the warm start widens the
    ``init`` model's tier to it function-preservingly (:func:`vocoder_studio.melnet.widen.widen_tier`).

    Under ``torchrun`` (``WORLD_SIZE`` > 1 in the environment) the process group is started here (gloo on the
    CPU, NCCL on a GPU) and every trainer trains data-parallel (gradients averaged over the ranks each step;
    MelNet's through DistributedDataParallel); rank 0 alone prints and writes.

    Raises:
        VocoderStudioError: unknown model, no corpus packs, a checkpoint that does not fit, ``tier``,
            ``input_noise`` or ``own_draws`` for a model other than MelNet, ``init`` for one other than MelNet or
            iSTFT, ``phase_weight`` or ``magnitude_weight`` for one other than iSTFT, ``config_file`` for one other
            than MelNet or WaveNet, a tier out of range, an unreadable or invalid config, an augmentation, noise,
            chance, weight or learning rate out of range, an ``init`` checkpoint that is unreadable or has no fitting
            weight, ``widen`` without ``tier`` and ``init`` or below 1.
    """
    if name not in RECIPES:
        raise VocoderStudioError(f"unknown model {name!r}; trainable: {', '.join(sorted(RECIPES)) or 'none'}")
    recipe, settings = RECIPES[name]()
    if tier is not None or config_file is not None:
        recipe = _variant(name, recipe, tier, config_file)
    for flag, value, models in (("--input-noise", input_noise, ("melnet",)),
                                ("--own-draws", own_draws, ("melnet",)), ("--init", init, ("melnet", "istft")),
                                ("--phase-weight", phase_weight, ("istft",)),
                                ("--magnitude-weight", magnitude_weight, ("istft",))):
        if value is not None and name not in models:
            raise VocoderStudioError(f"{flag} applies to {' and '.join(models)} only, not {name!r}")
    for flag, number, (fits, bound) in (("--input-noise", input_noise, _AT_LEAST_0),
                                        ("--own-draws", own_draws, _CHANCE),
                                        ("--phase-weight", phase_weight, _AT_LEAST_0),
                                        ("--magnitude-weight", magnitude_weight, _AT_LEAST_0),
                                        ("--learning-rate", learning_rate, _ABOVE_0)):
        if number is not None and not (math.isfinite(number) and fits(number)):
            raise VocoderStudioError(f"{flag} {number}: must be a finite number {bound}")
    if widen is not None:
        if name != "melnet" or tier is None or init is None:
            raise VocoderStudioError("--widen applies to melnet with --tier N and --init CHECKPOINT")
        if widen < 1:
            raise VocoderStudioError(f"--widen {widen}: must be a width >= 1")
        config = cast(Any, recipe).model_config
        recipe = replace(cast(Any, recipe), model_config=config.with_tier_width(tier - 1, int(widen)))
    if input_noise is not None:
        recipe = replace(cast(Any, recipe), input_noise=float(input_noise))
    if own_draws is not None:
        recipe = replace(cast(Any, recipe), own_draws=float(own_draws))
    if phase_weight is not None:
        recipe = replace(cast(Any, recipe), phase_weight=float(phase_weight))
    if magnitude_weight is not None:
        recipe = replace(cast(Any, recipe), magnitude_weight=float(magnitude_weight))
    if learning_rate is not None:
        settings = replace(settings, learning_rate=float(learning_rate))
    if lr_decay is not None:
        settings = replace(settings, lr_decay=lr_decay)
    if augment_gain is not None:
        settings = replace(settings, augment_gain=augment_gain)
    if augment_speed is not None:
        settings = replace(settings, augment_speed=augment_speed)
    rank = _start_distributed(device)
    train_pack = corpus.Pack.load(corpus.pack_path("train"))
    valid_path = corpus.pack_path("valid")
    valid_pack = corpus.Pack.load(valid_path) if valid_path.exists() else None
    folder = run_dir or corpus.data_dir() / "runs" / (name if tier is None else f"{name}-tier{tier}")
    trainer_class = getattr(recipe, "trainer_class", Trainer)  # a recipe may bring its own (MelNet)
    resumes = resume and (folder / "checkpoint.pt").exists()
    trainer = trainer_class(recipe, train_pack, valid_pack, folder, settings, device, resume, DEFAULT_CONFIG)
    if init is not None and not resumes:
        copied, total = trainer.warm_start(Path(init))
        trainer.save_checkpoint()  # the warm start is the run's step 0: a resume starts from it exactly
        if rank == 0:
            print(f"{folder}: warm start from {init} ({copied} of {total} tensors)")
    if rank == 0 and name in CONFIGURABLE:  # the hyper-parameters beside the checkpoint, as a file
        (folder / "config.json").write_text(json.dumps(cast(Any, recipe).model_config.to_dict(), indent=2) + "\n")
    bar = _progress_bar() if rank == 0 else None
    progress = _driver(bar) if bar is not None else None
    start_step = trainer.state.step
    try:
        trainer.run(minutes, steps, progress, cancel)
    finally:
        if bar is not None:
            bar.close()
    if rank == 0:
        print(f"{folder}: step {trainer.state.step} (+{trainer.state.step - start_step}), "
              f"{trainer.state.elapsed_s / 60:.1f} min in all; last validation {trainer.state.history[-1:]}")
    return trainer


def _variant(name: str, recipe: Any, tier: int | None, config_file: Path | None) -> Any:
    """``recipe`` with the model config read from ``config_file`` (MelNet, WaveNet) and/or training only
    ``tier`` (MelNet)."""
    from vocoder_studio.melnet.model import MelNetError

    if tier is not None and name != "melnet":
        raise VocoderStudioError(f"--tier applies to melnet only, not {name!r}")
    if config_file is not None:
        if name not in CONFIGURABLE:
            raise VocoderStudioError(f"--config applies to {' and '.join(CONFIGURABLE)} only, not {name!r}")
        try:
            data = json.loads(Path(config_file).read_text())
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VocoderStudioError(f"{config_file}: unreadable {CONFIGURABLE[name]} config ({exc})") from None
        config_type = type(recipe.model_config)  # the recipe's default config says which class to read
        try:
            recipe = replace(recipe, model_config=config_type.from_dict(data, str(config_file)))
        except (MelNetError, VocoderStudioError) as exc:
            raise VocoderStudioError(str(exc)) from None
    if tier is not None:
        n_tiers = recipe.model_config.n_tiers
        if not 1 <= tier <= n_tiers:
            raise VocoderStudioError(f"--tier {tier}: this MelNet has tiers 1 to {n_tiers}")
        recipe = replace(recipe, tier=tier)
    return recipe


def _start_distributed(device: torch.device) -> int:
    """Join the process group ``torchrun`` describes in the environment (``WORLD_SIZE`` > 1); returns the rank
    (0 without one). Each rank on a GPU machine takes the GPU of its ``LOCAL_RANK``."""
    import torch.distributed as dist

    if int(os.environ.get("WORLD_SIZE", "1")) <= 1:
        return 0
    if not dist.is_initialized():
        if device.type == "cuda":
            torch.cuda.set_device(int(os.environ.get("LOCAL_RANK", "0")))
        dist.init_process_group("nccl" if device.type == "cuda" else "gloo")
    return dist.get_rank()


def card_fields(trainer: Trainer, device: torch.device) -> dict[str, Any]:
    """The model-card fields a run knows: steps, wall time, hardware, held-out scores, front-end, data."""
    clips = corpus.read_manifest()
    train_min = sum(c.seconds for c in clips if c.split == "train") / 60
    speakers = sorted({c.speaker for c in clips if c.split == "train"})
    last = trainer.state.history[-1] if trainer.state.history else {}
    return {
        "steps": trainer.state.step,
        "wall_time_s": round(trainer.state.elapsed_s, 1),
        "hardware": hardware(device),
        "scores": {k: round(float(v), 4) for k, v in last.items() if k not in ("step", "seconds")},
        "mel_config": asdict(DEFAULT_CONFIG),
        "data": (f"Fish Fillets NG dialogue (Debian fillets-ng-data-cs/-nl, GPL-2): {train_min:.0f} min of Czech "
                 f"and Dutch speech, {len(speakers)} voices ({', '.join(speakers)}); scores on "
                 f"{len(trainer.valid)} held-out clips of levels never trained on"),
    }


def read_card_fields(path: Path) -> dict[str, Any]:
    """The card fields of ``train --card FILE``: a JSON object (e.g. ``summary``, ``data``, ``scores`` measured
    after training, ``known_weaknesses``) laid over what the run knows when a card is written.

    Raises:
        VocoderStudioError: unreadable, not JSON, or not an object (names the file).
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise VocoderStudioError(f"{path}: unreadable card fields ({exc})") from None
    if not isinstance(data, dict):
        raise VocoderStudioError(f"{path}: card fields must be a JSON object")
    return data


def _card(base: dict[str, Any], fields: dict[str, Any] | None) -> Any:
    """A :class:`ModelCard` of ``base`` with ``fields`` laid over it (``scores`` merged key by key; keys that are
    not card attributes go to ``extra``)."""
    from vocoder_studio.vocoders.checkpoints import ModelCard

    data = {**base.pop("extra", {}), **base}
    for key, value in (fields or {}).items():
        if key == "scores" and isinstance(value, dict) and isinstance(data.get("scores"), dict):
            data["scores"] = {**data["scores"], **value}
        else:
            data[key] = value
    known = {f.name for f in fields_of(ModelCard)} - {"extra"}
    return ModelCard(**{k: v for k, v in data.items() if k in known},
                     extra={k: v for k, v in data.items() if k not in known})  # checked when written


def export(name: str, trainer: Trainer, device: torch.device, folder: Path,
           card_fields_extra: dict[str, Any] | None = None) -> list[Path]:
    """Write ``NAME.pt`` (the inference checkpoint) and ``NAME.json`` (its model card) into ``folder``.

    The card's summary states the held-out PESQ-wb / STOI it measured at the last validation, nothing more;
    ``card_fields_extra`` (``train --card FILE``, :func:`read_card_fields`) adds or replaces fields (what was
    measured after training). The card is checked by the reader that loads it (:meth:`ModelCard.checked_text`)
    before either file is written.

    Returns:
        the two paths written.
    Raises:
        VocoderStudioError: no such folder; the card would not load (nothing is written then).
    """
    from vocoder_studio.vocoders.checkpoints import card_path

    if not folder.is_dir():
        raise VocoderStudioError(f"{folder}: no such models folder")
    path = folder / f"{name}.pt"
    fields = card_fields(trainer, device)
    scores = fields["scores"]
    measured = ", ".join(f"{label} {scores[key]:.2f}" for key, label in
                         (("pesq_wb", "PESQ-wb"), ("stoi", "STOI"), ("mel_l1", "mel-L1"),
                          ("nll", "NLL per mel cell (nats)")) if key in scores)
    summary = (f"Trained here, {fields['steps']} steps ({fields['wall_time_s'] / 3600:.1f} h, {fields['hardware']}); "
               f"held-out Czech/Dutch speech: {measured}")
    card = _card({"name": name, "summary": summary, "architecture": trainer.recipe.describe(trainer.model),
                  **fields}, card_fields_extra)
    text = card.checked_text(card_path(path))  # a card that would not load stops the export: nothing is written
    trainer.recipe.save(trainer.model, path)
    card_path(path).write_text(text, encoding="utf-8")
    return [path, card_path(path)]


def export_merged_melnet(run_dirs: list[Path], folder: Path,
                         card_fields_extra: dict[str, Any] | None = None, base: Path | None = None) -> list[Path]:
    """``melnet.pt`` and its card in ``folder`` from per-tier runs (``train melnet --tier N``, one each);
    ``card_fields_extra`` as in :func:`export`. With ``base`` (a ``melnet.pt`` beside its card, e.g. the shipped
    model; ``train melnet --merge-tiers RUN... --merge-base MODEL``) the runs replace only their tiers: the
    other tiers, tier 1's future stack and the gap fill stay the base's, and the card starts from the base's
    (its steps and training time plus the runs', its scores with the runs' validation NLLs laid over).

    Raises:
        VocoderStudioError: no such folder, runs that do not make one model (see ``merge_tier_runs``), an
            unreadable base model or card, card fields that make a card that would not load.
    """
    from vocoder_studio.melnet import load_model
    from vocoder_studio.melnet.checkpoint import save_model
    from vocoder_studio.training.melnet_trainer import merge_tier_runs
    from vocoder_studio.training.recipes import MelNetRecipe
    from vocoder_studio.vocoders.checkpoints import ModelCard, card_path

    if not folder.is_dir():
        raise VocoderStudioError(f"{folder}: no such models folder")
    base_model = None if base is None else load_model(base)
    model, info = merge_tier_runs(run_dirs, base_model)
    path = folder / "melnet.pt"
    steps = ", ".join(f"tier {g + 1}: {s}" for g, s in enumerate(info["tier_steps"]) if g + 1 in info["run_tiers"])
    noise = info["tier_input_noise"]
    trained_with = ("; noise injection on the teacher-forced inputs (LPCNet), std per tier "
                    f"{noise} (normalised units)") if any(noise) else ""
    extra = {"tier_steps": info["tier_steps"], "tier_input_noise": noise, "runs": [str(d) for d in run_dirs]}
    if base is None:
        card = _card({"name": "melnet", "summary": f"Trained here tier by tier ({steps} steps)",
                      "architecture": MelNetRecipe(model_config=model.config).describe(model) + trained_with,
                      "steps": sum(info["tier_steps"]), "wall_time_s": round(sum(info["tier_seconds"]), 1),
                      "scores": info["scores"], "mel_config": asdict(DEFAULT_CONFIG), "extra": extra},
                     card_fields_extra)
    else:
        old = ModelCard.load(card_path(base)).to_dict()
        tiers = ", ".join(str(t) for t in info["run_tiers"])
        card = _card({**old, "summary": f"{old['summary']}; then tier(s) {tiers} trained on ({steps} steps)",
                      "steps": int(old.get("steps") or 0) + sum(info["tier_steps"]),
                      "wall_time_s": round(float(old.get("wall_time_s") or 0.0) + sum(info["tier_seconds"]), 1),
                      "scores": {**old.get("scores", {}), **info["scores"]}, **extra, "merged_onto": str(base)},
                     card_fields_extra)
    text = card.checked_text(card_path(path))  # as export: a card that would not load stops it, nothing written
    save_model(path, model, DEFAULT_CONFIG)
    card_path(path).write_text(text, encoding="utf-8")
    return [path, card_path(path)]
