"""The CPU's precision path: bfloat16 only where torch runs it in hardware, caps honoured."""

from __future__ import annotations

import subprocess
import sys

import pytest

from vocoder_studio import cpu
from vocoder_studio.evaluation.bench_docs import machine_line


@pytest.mark.parametrize(("cap", "allowed"), [(None, True), ("ALL", True), ("AVX2", False), ("avx512_core", False),
                                              ("AVX512_CORE_VNNI", False), ("AVX512_CORE_BF16", True),
                                              ("AVX512_CORE_AMX", True), ("AVX10_1_512", True)])
def test_onednn_caps_below_avx512_bf16_rule_out_bfloat16(cap: str | None, allowed: bool) -> None:
    assert cpu.onednn_cap_allows_bfloat16(cap) is allowed


def test_the_avx2_imitation_runs_hifigan_in_int8() -> None:
    """With the caps a user sets to imitate an AVX2-only CPU, HiFi-GAN must not pick emulated bfloat16 (about 70×
    slower), whatever the CPU itself has: it takes its int8 path (AVX2's fast int8 convolutions)."""
    code = ("from vocoder_studio.cpu import cpu_features; from vocoder_studio.vocoders.hifigan import "
            "native_precision; f = cpu_features(); print(f['torch_capability'], f['native_bfloat16'], "
            "native_precision('cpu'))")
    env = {"ONEDNN_MAX_CPU_ISA": "AVX2", "ATEN_CPU_CAPABILITY": "avx2", "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.split() == ["AVX2", "False", "int8"]


def test_without_bfloat16_flags_there_is_no_native_bfloat16(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(cpu, "cpu_flags", lambda: frozenset({"avx2", "fma"}))
    assert not cpu.native_bfloat16()
    assert cpu.cpu_features()["flags"] == ["avx2", "fma"]


def test_the_bench_line_names_the_precision_path() -> None:
    machine = {"cpu": "EPYC", "cores": 2, "threads": 2, "torch": "2.13.0", "device": "cpu",
               "cpu_features": {"torch_capability": "AVX2", "onednn_max_isa": "AVX2", "native_bfloat16": False}}
    line = machine_line({"machine": machine})
    assert "EPYC (torch AVX2, oneDNN capped at AVX2, no native bfloat16), 2 cores" in line
