"""What this CPU computes natively, as torch will use it: the instruction sets it reports, and the caps a user
(or a benchmark imitating an older machine) sets with ``ONEDNN_MAX_CPU_ISA`` (oneDNN's convolutions) and
``ATEN_CPU_CAPABILITY`` (ATen's vectorised kernels). bfloat16 is only worth using where both run it in hardware
(AVX512-BF16 or AMX); elsewhere it is emulated and far slower than float32 (see ``vocoder-studio bench``)."""

from __future__ import annotations

import functools
import os
from pathlib import Path
from typing import Any

#: the /proc/cpuinfo flags that decide a vocoder's precision path, reported by ``bench`` and ``eval``
REPORTED_FLAGS = ("avx2", "fma", "avx512f", "avx512_vnni", "avx512_bf16", "amx_bf16", "amx_tile", "avx_vnni")
_BF16_FLAGS = ("avx512_bf16", "amx_bf16")


@functools.cache
def cpu_flags() -> frozenset[str]:
    """The CPU's instruction-set flags from ``/proc/cpuinfo`` (empty where there is none, e.g. macOS)."""
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("flags"):
                return frozenset(line.split(":", 1)[1].split())
    except OSError:
        pass
    return frozenset()


def torch_capability() -> str:
    """ATen's vector instruction set in use (``"AVX512"``, ``"AVX2"``, ``"DEFAULT"``…), after any
    ``ATEN_CPU_CAPABILITY`` cap."""
    import torch

    return str(torch.backends.cpu.get_cpu_capability())


def onednn_cap_allows_bfloat16(cap: str | None) -> bool:
    """Whether oneDNN capped at ``cap`` (a ``ONEDNN_MAX_CPU_ISA`` value; None or ``ALL``: no cap) may use the
    bfloat16 instructions: only from ``AVX512_CORE_BF16`` up (``AVX512_CORE_AMX``, ``AVX10_…``) in its ISA order."""
    if not cap or cap.upper() in ("ALL", "DEFAULT"):
        return True
    cap = cap.upper()
    return "BF16" in cap or "AMX" in cap or cap.startswith("AVX10")


def native_bfloat16() -> bool:
    """Whether torch computes bfloat16 in hardware here: the CPU has AVX512-BF16 or AMX, and neither
    ``ONEDNN_MAX_CPU_ISA`` nor ``ATEN_CPU_CAPABILITY`` caps torch below them."""
    if not any(f in cpu_flags() for f in _BF16_FLAGS):
        return False
    if not onednn_cap_allows_bfloat16(os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA")):
        return False
    return torch_capability().upper().startswith("AVX512")


def int8_convolutions() -> bool:
    """Whether torch runs quantised int8 convolutions here with a fast kernel: an x86 CPU with AVX2 (fbgemm's and
    oneDNN's int8 kernels need it), a quantised engine for it in this build (``x86`` or ``fbgemm``) and oneDNN
    (HiFi-GAN's int8 path runs oneDNN's int8 convolution)."""
    import torch

    engines = torch.backends.quantized.supported_engines
    return "avx2" in cpu_flags() and torch.backends.quantized.engine in ("x86", "fbgemm") and (
        "x86" in engines or "fbgemm" in engines) and torch.backends.mkldnn.is_available()


def cpu_features() -> dict[str, Any]:
    """For a benchmark's machine record: ``{"flags": [...], "torch_capability": "AVX2", "onednn_max_isa": "AVX2"
    or None, "native_bfloat16": False}`` (flags: those of :data:`REPORTED_FLAGS` the CPU has)."""
    return {
        "flags": [f for f in REPORTED_FLAGS if f in cpu_flags()],
        "torch_capability": torch_capability(),
        "onednn_max_isa": os.environ.get("ONEDNN_MAX_CPU_ISA") or os.environ.get("DNNL_MAX_CPU_ISA"),
        "native_bfloat16": native_bfloat16(),
    }
