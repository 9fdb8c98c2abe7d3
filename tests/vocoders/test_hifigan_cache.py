"""HiFi-GAN's prepared generators in the studio's cache: a later start reads the prepared weights back instead of
preparing them, with the same output; a damaged or stale entry is prepared again and replaced; the key follows
the weights, torch and the CPU."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch

from vocoder_studio.cpu import int8_convolutions
from vocoder_studio.vocoders import hifigan, hifigan_cache

needs_int8 = pytest.mark.skipif(not int8_convolutions(), reason="no fast int8 convolutions here (x86 with AVX2)")


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("VOCODER_STUDIO_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture(scope="module")
def mel() -> torch.Tensor:
    return torch.linspace(-9, 1, 80 * 40).reshape(1, 80, 40).sin() * 3 - 5


def _entries() -> list[Path]:
    return sorted(hifigan_cache.folder().glob("*.pt"))


def _output(generator: torch.nn.Module, mel: torch.Tensor) -> torch.Tensor:
    with torch.inference_mode():
        return generator(mel)


def _preparing_counter(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the generators prepared from the weights file (not read from the cache)."""
    calls: list[int] = []
    fold = hifigan.fold_weight_norm

    def counted(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        calls.append(1)
        return fold(state)

    monkeypatch.setattr(hifigan, "fold_weight_norm", counted)
    return calls


@needs_int8
def test_a_later_start_reads_the_prepared_int8_generator_with_the_same_output(
        home: Path, mel: torch.Tensor, monkeypatch: pytest.MonkeyPatch) -> None:
    precision = "int8"
    prepared = _preparing_counter(monkeypatch)
    first = hifigan.load_generator(precision=precision)
    assert len(prepared) == 1 and len(_entries()) == 1 and precision in _entries()[0].name
    assert _entries()[0].is_relative_to(home / "cache")
    second = hifigan.load_generator(precision=precision)
    assert len(prepared) == 1  # read back, not prepared again
    torch.testing.assert_close(_output(second, mel), _output(first, mel), rtol=0, atol=0)
    uncached = hifigan.load_generator(precision=precision, cache=False)
    torch.testing.assert_close(_output(uncached, mel), _output(first, mel), rtol=0, atol=0)
    assert sum(isinstance(m, hifigan.Int8Conv2d) for m in second.modules()) == hifigan.INT8_STAGES * 3 * 6


def test_float32_is_prepared_from_the_weights_without_a_cache_entry(home: Path) -> None:
    """Reading a cached float32 generator took as long as preparing it (CACHED_PRECISIONS)."""
    hifigan.load_generator(precision="float32")
    assert _entries() == []


def _damage(entry: Path, how: str, state: dict[str, torch.Tensor]) -> None:
    if how == "garbage":
        entry.write_bytes(b"PK\x03\x04 not a state dict" * 100)
    elif how == "truncated":
        entry.write_bytes(entry.read_bytes()[: entry.stat().st_size // 2])
    elif how == "empty":
        entry.write_bytes(b"")
    elif how == "wrong shapes":
        torch.save({k: v[..., :1] if v.ndim else v for k, v in state.items()}, entry)
    else:  # keys missing
        torch.save(dict(list(state.items())[:5]), entry)


@needs_int8
def test_a_damaged_entry_is_prepared_again_and_replaced(home: Path, mel: torch.Tensor,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    expected = _output(hifigan.load_generator(precision="int8"), mel)
    (entry,) = _entries()
    state = torch.load(entry, weights_only=True)
    prepared = _preparing_counter(monkeypatch)
    for count, how in enumerate(["garbage", "truncated", "empty", "wrong shapes", "keys missing"], 1):
        _damage(entry, how, state)
        torch.testing.assert_close(_output(hifigan.load_generator(precision="int8"), mel), expected, rtol=0, atol=0)
        assert len(prepared) == count and _entries() == [entry], how
        assert hifigan_cache.read(entry) is not None, how  # replaced by a good one
    hifigan.load_generator(precision="int8")
    assert len(prepared) == count  # and read back next time


def test_the_key_follows_the_weights_torch_and_the_cpu(home: Path, tmp_path: Path,
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    weights = tmp_path / "weights.pth.tar"
    weights.write_bytes(b"one")
    first = hifigan_cache.entry_path(weights, "int8", "scales")
    assert hifigan_cache.entry_path(weights, "int8", "scales") == first
    assert hifigan_cache.entry_path(weights, "float32", "scales") != first
    assert hifigan_cache.entry_path(weights, "int8", "other scales") != first
    stat = weights.stat()
    weights.write_bytes(b"two")  # new contents, the same size, a later modification time: a new digest
    os.utime(weights, ns=(stat.st_atime_ns, stat.st_mtime_ns + 1_000_000))
    second = hifigan_cache.entry_path(weights, "int8", "scales")
    assert second != first
    key = hifigan_cache.machine_key()
    for field, value in (("torch", "0.0"), ("aten", "DEFAULT"), ("onednn_max_isa", "SSE41")):
        monkeypatch.setattr(hifigan_cache, "machine_key", lambda f=field, v=value: {**key, f: v})
        assert hifigan_cache.entry_path(weights, "int8", "scales") != second, field


@needs_int8
def test_the_int8_kernel_and_stages_key_their_own_entries(home: Path, mel: torch.Tensor,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """A cached generator prepared with another kernel or other quantised stages is never read back as this one."""
    default = _output(hifigan.load_generator(precision="int8"), mel)
    monkeypatch.setattr(hifigan, "INT8_KERNEL", "fbgemm")
    fbgemm = hifigan.load_generator(precision="int8")
    assert len(_entries()) == 2
    assert not any(isinstance(m, hifigan.OneDNNInt8Conv2d) for m in fbgemm.modules())
    assert not torch.equal(_output(fbgemm, mel), default)
    monkeypatch.setattr(hifigan, "INT8_STAGES", 2)
    two = hifigan.load_generator(precision="int8")
    assert len(_entries()) == 3 and sum(isinstance(m, hifigan.Int8Conv2d) for m in two.modules()) == 2 * 3 * 6
    monkeypatch.undo()
    monkeypatch.setenv("VOCODER_STUDIO_HOME", str(home))
    again = hifigan.load_generator(precision="int8")  # read back from its own entry
    assert len(_entries()) == 3 and all(isinstance(m, hifigan.OneDNNInt8Conv2d) for m in again.modules()
                                        if isinstance(m, hifigan.Int8Conv2d))
    torch.testing.assert_close(_output(again, mel), default, rtol=0, atol=0)


@needs_int8
def test_an_unwritable_cache_still_loads(tmp_path: Path, mel: torch.Tensor, monkeypatch: pytest.MonkeyPatch) -> None:
    blocker = tmp_path / "home"
    blocker.write_text("a file where the studio's folder would be")
    monkeypatch.setenv("VOCODER_STUDIO_HOME", str(blocker))
    generator = hifigan.load_generator(precision="int8")
    assert _output(generator, mel).shape == (1, 1, 40 * 256)
    assert not hifigan_cache.write(hifigan_cache.folder() / "x.pt", {})
