"""Trained models on disk: where they are looked for, their model cards, and the checks that make a broken one
"unavailable, with the reason" instead of a crash.

A checkpoint ``NAME.pt`` lives in a models directory with its model card ``NAME.json`` beside it. The
directories are searched in order (first match wins):

1. ``$VOCODER_STUDIO_MODELS`` (colon-separated), when set — for tests and for trying a model in place;
2. the checkout's ``models/`` folder (beside ``vocoder_studio/`` in a source tree);
3. the installed package's data (``vocoder_studio/models/`` inside the package);
4. the user's folder: :func:`vocoder_studio.paths.user_models_dir`.
"""

from __future__ import annotations

import dataclasses
import json
import os
import pickle
import re
import threading
import zipfile
from collections.abc import Callable, Hashable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar, cast

from vocoder_studio.audio.mel import MelConfig
from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.paths import user_models_dir

CARD_SUFFIX = ".json"


def model_dirs() -> list[Path]:
    """The models directories in search order (they need not exist)."""
    dirs = [Path(p) for p in os.environ.get("VOCODER_STUDIO_MODELS", "").split(os.pathsep) if p]
    package = Path(__file__).resolve().parent.parent
    checkout = package.parent / "models"
    if (package.parent / "pyproject.toml").is_file():
        dirs.append(checkout)
    dirs.append(package / "models")
    dirs.append(user_models_dir())
    return dirs


def find_model(filename: str) -> Path:
    """The first ``filename`` found in :func:`model_dirs`.

    Raises:
        VocoderUnavailableError: not in any models directory (the message lists where it looked).
    """
    dirs = model_dirs()
    for folder in dirs:
        path = folder / filename
        if path.is_file():
            return path
    raise VocoderUnavailableError(
        f"{filename}: no trained checkpoint found (looked in {', '.join(str(d) for d in dirs)}; "
        "train one with `vocoder-studio train` or copy it into a models directory)"
    )


def is_score(value: object) -> bool:
    """Whether ``value`` is a model card score: a finite-or-not number (not a bool), a list of numbers, or an
    object mapping names to scores."""
    if isinstance(value, bool):
        return False
    if isinstance(value, (int, float)):
        return True
    if isinstance(value, list):
        return all(isinstance(v, (int, float)) and not isinstance(v, bool) for v in value)
    if isinstance(value, dict):
        return all(isinstance(k, str) and is_score(v) for k, v in value.items())
    return False


@dataclass(frozen=True)
class ModelCard:
    """What a trained model is and what it measured, as a JSON file beside its checkpoint.

    Attributes:
        name: the vocoder or model name the checkpoint belongs to.
        summary: one line the vocoder selector shows (what it is, what it reached).
        architecture: the model and its size (e.g. ``"MelGAN generator, ngf 32, 4.3 M parameters"``).
        data: the training data (corpus, hours, speakers, licence).
        steps: optimiser steps trained.
        wall_time_s: training time in seconds.
        hardware: where it trained (``"2-core CPU"``, ``"1× H200, bf16"``).
        scores: held-out scores by name (``{"pesq_wb": 2.1, "stoi": 0.9}``), what it measured, never more. A
            score is a number, a list of numbers (e.g. one per MelNet tier) or an object of scores (a named group,
            e.g. ``{"english": {"pesq_wb": 2.3}}``); :func:`is_score` is the rule, and ``train --export`` reads back
            every card it writes with :meth:`ModelCard.load`.
        mel_config: the mel front-end it was trained on (``MelConfig`` fields); None means the default.
        extra: any other fields of the file, kept as they are.
    """

    name: str
    summary: str
    architecture: str = ""
    data: str = ""
    steps: int | None = None
    wall_time_s: float | None = None
    hardware: str = ""
    scores: dict[str, Any] = field(default_factory=dict)
    mel_config: dict[str, Any] | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def from_dict(cls, data: object, source: str = "model card") -> ModelCard:
        """A card from parsed JSON.

        Raises:
            VocoderUnavailableError: not an object, or ``name``/``summary`` missing or of the wrong type.
        """
        if not isinstance(data, dict):
            raise VocoderUnavailableError(f"{source}: a model card must be a JSON object")
        known = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        for key in ("name", "summary"):
            if not isinstance(data.get(key), str):
                raise VocoderUnavailableError(f"{source}: model card field {key!r} must be a string")
        scores = data.get("scores", {})
        if not isinstance(scores, dict) or not all(is_score(v) for v in scores.values()):
            raise VocoderUnavailableError(f"{source}: model card field 'scores' must map names to numbers, "
                                          "lists of numbers or groups of scores")
        mel_config = data.get("mel_config")
        if mel_config is not None and not isinstance(mel_config, dict):
            raise VocoderUnavailableError(f"{source}: model card field 'mel_config' must be an object")
        values = {k: v for k, v in data.items() if k in known}
        return cls(**values, extra={k: v for k, v in data.items() if k not in known})

    @classmethod
    def load(cls, path: Path) -> ModelCard:
        """Read a card file.

        Raises:
            VocoderUnavailableError: unreadable, not JSON, or not a valid card (the message names the file).
        """
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise VocoderUnavailableError(f"{path}: unreadable model card ({exc})") from None
        return cls.from_dict(data, str(path))

    def to_dict(self) -> dict[str, Any]:
        """The card as JSON-ready data (``extra`` fields merged back in)."""
        out = {f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"}
        return {**out, **self.extra}

    def checked_text(self, path: Path) -> str:
        """The indented JSON text :meth:`save` writes to ``path``, read back first by the same reader that loads
        it; ``train --export`` calls it before it writes the checkpoint, so a refused card leaves nothing behind.

        Raises:
            VocoderUnavailableError: the card would not load, or holds a value JSON cannot write (the message
                names ``path`` and the field).
        """
        try:
            text = json.dumps(self.to_dict(), indent=2, ensure_ascii=False) + "\n"
        except (TypeError, ValueError) as exc:
            raise VocoderUnavailableError(f"{path}: model card is not JSON ({exc})") from None
        ModelCard.from_dict(json.loads(text), str(path))
        return text

    def save(self, path: Path) -> None:
        """Write the card as indented JSON, checked first by the same reader that loads it (a card that
        ``train --export`` writes always loads).

        Raises:
            VocoderUnavailableError: the card would not load (the message names ``path`` and the field).
        """
        path.write_text(self.checked_text(path), encoding="utf-8")

    def check_config(self, config: MelConfig, source: str = "model card") -> None:
        """Check that the model was trained on ``config``'s front-end.

        Raises:
            VocoderUnavailableError: a field differs (the message names it and both values).
        """
        if self.mel_config is None:
            return
        expected = dataclasses.asdict(config)
        for key, value in self.mel_config.items():
            if key in expected and expected[key] != value:
                raise VocoderUnavailableError(
                    f"{source}: trained on a different mel front-end ({key} {value} instead of {expected[key]})"
                )


def card_path(checkpoint: Path) -> Path:
    """The model card's path for ``checkpoint``: the same name with ``.json``."""
    return checkpoint.with_suffix(CARD_SUFFIX)


T = TypeVar("T")

_cache_lock = threading.Lock()
#: verdicts of checks on checkpoint files: (check, file identity) -> (True, value) or (False, the one-line reason)
_verdicts: dict[tuple[Hashable, ...], tuple[bool, Any]] = {}
_MAX_VERDICTS = 256


def cached_check(path: Path, tag: Hashable, check: Callable[[], T]) -> T:
    """``check()``, run once per version of the file ``path``: its result, or the VocoderUnavailableError it
    raised, is kept under ``tag`` and the file's identity — path, size, modification time in ns, inode and, for
    a zip archive (a torch checkpoint), each member's name, size and CRC from its central directory (a file
    rewritten within the file system's clock tick keeps its mtime, not its CRCs) — so a changed file is checked
    again.

    Raises:
        VocoderUnavailableError: the check's (from this call or an earlier one), or the file cannot be read.
    """
    try:
        st = os.stat(path)
    except OSError as exc:
        raise VocoderUnavailableError(f"{path}: unreadable checkpoint ({exc.strerror or exc})") from None
    try:
        with zipfile.ZipFile(path) as archive:
            members: tuple[Any, ...] = tuple((i.filename, i.file_size, i.CRC) for i in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError):
        members = ()
    key = (tag, str(path), st.st_size, st.st_mtime_ns, st.st_ino, members)
    with _cache_lock:
        verdict = _verdicts.get(key)
    if verdict is None:
        try:
            verdict = (True, check())
        except VocoderUnavailableError as exc:
            verdict = (False, str(exc))
        with _cache_lock:
            if len(_verdicts) >= _MAX_VERDICTS:
                _verdicts.clear()
            _verdicts[key] = verdict
    ok, value = verdict
    if not ok:
        raise VocoderUnavailableError(value)
    return cast(T, value)


@dataclass(frozen=True)
class CheckpointHeader:
    """What a checkpoint file holds, read without reading its tensors' data.

    Attributes:
        keys: the top-level keys when the checkpoint is a dict (``("config", "model", …)``), else None.
        config: the value of its ``"config"`` key (plain data), or None.
        shapes: name -> shape of each tensor of its ``"model"`` state dict; None when there is no ``"model"`` or
            it is not a dict of tensors.
    """

    keys: tuple[str, ...] | None
    config: Any
    shapes: dict[str, tuple[int, ...]] | None


def torch_load_problem(path: Path, exc: BaseException) -> str:
    """One line naming ``path`` for what ``torch.load(weights_only=True)`` raised (torch's own messages run to a
    dozen lines)."""
    text = str(exc)
    if isinstance(exc, pickle.UnpicklingError) and "Weights only load failed" in text:
        found = re.search(r"GLOBAL ([\w.]+)", text)
        what = f" ({found.group(1)})" if found else ""
        return (f"{path}: holds pickled Python objects{what}, not only tensors and plain data; it is not loaded "
                "(code in a checkpoint could run on load)")
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return f"{path}: unreadable checkpoint ({type(exc).__name__}: {lines[0] if lines else 'no details'})"


def _load_header(path: Path) -> CheckpointHeader:
    import torch

    try:
        with zipfile.ZipFile(path) as archive:
            if not archive.namelist():
                raise zipfile.BadZipFile("empty archive")
    except (zipfile.BadZipFile, OSError) as exc:
        raise VocoderUnavailableError(f"{path}: truncated or not a torch checkpoint ({exc})") from None
    errors = (OSError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError)
    try:
        try:  # mmap: the tensors' data stays on disk, only the pickled structure is read
            data = torch.load(path, map_location="cpu", weights_only=True, mmap=True)
        except RuntimeError:  # a file written without aligned storages: read it whole
            data = torch.load(path, map_location="cpu", weights_only=True)
    except errors as exc:
        raise VocoderUnavailableError(torch_load_problem(path, exc)) from None
    if not isinstance(data, dict):
        return CheckpointHeader(None, None, None)
    model = data.get("model")
    shapes = None
    if isinstance(model, dict) and all(isinstance(k, str) and isinstance(v, torch.Tensor) for k, v in model.items()):
        shapes = {k: tuple(v.shape) for k, v in model.items()}
    return CheckpointHeader(tuple(str(k) for k in data), data.get("config"), shapes)


def read_header(path: Path) -> CheckpointHeader:
    """The :class:`CheckpointHeader` of a torch checkpoint: the zip archive is whole and
    ``torch.load(weights_only=True, mmap=True)`` reads it (so it holds tensors and plain data only, never pickled
    objects), without reading the tensors' data. Read once per version of the file (:func:`cached_check`).

    Raises:
        VocoderUnavailableError: truncated, not a torch checkpoint, or holding pickled objects (one line naming
            the file).
    """
    return cached_check(path, "header", lambda: _load_header(path))


def check_checkpoint(path: Path, config: MelConfig) -> ModelCard:
    """Check a checkpoint without building its model: its card is valid and matches ``config``, the file is a
    whole torch zip archive (a truncated download or copy lacks the zip's central directory), and it loads with
    ``torch.load(weights_only=True)``: tensors and plain data, no pickled objects (:func:`read_header`).

    Returns:
        the model card.
    Raises:
        VocoderUnavailableError: the card is missing or invalid, the front-end differs, or the file is truncated,
            not a torch checkpoint or holds pickled objects (one line naming the file).
    """
    card_file = card_path(path)
    if not card_file.is_file():
        raise VocoderUnavailableError(f"{card_file}: model card missing beside the checkpoint")
    card = ModelCard.load(card_file)
    card.check_config(config, str(card_file))
    read_header(path)
    return card


def find_checked(filename: str, config: MelConfig) -> tuple[Path, ModelCard]:
    """:func:`find_model` then :func:`check_checkpoint`: the path and card of a usable checkpoint.

    Raises:
        VocoderUnavailableError: missing, truncated, without a valid card, or for another front-end.
    """
    path = find_model(filename)
    return path, check_checkpoint(path, config)


def trained_checkpoint(filename: str, config: MelConfig, verify: Callable[[Path, MelConfig], None] | None = None,
                       ) -> tuple[Callable[[], str | None], Callable[[], ModelCard]]:
    """The ``check`` and ``card`` hooks of a vocoder entry whose weights are ``filename`` in a models directory:
    ``check, card = trained_checkpoint("istft.pt", DEFAULT_CONFIG, verify=FILES.check_weights)``. The check
    returns None when the checkpoint is usable and raises :class:`VocoderUnavailableError` with the reason
    otherwise; the card is the checkpoint's checked model card.

    Args:
        verify: ``verify(path, config)`` raises VocoderUnavailableError when the weights would not load into
            the model (e.g. :meth:`~vocoder_studio.vocoders.trained.CheckpointFiles.check_weights`), so that an
            entry listed ready will run.
    """

    def check() -> str | None:
        path, _ = find_checked(filename, config)
        if verify is not None:
            verify(path, config)
        return None

    def card() -> ModelCard:
        return find_checked(filename, config)[1]

    return check, card
