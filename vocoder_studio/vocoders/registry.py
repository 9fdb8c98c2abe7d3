"""The vocoders the CLI and the UI list, found rather than listed by hand.

Two sources, read once on first use (``refresh()`` reads them again):

1. every module of the ``vocoder_studio.vocoders`` package that defines ``VOCODERS`` (a sequence of
   :class:`~vocoder_studio.vocoders.entry.VocoderEntry`), in module-name order — adding a vocoder is adding
   one module;
2. installed plug-ins: the entry-point group ``vocoder_studio.vocoders`` (``importlib.metadata``). An entry
   point may name a module with ``VOCODERS``, a sequence of entries, one entry, or a callable returning any
   of these. A plug-in that fails to load is listed as unavailable with the reason; the others keep working.
"""

from __future__ import annotations

import dataclasses
import importlib
import importlib.metadata
import pkgutil
import threading
import types
from collections.abc import Iterable
from typing import Any

import torch

from vocoder_studio.audio.mel import MelConfig
from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.vocoders.base import Vocoder
from vocoder_studio.vocoders.entry import VocoderEntry, unavailable_entry

ENTRY_POINT_GROUP = "vocoder_studio.vocoders"

#: The vocoder used when none is named: the CLI (``vocode``, batch export), new documents, the Compare view.
DEFAULT_VOCODER = "hifigan"

#: The window's vocoder for listening while editing, when its model is installed (issue 10): our iSTFT vocoder
#: answers play and every edit in a few milliseconds on a CPU (HiFi-GAN needs about 140 ms before the first
#: sound here). Without it the window starts on :data:`DEFAULT_VOCODER`.
PREVIEW_VOCODER = "istft"

_lock = threading.Lock()
_entries: dict[str, VocoderEntry] | None = None


def _as_entries(obj: Any, origin: str) -> list[VocoderEntry]:
    """The entries a module, an entry, a sequence of them or a callable stands for."""
    if isinstance(obj, types.ModuleType):
        obj = getattr(obj, "VOCODERS", None)
        if obj is None:
            raise TypeError(f"module {origin} defines no VOCODERS")
    if callable(obj) and not isinstance(obj, VocoderEntry):
        obj = obj()
    if isinstance(obj, VocoderEntry):
        obj = [obj]
    entries = list(obj)
    if not all(isinstance(e, VocoderEntry) for e in entries):
        raise TypeError(f"{origin} does not provide VocoderEntry objects")
    return [e if e.origin else dataclasses.replace(e, origin=origin) for e in entries]


def _builtin_entries() -> Iterable[VocoderEntry]:
    package = importlib.import_module("vocoder_studio.vocoders")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"vocoder_studio.vocoders.{info.name}")
        if hasattr(module, "VOCODERS"):
            yield from _as_entries(module, module.__name__)


def _plugin_entries() -> Iterable[VocoderEntry]:
    for point in importlib.metadata.entry_points(group=ENTRY_POINT_GROUP):
        origin = f"plug-in {point.value}"
        try:
            yield from _as_entries(point.load(), origin)
        except Exception as exc:  # a broken plug-in is listed with its reason, never a crash
            yield unavailable_entry(point.name, f"{origin} failed to load: {type(exc).__name__}: {exc}", origin)


def refresh() -> None:
    """Forget what was found; the next call discovers the modules and plug-ins again."""
    global _entries
    with _lock:
        _entries = None


def _registry() -> dict[str, VocoderEntry]:
    global _entries
    with _lock:
        if _entries is None:
            found: dict[str, VocoderEntry] = {}
            for entry in [*_builtin_entries(), *_plugin_entries()]:
                found.setdefault(entry.name, entry)  # a plug-in cannot replace a built-in
            _entries = found
        return _entries


def preview_vocoder() -> str:
    """The name the window selects first: :data:`PREVIEW_VOCODER` when its entry is available (weights found and
    checked), else :data:`DEFAULT_VOCODER`."""
    entry = _registry().get(PREVIEW_VOCODER)
    if entry is not None and entry.unavailable_reason() is None:
        return PREVIEW_VOCODER
    return DEFAULT_VOCODER


def list_vocoders() -> list[VocoderEntry]:
    """All vocoders: the built-in modules' in module-name order, then the plug-ins'."""
    return list(_registry().values())


def get_entry(name: str) -> VocoderEntry:
    """The entry for ``name``.

    Raises:
        VocoderUnavailableError: no vocoder of that name (the message lists the names).
    """
    entries = _registry()
    try:
        return entries[name]
    except KeyError:
        raise VocoderUnavailableError(f"unknown vocoder {name!r}; choose one of: {', '.join(entries)}") from None


def create_vocoder(name: str, device: str | torch.device = "cpu", config: MelConfig | None = None,
                   **parameters: Any) -> Vocoder:
    """Build vocoder ``name`` on ``device`` with ``parameters`` checked against its schema.

    Args:
        config: the document's mel front-end, checked against the one the vocoder expects (None: not checked).
    Raises:
        VocoderUnavailableError: unknown name or it cannot run here (missing or broken weights).
        ParameterError: unknown parameter or a bad value (the message names it and its range).
        ConfigMismatchError: ``config`` differs from the vocoder's front-end.
    """
    return get_entry(name).create(device=device, config=config, **parameters)
