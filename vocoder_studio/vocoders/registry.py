"""The vocoders the CLI and the UI list, found rather than listed by hand.

Two sources, read once on first use (``refresh()`` reads them again):

1. every module of the ``vocoder_studio.vocoders`` package that defines ``VOCODERS`` (a sequence of
   :class:`~vocoder_studio.vocoders.entry.VocoderEntry`), in module-name order — adding a vocoder is adding
   one module;
2. installed plug-ins: the entry-point group ``vocoder_studio.vocoders`` (``importlib.metadata``). An entry
   point may name a module with ``VOCODERS``, a sequence of entries, one entry, or a callable returning any
   of these. A plug-in that fails in any way (it raises, even ``SystemExit``, at import or in its hooks; it
   declares something else than entries; it takes a name already used) is listed as unavailable with the
   reason, and the built-ins and the other plug-ins keep working: a name clash is listed as ``PACKAGE:NAME``
   and never replaces the vocoder that has the name.
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import importlib.metadata
import pkgutil
import re
import sys
import threading
import types
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

import torch

from vocoder_studio.audio.mel import MelConfig
from vocoder_studio.errors import VocoderStudioError, VocoderUnavailableError
from vocoder_studio.vocoders.base import Vocoder
from vocoder_studio.vocoders.entry import VocoderEntry, failure_text, unavailable_entry
from vocoder_studio.vocoders.params import Parameter

ENTRY_POINT_GROUP = "vocoder_studio.vocoders"

#: The vocoder used when none is named: the CLI (``vocode``, batch export), new documents, the Compare view.
DEFAULT_VOCODER = "hifigan"

#: The window's vocoder for listening while editing, when its model is installed (issue 10): our iSTFT vocoder
#: answers play and every edit in a few milliseconds on a CPU (HiFi-GAN needs about 140 ms before the first
#: sound here). Without it the window starts on :data:`DEFAULT_VOCODER`.
PREVIEW_VOCODER = "istft"
#: The preview take's settings: the iSTFT network's own phase, not PGHI's (the default's start), so the preview
#: builds without loading the compiled PGHI code (≈ 0.3 s in a new process, seconds on the first run after an
#: install) and its first chunk comes soonest; the slow vocoder's take replaces it as it arrives.
PREVIEW_PARAMS: dict[str, Any] = {"init": "network"}

_lock = threading.Lock()
_entries: dict[str, VocoderEntry] | None = None


class DeclarationError(TypeError):
    """A module or plug-in declares something else than vocoder entries (the message says what it found)."""


def _as_entries(obj: Any, origin: str) -> list[VocoderEntry]:
    """The entries a module, an entry, a sequence of them or a callable stands for.

    Raises:
        DeclarationError: it stands for anything else.
    """
    if isinstance(obj, types.ModuleType):
        obj = getattr(obj, "VOCODERS", None)
        if obj is None:
            raise DeclarationError("the module defines no VOCODERS")
    if callable(obj) and not isinstance(obj, VocoderEntry):
        obj = obj()
    if isinstance(obj, VocoderEntry):
        obj = [obj]
    if isinstance(obj, (str, bytes, Mapping)) or not isinstance(obj, Iterable):
        raise DeclarationError(f"VOCODERS must be a sequence of VocoderEntry, not {type(obj).__name__}")
    entries = list(obj)
    wrong = next((e for e in entries if not isinstance(e, VocoderEntry)), None)
    if wrong is not None:
        raise DeclarationError(f"VOCODERS must hold VocoderEntry objects, not {type(wrong).__name__}")
    return [e if e.origin else dataclasses.replace(e, origin=origin) for e in entries]


def _builtin_entries() -> Iterable[VocoderEntry]:
    package = importlib.import_module("vocoder_studio.vocoders")
    for info in sorted(pkgutil.iter_modules(package.__path__), key=lambda m: m.name):
        module = importlib.import_module(f"vocoder_studio.vocoders.{info.name}")
        if hasattr(module, "VOCODERS"):
            yield from _as_entries(module, module.__name__)


def _declaration_problem(entry: VocoderEntry) -> str | None:
    """What is wrong with a plug-in's entry that would break the listing, the panel or the CLI, or None."""
    if not isinstance(entry.name, str) or not entry.name or any(c.isspace() for c in entry.name):
        return f"name {entry.name!r} must be a non-empty string without spaces"
    for text in ("label", "weights", "description", "note", "origin"):
        if not isinstance(getattr(entry, text), str):
            return f"{text} must be a string, not {type(getattr(entry, text)).__name__}"
    for hook in ("factory", "check", "card"):
        if not callable(getattr(entry, hook)):
            return f"{hook} must be callable"
    if not isinstance(entry.config, MelConfig):
        return f"config must be a MelConfig, not {type(entry.config).__name__}"
    parameters = entry.parameters
    if not isinstance(parameters, (tuple, list)) or not all(isinstance(p, Parameter) for p in parameters):
        return "parameters must be a sequence of Parameter"
    names = [p.name for p in parameters]
    if len(set(names)) != len(names):
        return f"parameter names repeat: {', '.join(names)}"
    return None


def _guarded(entry: VocoderEntry) -> Callable[..., Vocoder]:
    """A plug-in's factory whose failures are refusals naming it (one line), never a crash or an exit."""
    factory = entry.factory

    def build(**kwargs: Any) -> Vocoder:
        try:
            return factory(**kwargs)
        except (VocoderStudioError, KeyboardInterrupt):
            raise
        except BaseException as exc:  # SystemExit too: building a vocoder must not end the program
            raise VocoderUnavailableError(f"{entry.name}: {entry.origin}: {failure_text(exc)}") from exc

    return build


def _fail_reason(origin: str, exc: BaseException) -> str:
    if isinstance(exc, DeclarationError):
        return f"{origin}: {exc}"
    if isinstance(exc, SystemExit):
        return f"{origin} failed to load: it called sys.exit({exc.code!r})"
    return f"{origin} failed to load: {failure_text(exc)}"


def _packages() -> list[tuple[str, importlib.metadata.Distribution]]:
    """The installed packages by name, in name order, each once (the first on ``sys.path``, as
    ``importlib.metadata.entry_points()`` takes it). A package without a readable name is named by its
    ``*.dist-info`` folder."""
    found: dict[str, tuple[str, importlib.metadata.Distribution]] = {}
    for dist in importlib.metadata.distributions():
        try:
            name = dist.metadata["Name"]
        except Exception:  # unreadable metadata: its entry points may still be readable
            name = None
        if not isinstance(name, str) or not name:
            path = getattr(dist, "_path", None)
            name = Path(str(path)).name.split("-")[0] if path is not None else "unnamed"
        found.setdefault(re.sub(r"[-_.]+", "-", name).lower(), (name, dist))
    return [found[key] for key in sorted(found)]


def _plugin_entries() -> list[tuple[str, VocoderEntry]]:
    """Every plug-in's entries with the package that installed them, in package-name order.

    Nothing a plug-in does can stop the others or the built-ins: a package whose entry points cannot be read, a
    module that raises (``SystemExit`` and ``GeneratorExit`` included, only ``KeyboardInterrupt`` goes through)
    or declares something else than entries, and each entry whose fields would break the listing, become
    unavailable entries with the reason. What a plug-in prints while it loads goes to stderr (``vocoders --json``
    keeps stdout for JSON)."""
    found: list[tuple[str, VocoderEntry]] = []
    for label, dist in _packages():
        try:
            points = [p for p in dist.entry_points if p.group == ENTRY_POINT_GROUP]
        except KeyboardInterrupt:
            raise
        except BaseException as exc:  # a malformed entry_points.txt breaks only its own package
            try:
                ours = f"[{ENTRY_POINT_GROUP}]" in (dist.read_text("entry_points.txt") or "")
            except Exception:
                ours = False
            if ours:
                reason = f"plug-in package {label}: unreadable entry points ({failure_text(exc)})"
                found.append((label, unavailable_entry(label, reason, f"plug-in package {label}")))
            continue
        for point in points:
            origin = f"plug-in {point.value}"
            try:
                with contextlib.redirect_stdout(sys.stderr):
                    entries = _as_entries(point.load(), origin)
            except KeyboardInterrupt:
                raise
            except BaseException as exc:  # a broken plug-in is listed with its reason, never a crash
                found.append((label, unavailable_entry(point.name, _fail_reason(origin, exc), origin)))
                continue
            for entry in entries:
                problem = _declaration_problem(entry)
                if problem is None:
                    entry = dataclasses.replace(entry, factory=_guarded(entry))
                else:
                    name = entry.name if isinstance(entry.name, str) and entry.name.strip() else point.name
                    name = "-".join(name.split())
                    entry = unavailable_entry(name, f"{origin}: {problem}", origin)
                found.append((label, entry))
    return found


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
            for entry in _builtin_entries():
                found.setdefault(entry.name, entry)
            builtins = set(found)
            for package, entry in _plugin_entries():
                if entry.name not in found:
                    found[entry.name] = entry
                    continue
                # a plug-in never replaces a built-in or an earlier plug-in: it is listed, unavailable, as
                # PACKAGE:NAME with the reason
                taken = found[entry.name]
                owner = f"the built-in {taken.origin}" if entry.name in builtins else taken.origin
                alias = f"{package}:{entry.name}"
                reason = f"{entry.origin}: the name {entry.name!r} is taken by {owner}; this vocoder is not loaded"
                found.setdefault(alias, unavailable_entry(alias, reason, entry.origin))
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
    """All vocoders: the built-in modules' in module-name order, then the plug-ins' in package-name order."""
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
