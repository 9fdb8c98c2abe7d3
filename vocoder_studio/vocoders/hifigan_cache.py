"""HiFi-GAN's prepared generators kept on disk, so that a second start skips the preparation.

Preparing the int8 generator (weight norm folded, 2-D channels-last convolutions, the residual convolutions'
weights quantised per channel) costs more than reading the result back: 0.71 s of CPU on a first start (with
hashing the weights and writing the entry) against 0.19 s on a later one (docs/hifigan_speed.md). The prepared
state dict is written once to ``paths.cache_dir()/hifigan/`` and read on every later start;
``hifigan.CACHED_PRECISIONS`` says which precisions use it.

An entry's name is a hash of everything its numbers depend on: the SHA-256 of the weights file (remembered by
the file's path, size and modification time in ``digests.json`` beside the entries, so that a start does not
re-hash 55 MB), the torch version, the CPU's vector capabilities as torch uses them (the ATen capability, the
``ONEDNN_MAX_CPU_ISA`` and ``FBGEMM_ENABLE_INSTRUCTIONS`` caps, the quantised engine), the precision, the caller's
extra key (the int8 activation scales) and :data:`CACHE_FORMAT`. Entries are written atomically (a temporary file
in the same folder, then a rename); an entry that cannot be read (truncated, corrupt, or not a state dict) is
treated as missing, and the caller builds the generator again and writes it over.
"""

from __future__ import annotations

import hashlib
import json
import os
import pickle
import tempfile
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

import torch

from vocoder_studio.cpu import torch_capability
from vocoder_studio.paths import cache_dir

#: raise when what an entry holds changes meaning (module names, layouts, quantisation scheme)
CACHE_FORMAT = 2

#: what a torch.load of a damaged file raises (zip errors arrive as RuntimeError from torch's reader)
_UNREADABLE = (OSError, RuntimeError, EOFError, ValueError, KeyError, TypeError, pickle.UnpicklingError,
               zipfile.BadZipFile)


def folder() -> Path:
    """Where the prepared generators live: ``paths.cache_dir()/hifigan`` (not created here)."""
    return cache_dir() / "hifigan"


def weights_digest(path: Path) -> str:
    """SHA-256 (hex) of the weights file ``path``, remembered in ``folder()/digests.json`` under the file's
    resolved path, size and modification time (ns): hashing 55 MB took 0.17 s here, every start.

    Raises:
        OSError: ``path`` cannot be read.
    """
    path = path.resolve()
    stat = path.stat()
    stamp = [stat.st_size, stat.st_mtime_ns]
    memo_file = folder() / "digests.json"
    try:
        memo = json.loads(memo_file.read_text(encoding="utf-8"))
        if not isinstance(memo, dict):
            memo = {}
    except (OSError, ValueError):
        memo = {}
    known = memo.get(str(path))
    if isinstance(known, dict) and known.get("stamp") == stamp and isinstance(known.get("sha256"), str):
        return str(known["sha256"])
    with path.open("rb") as file:
        digest = hashlib.file_digest(file, "sha256").hexdigest()
    memo[str(path)] = {"stamp": stamp, "sha256": digest}
    text = json.dumps(memo, indent=1).encode()
    _write_atomically(memo_file, lambda file: file.write(text))
    return digest


def machine_key() -> dict[str, str]:
    """The torch version and the CPU capabilities as torch uses them, which prepared weights depend on (the
    quantised engine packs int8 weights for the instructions it will run)."""
    return {
        "torch": torch.__version__,
        "aten": torch_capability(),
        "onednn_max_isa": os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA") or "",
        "fbgemm": os.environ.get("FBGEMM_ENABLE_INSTRUCTIONS", ""),
        "quantized_engine": str(torch.backends.quantized.engine),
    }


def entry_path(weights_file: Path, precision: str, extra: str = "") -> Path:
    """The cache file for the generator prepared from ``weights_file`` in ``precision`` on this machine.

    Raises:
        OSError: the weights file cannot be read.
    """
    key = {"format": CACHE_FORMAT, "weights_sha256": weights_digest(weights_file), "precision": precision,
           "extra": extra, **machine_key()}
    digest = hashlib.sha256(json.dumps(key, sort_keys=True).encode()).hexdigest()[:24]
    return folder() / f"{weights_file.name.split('.')[0]}-{precision}-{digest}.pt"


def read(path: Path) -> dict[str, torch.Tensor] | None:
    """The state dict stored at ``path``; None where there is none or it cannot be read as one (the caller
    rebuilds and :func:`write` replaces it)."""
    if not path.is_file():
        return None
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except _UNREADABLE:
        return None
    if not isinstance(state, dict) or not all(isinstance(v, torch.Tensor) for v in state.values()):
        return None
    return state


def write(path: Path, state: dict[str, torch.Tensor]) -> bool:
    """Store ``state`` at ``path`` atomically (other processes see the old entry or the whole new one);
    False where the cache folder cannot be written (the studio then prepares the generator on every start)."""
    return _write_atomically(path, lambda file: torch.save(state, file))


def _write_atomically(path: Path, save: Callable[[BinaryIO], object]) -> bool:
    """``save`` into a temporary file beside ``path``, then rename it over ``path``; False on any OSError."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")
    except OSError:
        return False
    try:
        with os.fdopen(handle, "wb") as file:
            save(file)
        os.replace(name, path)
    except OSError:
        return False
    finally:
        Path(name).unlink(missing_ok=True)
    return True
