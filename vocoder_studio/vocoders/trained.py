"""What every vocoder trained here shares: a hyper-parameter dataclass stored in its checkpoint, and the
checkpoint file itself (``{"config": dict, "model": state_dict, **extra}``, written atomically, read with
``torch.load(weights_only=True)`` so that nothing is ever unpickled).

Used by :mod:`~vocoder_studio.vocoders.istft`, :mod:`~vocoder_studio.vocoders.melgan` and
:mod:`~vocoder_studio.vocoders.wavenet`; each keeps its own ``save_model`` / ``read_checkpoint`` / ``load_model``
names as thin calls into this module.
"""

from __future__ import annotations

import dataclasses
import pickle
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any, Generic, TypeVar, cast

import torch
from torch import nn
from torch.overrides import TorchFunctionMode

from vocoder_studio.audio.io import atomic_path
from vocoder_studio.audio.mel import DEFAULT_CONFIG, MelConfig
from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.vocoders.base import Vocoder
from vocoder_studio.vocoders.checkpoints import cached_check, find_checked, read_header, torch_load_problem

C = TypeVar("C", bound="ModelConfig")
M = TypeVar("M", bound=nn.Module)


class ModelConfig:
    """Mixin for a frozen dataclass of a model's hyper-parameters: dict round trip and field checks."""

    def require_positive_ints(self, *names: str) -> None:
        """Raises ValueError naming ``<Class>.<field>`` unless each field is an int ≥ 1 (not a bool)."""
        for name in names:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{type(self).__name__}.{name} must be a positive integer, got {value!r}")

    @classmethod
    def from_dict(cls: type[C], data: object, source: str = "checkpoint") -> C:
        """The config a checkpoint stored (:meth:`to_dict`).

        Raises:
            VocoderUnavailableError: not a dict, an unknown field, or an invalid value (names ``source``).
        """
        name = cls.__name__
        if not isinstance(data, dict):
            raise VocoderUnavailableError(f"{source}: 'config' must be a dict of {name} fields")
        unknown = sorted(set(data) - {f.name for f in dataclasses.fields(cls)})  # type: ignore[arg-type]
        if unknown:
            raise VocoderUnavailableError(f"{source}: unknown {name} field(s) {', '.join(map(str, unknown))}")
        try:
            return cls(**data)
        except (TypeError, ValueError) as exc:
            raise VocoderUnavailableError(f"{source}: {exc}") from None

    def to_dict(self) -> dict[str, Any]:
        """The fields as plain Python values, tuples as lists (what :func:`save_checkpoint` stores)."""
        data = dataclasses.asdict(self)  # type: ignore[call-overload]
        return {k: list(v) if isinstance(v, tuple) else v for k, v in data.items()}


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def save_checkpoint(path: str | Path, model: nn.Module, config: ModelConfig, extra: dict[str, Any],
                    half: bool = False) -> Path:
    """Write ``{"config": config.to_dict(), "model": state_dict, **extra}`` atomically (the folder is created).

    Args:
        extra: anything else a trainer keeps (tensors, numbers, strings, lists and dicts of them), so that
            ``torch.load(weights_only=True)`` reads it back.
        half: store floating-point weights as float16 (half the file; :func:`load_checkpoint` casts them back
            to the model's float32 on load).
    Raises:
        ValueError: ``extra`` uses the reserved keys ``config`` or ``model``.
    """
    if {"config", "model"} & set(extra):
        raise ValueError("save_model: 'config' and 'model' are reserved checkpoint keys")
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)  # a new models folder (atomic_path makes none)
    state = model.state_dict()
    if half:
        state = {k: v.half() if v.is_floating_point() else v for k, v in state.items()}
    with atomic_path(target) as tmp:
        torch.save({"config": config.to_dict(), "model": state, **extra}, tmp)
    return target


def read_checkpoint(path: str | Path, kind: str) -> dict[str, Any]:
    """The whole checkpoint dict (``torch.load(weights_only=True)`` on the CPU).

    Args:
        kind: the model's name for messages ("iSTFT", "MelGAN", …).
    Raises:
        VocoderUnavailableError: unreadable, truncated, not a torch checkpoint, or not a dict with ``config``
            and ``model`` (the message names the file).
    """
    path = Path(path)
    try:
        data = torch.load(path, map_location="cpu", weights_only=True)
    except (OSError, RuntimeError, EOFError, ValueError, zipfile.BadZipFile, pickle.UnpicklingError) as exc:
        raise VocoderUnavailableError(torch_load_problem(path, exc)) from None
    if not isinstance(data, dict) or not {"config", "model"} <= set(data):
        raise VocoderUnavailableError(_not_this_kind(path, kind))
    return data


def _not_this_kind(path: Path, kind: str) -> str:
    article = "an" if kind[:1].lower() in "aeiou" else "a"
    return f"{path}: not {article} {kind} checkpoint (needs the keys 'config' and 'model')"


def _front_end_problem(kind: str, model_config: Any, config: MelConfig) -> str | None:
    """Why a model of ``model_config`` cannot vocode mels of ``config`` (``n_mels``, ``hop_length``), or None."""
    c = model_config
    if c.n_mels == config.n_mels and c.hop_length == config.hop_length:
        return None
    return (f"{kind} model made for n_mels {c.n_mels} / hop_length {c.hop_length}, the front-end has "
            f"{config.n_mels} / {config.hop_length}")


def load_checkpoint(path: str | Path, kind: str, config_type: type[C], build: Callable[[C], M]) -> tuple[M, C]:
    """Build the model a checkpoint describes and load its weights; in eval mode on the CPU. Extra keys
    (``optimizer``, ``step``, …) are ignored.

    Raises:
        VocoderUnavailableError: unreadable or truncated file, an invalid config, or weights that do not fit it
            (the message names the file).
    """
    data = read_checkpoint(path, kind)
    config = config_type.from_dict(data["config"], str(path))
    model = build(config)
    try:
        model.load_state_dict(data["model"])
    except (RuntimeError, TypeError, AttributeError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise VocoderUnavailableError(f"{path}: weights do not fit the stored config ({first})") from None
    return model.eval(), config


class _WithoutWeights(TorchFunctionMode):
    """Builds a network for its state dict's names and shapes only: ``torch.empty`` (how torch's layers make
    their parameters) gives meta tensors, and initialising them does nothing. Measured here: 20–200 ms instead
    of 0.05–1.5 s for the real build of the shipped models; ``with torch.device("meta")`` instead imports sympy
    and torch's Python meta kernels on first use (5–7 s). A torch function mode is per thread."""

    def __torch_function__(self, func: Any, types: Any, args: Any = (), kwargs: Any = None) -> Any:
        kwargs = kwargs or {}
        first: Any = args[0] if args else next(iter(kwargs.values()), None)
        on_meta = isinstance(first, torch.Tensor) and first.is_meta
        name = getattr(func, "__name__", "")
        if func is torch.empty and kwargs.get("device") is None:
            kwargs = {**kwargs, "device": "meta"}
        elif on_meta and name.endswith("_") and not name.endswith("__"):
            return first  # an initialiser or another in-place op: the shape stays
        elif on_meta and func is torch.norm_except_dim:  # weight norm's g (its meta kernel needs sympy)
            dim = kwargs.get("dim", args[2] if len(args) > 2 else 0)
            if dim == -1:
                return torch.empty((), device="meta", dtype=first.dtype)
            shape = [first.shape[d] if d == dim % first.dim() else 1 for d in range(first.dim())]
            return torch.empty(shape, device="meta", dtype=first.dtype)
        return func(*args, **kwargs)


def _state_shapes(model: nn.Module) -> dict[str, tuple[int, ...]]:
    return {k: tuple(v.shape) for k, v in model.state_dict().items()}


def _shape_difference(expected: dict[str, tuple[int, ...]], stored: dict[str, tuple[int, ...]]) -> str | None:
    """What keeps ``load_state_dict(strict=True)`` from loading ``stored`` into a model of ``expected``, in a
    few words, or None."""
    problems = [f"{k} is missing" for k in expected if k not in stored]
    problems += [f"{k} is not in the model" for k in stored if k not in expected]
    problems += [f"{k} is {stored[k]}, the model's is {v}" for k, v in expected.items()
                 if k in stored and stored[k] != v]
    if not problems:
        return None
    return problems[0] + (f" (and {len(problems) - 1} more)" if len(problems) > 1 else "")


def expected_shapes(build: Callable[[C], nn.Module], config: C) -> dict[str, tuple[int, ...]]:
    """Name -> shape of every entry of the state dict of ``build(config)``, without making its weights (see
    :class:`_WithoutWeights`; a network that cannot be built that way is built for real)."""
    try:
        with _WithoutWeights(), torch.no_grad():
            return _state_shapes(build(config))
    except Exception:
        return _state_shapes(build(config))


def check_weights(path: Path, kind: str, config_type: type[C], build: Callable[[C], nn.Module],
                  mel_config: MelConfig) -> None:
    """Check, without building the model or reading the weights, that a checkpoint will load and run: it is
    ``{"config", "model", …}``, its config is valid and for ``mel_config``'s ``n_mels`` and ``hop_length``,
    and its state dict has the names and shapes of the network that config builds. Each version of the file is
    checked once (:func:`~vocoder_studio.vocoders.checkpoints.cached_check`).

    Raises:
        VocoderUnavailableError: what is wrong, in one line naming the file.
    """
    def check() -> None:
        header = read_header(path)
        if header.keys is None or not {"config", "model"} <= set(header.keys):
            raise VocoderUnavailableError(_not_this_kind(path, kind))
        config = config_type.from_dict(header.config, str(path))
        front_end = _front_end_problem(kind, config, mel_config)
        if front_end is not None:
            raise VocoderUnavailableError(f"{path}: {front_end}")
        if header.shapes is None:
            raise VocoderUnavailableError(f"{path}: 'model' is not a state dict of tensors")
        if _shape_difference(expected_shapes(build, config), header.shapes) is None:
            return
        problem = _shape_difference(_state_shapes(build(config)), header.shapes)  # confirmed on a real build
        if problem is not None:
            raise VocoderUnavailableError(f"{path}: weights do not fit the stored config ({problem})")

    cached_check(path, ("weights", kind, mel_config.n_mels, mel_config.hop_length), check)


class CheckpointFiles(Generic[C, M]):
    """One trained model's checkpoint files: ``save`` / ``read`` / ``load`` bound to its name, config class and
    network class (each vocoder module exposes them as ``save_model``, ``read_checkpoint`` and ``load_model``).

    Args:
        kind: the model's name in messages ("iSTFT", "MelGAN", "WaveNet").
        config_type: its hyper-parameter dataclass; ``build``: the network from a config.
    """

    def __init__(self, kind: str, config_type: type[C], build: Callable[[C], M]) -> None:
        self.kind, self.config_type, self.build = kind, config_type, build

    def save(self, path: str | Path, model: M, config: C | None = None, /, **extra: Any) -> Path:
        """Write ``{"config": config.to_dict(), "model": state_dict, **extra}`` atomically (:func:`save_checkpoint`;
        ``config`` defaults to ``model.config``).

        Raises:
            ValueError: ``extra`` uses the reserved keys ``config`` or ``model``.
        """
        chosen: ModelConfig = cast(ModelConfig, model.config) if config is None else config
        return save_checkpoint(path, model, chosen, extra)

    def read(self, path: str | Path) -> dict[str, Any]:
        """The whole checkpoint dict (a trainer's resume reads its extra keys).

        Raises:
            VocoderUnavailableError: unreadable, truncated, or not this model's checkpoint (names the file).
        """
        return read_checkpoint(path, self.kind)

    def check_weights(self, path: Path, mel_config: MelConfig = DEFAULT_CONFIG) -> None:
        """Whether the checkpoint will load and run, checked cheaply (:func:`check_weights`): the ``verify`` of
        :func:`~vocoder_studio.vocoders.checkpoints.trained_checkpoint`.

        Raises:
            VocoderUnavailableError: what is wrong, in one line naming the file.
        """
        check_weights(path, self.kind, self.config_type, self.build, mel_config)

    def load(self, path: str | Path) -> tuple[M, C]:
        """The network a checkpoint describes with its weights, in eval mode on the CPU, and its config.

        Raises:
            VocoderUnavailableError: unreadable or truncated file, an invalid config, or weights that do not fit
                it (the message names the file).
        """
        return load_checkpoint(path, self.kind, self.config_type, self.build)


class TrainedVocoder(Vocoder):
    """A vocoder that runs a network trained here: the given one, or ``files`` loaded from ``checkpoint`` in the
    models directories (its card checked), after checking it was made for this mel front-end.

    Subclasses set ``files`` and ``checkpoint`` and may override :meth:`prepare` (e.g. fold weight norm).

    Raises:
        VocoderUnavailableError: no usable checkpoint, or a model made for another ``n_mels`` / ``hop_length``.
    """

    files: CheckpointFiles[Any, Any]
    checkpoint: str

    def __init__(self, model: nn.Module | None = None, device: str | torch.device = "cpu",
                 config: MelConfig = DEFAULT_CONFIG) -> None:
        super().__init__(device, config)
        if model is None:
            path, _ = find_checked(self.checkpoint, config)
            model, _ = self.files.load(path)
        c = cast(Any, model).config
        front_end = _front_end_problem(self.files.kind, c, config)
        if front_end is not None:
            raise VocoderUnavailableError(front_end)
        self.model = self.prepare(model).eval().to(self.device)
        self.receptive_field_frames = c.receptive_field_frames

    def prepare(self, model: nn.Module) -> nn.Module:
        """The network as it runs (the default: unchanged)."""
        return model

    def to(self, device: str | torch.device) -> TrainedVocoder:
        super().to(device)
        self.model.to(self.device)
        return self

    def _synthesize(self, mel: torch.Tensor) -> torch.Tensor:
        return cast(torch.Tensor, self.model(mel))
