"""What ``vocoder-studio data prepare`` and ``vocoder-studio train NAME`` do: the corpus, a run folder per model,
a progress bar, and the export of a trained model with its card into a models directory."""

from __future__ import annotations

import os
import platform
from collections.abc import Callable
from dataclasses import asdict, replace
from pathlib import Path
from typing import Any

import torch

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.training import corpus
from vocoder_studio.training.recipes import RECIPES
from vocoder_studio.training.trainer import Trainer


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


def train(name: str, device: torch.device, minutes: float | None, steps: int | None, run_dir: Path | None,
          resume: bool = True, lr_decay: tuple[int, int] | None = None) -> Trainer:
    """Train model ``name`` in ``run_dir`` (default: ``<data>/runs/<name>``) for a budget, with a progress bar.

    ``lr_decay``: ``(start, end)`` steps of a cosine learning-rate decay (:attr:`TrainSettings.lr_decay`).

    Raises:
        VocoderStudioError: unknown model, no corpus packs, or a checkpoint that does not fit.
    """
    if name not in RECIPES:
        raise VocoderStudioError(f"unknown model {name!r}; trainable: {', '.join(sorted(RECIPES)) or 'none'}")
    recipe, settings = RECIPES[name]()
    if lr_decay is not None:
        settings = replace(settings, lr_decay=lr_decay)
    train_pack = corpus.Pack.load(corpus.pack_path("train"))
    valid_path = corpus.pack_path("valid")
    valid_pack = corpus.Pack.load(valid_path) if valid_path.exists() else None
    folder = run_dir or corpus.data_dir() / "runs" / name
    trainer_class = getattr(recipe, "trainer_class", Trainer)  # a recipe may bring its own (MelNet)
    trainer = trainer_class(recipe, train_pack, valid_pack, folder, settings, device, resume, DEFAULT_CONFIG)
    bar = _progress_bar()
    progress = _driver(bar)
    start_step = trainer.state.step
    try:
        trainer.run(minutes, steps, progress)
    finally:
        bar.close()
    print(f"{folder}: step {trainer.state.step} (+{trainer.state.step - start_step}), "
          f"{trainer.state.elapsed_s / 60:.1f} min in all; last validation {trainer.state.history[-1:]}")
    return trainer


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


def export(name: str, trainer: Trainer, device: torch.device, folder: Path) -> list[Path]:
    """Write ``NAME.pt`` (the inference checkpoint) and ``NAME.json`` (its model card) into ``folder``.

    The card's summary states the held-out PESQ-wb / STOI it measured at the last validation, nothing more.

    Returns:
        the two paths written.
    """
    from vocoder_studio.vocoders.checkpoints import ModelCard, card_path

    if not folder.is_dir():
        raise VocoderStudioError(f"{folder}: no such models folder")
    path = folder / f"{name}.pt"
    trainer.recipe.save(trainer.model, path)
    fields = card_fields(trainer, device)
    scores = fields["scores"]
    measured = ", ".join(f"{label} {scores[key]:.2f}" for key, label in
                         (("pesq_wb", "PESQ-wb"), ("stoi", "STOI"), ("mel_l1", "mel-L1"),
                          ("nll", "NLL per mel cell (nats)")) if key in scores)
    summary = (f"Trained here, {fields['steps']} steps ({fields['wall_time_s'] / 3600:.1f} h, {fields['hardware']}); "
               f"held-out Czech/Dutch speech: {measured}")
    card = ModelCard(name=name, summary=summary, architecture=trainer.recipe.describe(trainer.model),
                     **{k: v for k, v in fields.items()})
    card.save(card_path(path))
    return [path, card_path(path)]
