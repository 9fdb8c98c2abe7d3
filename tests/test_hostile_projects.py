"""Issue 7, section 1: project files are untrusted input.

Every hostile project is generated here (nothing binary is committed). Whatever a project holds, loading it
either gives a document or the app's own one-line :class:`AudioFileError` naming the file and what is wrong:
never a traceback, never gigabytes of memory, never a file written outside the project, never an unpickle.
"""

from __future__ import annotations

import io
import json
import struct
import subprocess
import sys
import tracemalloc
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from vocoder_studio.audio.io import max_mel_frames
from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.document import Document, Region, open_document
from vocoder_studio.errors import AudioFileError
from vocoder_studio.project_file import MAX_META_BYTES

ROOT = Path(__file__).resolve().parent.parent
N_MELS = DEFAULT_CONFIG.n_mels


def good_meta(**changes: Any) -> dict[str, Any]:
    meta: dict[str, Any] = {
        "format": "vocoder-studio-project", "format_version": 1, "app_version": "0.1", "source": "take.wav",
        "vocoder": "griffin-lim", "sample_rate": DEFAULT_CONFIG.sample_rate,
        "hop_length": DEFAULT_CONFIG.hop_length, "n_mels": N_MELS, "selection": [1, 5, 0, 10],
    }
    meta.update(changes)
    return meta


def npy_bytes(arr: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.save(buffer, arr, allow_pickle=True)
    return buffer.getvalue()


GOOD_MEL = npy_bytes(np.full((N_MELS, 20), -6.0, np.float32))


def write_project(path: Path, meta: Any = None, mel: bytes = GOOD_MEL, raw_meta: bytes | None = None,
                  extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("mel.npy", mel)
        archive.writestr("meta.json", raw_meta if raw_meta is not None else json.dumps(meta))
        for name, data in (extra or {}).items():
            archive.writestr(name, data)
    return path


def load_error(path: Path) -> str:
    with pytest.raises(AudioFileError) as info:
        Document.load(path)
    message = str(info.value)
    assert "\n" not in message and message.startswith(str(path))
    return message


def test_a_good_project_loads(tmp_path: Path) -> None:
    doc = Document.load(write_project(tmp_path / "ok.vsproj", good_meta()))
    assert doc.frames == 20 and doc.selection == Region(1, 5, 0, 10) and doc.vocoder == "griffin-lim"


@pytest.mark.parametrize(("meta", "field"), [
    ([1, 2, 3], "JSON object"), (42, "JSON object"), ("text", "JSON object"), (None, "JSON object"),
    (good_meta(selection=[1, 2, 3]), "selection"),
    (good_meta(selection={"frame0": 1}), "selection"),
    (good_meta(selection=["a", "b", "c", "d"]), "selection"),
    (good_meta(selection=[0.5, 2.0, 0.0, 3.0]), "selection"),
    (good_meta(selection=[-4, 2, 0, 3]), "selection"),
    (good_meta(selection=[0, 999, 0, 3]), "selection"),
    (good_meta(selection=[0, 2, 0, 999]), "selection"),
    (good_meta(selection=[5, 2, 0, 3]), "selection"),
    (good_meta(selection=[True, 2, 0, 3]), "selection"),
    (good_meta(source=17), "source"), (good_meta(source=["a"]), "source"), (good_meta(source={"x": 1}), "source"),
    (good_meta(vocoder=3), "vocoder"), (good_meta(vocoder="../../etc/passwd"), "vocoder"),
    (good_meta(format_version=999), "format_version"), (good_meta(format_version="1"), "format_version"),
    (good_meta(format="zip"), "format"),
    (good_meta(sample_rate="22050"), "sample_rate"), (good_meta(sample_rate=44100), "sample_rate"),
    (good_meta(sample_rate=22050.5), "sample_rate"),
    (good_meta(n_mels=64), "n_mels"), (good_meta(hop_length=512), "hop_length"),
    (good_meta(app_version=1.0), "app_version"),
])
def test_meta_json_is_checked_against_the_schema(tmp_path: Path, meta: Any, field: str) -> None:
    message = load_error(write_project(tmp_path / "p.vsproj", meta))
    assert field in message


def test_a_string_sample_rate_is_not_misreported_as_a_different_rate(tmp_path: Path) -> None:
    message = load_error(write_project(tmp_path / "p.vsproj", good_meta(sample_rate="22050")))
    assert "22050 Hz is not 22050" not in message and "string" in message


def test_meta_json_that_is_not_json_or_not_utf8(tmp_path: Path) -> None:
    assert "not a Vocoder Studio project" in load_error(write_project(tmp_path / "a.vsproj", raw_meta=b"{nope"))
    assert "not a Vocoder Studio project" in load_error(write_project(tmp_path / "b.vsproj", raw_meta=b"\xff\xfe"))
    deep = b"[" * 100_000 + b"]" * 100_000
    load_error(write_project(tmp_path / "c.vsproj", raw_meta=deep))


def _patch_member_headers(data: bytes, name: bytes, offset_local: int, offset_central: int, value: bytes) -> bytes:
    """Overwrite a field of member ``name`` in its local header and its central directory entry."""
    out = bytearray(data)
    for signature, name_at, offset in ((b"PK\x03\x04", 30, offset_local), (b"PK\x01\x02", 46, offset_central)):
        start = 0
        while (at := out.find(signature, start)) >= 0:
            if out[at + name_at : at + name_at + len(name)] == name:
                out[at + offset : at + offset + len(value)] = value
            start = at + 4
    return bytes(out)


def test_an_encrypted_member_is_one_line(tmp_path: Path) -> None:
    path = write_project(tmp_path / "enc.vsproj", good_meta())
    flagged = _patch_member_headers(path.read_bytes(), b"mel.npy", 6, 8, struct.pack("<H", 0x1))
    path.write_bytes(flagged)
    assert "encrypted" in load_error(path)


def test_an_unknown_compression_method_is_one_line(tmp_path: Path) -> None:
    path = write_project(tmp_path / "cmp.vsproj", good_meta())
    path.write_bytes(_patch_member_headers(path.read_bytes(), b"mel.npy", 8, 10, struct.pack("<H", 99)))
    assert "compression" in load_error(path)


def test_damaged_and_truncated_zips(tmp_path: Path) -> None:
    good = write_project(tmp_path / "good.vsproj", good_meta()).read_bytes()
    for i, data in enumerate([b"", b"PK\x05\x06" + b"\0" * 18, good[: len(good) // 2], good[:-10],
                              good[:60] + bytes(200) + good[260:], b"not a zip at all"]):
        load_error(_write(tmp_path / f"bad{i}.vsproj", data))


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


def test_a_header_announcing_10e13_frames_is_refused_before_allocating(tmp_path: Path) -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (N_MELS, 10**13)})
    path = write_project(tmp_path / "huge.vsproj", good_meta(selection=None), mel=header.getvalue() + bytes(64))
    tracemalloc.start()
    try:
        message = load_error(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than a document may be" in message and peak < 20e6


def test_a_meta_json_bomb_is_refused_before_decompressing(tmp_path: Path) -> None:
    path = write_project(tmp_path / "bomb.vsproj", raw_meta=b" " * (20 * MAX_META_BYTES) + b"{}")
    assert path.stat().st_size < 100_000
    assert "meta.json announces" in load_error(path)


def test_a_mel_member_bomb_is_refused_before_decompressing(tmp_path: Path) -> None:
    """A few hundred kB of deflated zeros that would expand past the largest mel a project may hold."""
    path = tmp_path / "melbomb.vsproj"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.json", json.dumps(good_meta()))
        with archive.open("mel.npy", "w", force_zip64=True) as member:
            block = bytes(1 << 24)
            for _ in range(8 * N_MELS * max_mel_frames() // len(block) + 2):
                member.write(block)
    assert path.stat().st_size < 1_000_000
    tracemalloc.start()
    try:
        assert "mel.npy announces" in load_error(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 20e6


def test_a_valid_but_too_long_mel_is_refused_from_its_header(tmp_path: Path) -> None:
    """Ten million frames of a constant compress to little; the header is read, nothing is allocated."""
    frames = 10_000_000
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False, "shape": (N_MELS, frames)})
    path = tmp_path / "long.vsproj"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("meta.json", json.dumps(good_meta(selection=None)))
        with archive.open("mel.npy", "w", force_zip64=True) as member:
            member.write(header.getvalue())
            member.write(bytes(4 * N_MELS * 1000))  # the rest is not needed to refuse it
    tracemalloc.start()
    try:
        message = load_error(path)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert "larger than a document may be" in message and peak < 20e6


def test_zip_slip_names_write_nothing_and_pickles_are_never_loaded(tmp_path: Path) -> None:
    inside = tmp_path / "deep" / "er"
    inside.mkdir(parents=True)
    path = write_project(inside / "slip.vsproj", good_meta(),
                         extra={"../../evil.txt": b"x", "/abs/evil.txt": b"x", "mel.npy/../../evil2.txt": b"x"})
    before = sorted(p for p in tmp_path.rglob("*"))
    Document.load(path)
    assert sorted(p for p in tmp_path.rglob("*")) == before
    marker = tmp_path / "unpickled"
    pickled = npy_bytes(np.array([_Boom(str(marker))], dtype=object))
    message = load_error(write_project(tmp_path / "pickle.vsproj", good_meta(), mel=pickled))
    assert "Python objects" in message and not marker.exists()


class _Boom:
    """Unpickling this would create a file: proof that nothing in a project is ever unpickled."""

    def __init__(self, marker: str) -> None:
        self.marker = marker

    def __reduce__(self) -> tuple[Any, ...]:
        return (open, (self.marker, "w"))


def test_bad_mels_inside_a_project(tmp_path: Path) -> None:
    cases = {
        "nan": npy_bytes(np.full((N_MELS, 4), np.nan, np.float32)),
        "int": npy_bytes(np.zeros((N_MELS, 4), np.int16)),
        "shape": npy_bytes(np.zeros((3, 4), np.float32)),
        "empty": npy_bytes(np.zeros((N_MELS, 0), np.float32)),
        "truncated": GOOD_MEL[:-100],
        "garbage": b"\x93NUMPY\x01\x00{'descr': bogus}",
    }
    for name, data in cases.items():
        load_error(write_project(tmp_path / f"{name}.vsproj", good_meta(selection=None), mel=data))


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False) | st.text(max_size=20),
    lambda children: st.lists(children, max_size=5) | st.dictionaries(st.text(max_size=12), children, max_size=5),
    max_leaves=20,
)
meta_fields = st.sampled_from(["format", "format_version", "app_version", "source", "vocoder", "sample_rate",
                               "hop_length", "n_mels", "selection"])


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(changes=st.dictionaries(meta_fields, json_values, max_size=4), drop=st.lists(meta_fields, max_size=3),
       whole=st.none() | json_values)
def test_random_metadata_gives_a_document_or_our_one_line_error(tmp_path: Path, changes: dict[str, Any],
                                                                drop: list[str], whole: Any) -> None:
    meta: Any = good_meta(**changes)
    for field in drop:
        meta.pop(field, None)
    if whole is not None:
        meta = whole
    path = write_project(tmp_path / "h.vsproj", meta)
    try:
        doc = Document.load(path)
    except AudioFileError as exc:
        assert "\n" not in str(exc)
        return
    assert doc.source is None or isinstance(doc.source, str)
    assert doc.vocoder is None or isinstance(doc.vocoder, str)
    if doc.selection is not None:  # a selection that loads is usable by copy, gain, fade, export
        sel = doc.selection
        assert all(isinstance(v, int) for v in vars(sel).values())
        assert 0 <= sel.frame0 < sel.frame1 <= doc.frames and 0 <= sel.band0 < sel.band1 <= doc.n_mels
    doc.save(tmp_path / "again.vsproj")  # what loads also saves and loads again (the autosave path)
    Document.load(tmp_path / "again.vsproj")


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(mel=st.binary(max_size=600), meta=st.binary(max_size=200), prefix=st.sampled_from([b"", b"\x93NUMPY"]),
       whole=st.none() | st.binary(max_size=400))
def test_random_member_bytes_give_only_our_one_line_error(tmp_path: Path, mel: bytes, meta: bytes, prefix: bytes,
                                                          whole: bytes | None) -> None:
    path = tmp_path / "r.vsproj"
    if whole is not None:
        path.write_bytes(b"PK\x03\x04" + whole)
    else:
        write_project(path, raw_meta=meta, mel=prefix + mel)
    with pytest.raises(AudioFileError) as info:
        Document.load(path)
    assert "\n" not in str(info.value)


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(flips=st.lists(st.tuples(st.integers(0, 10_000), st.integers(1, 255)), min_size=1, max_size=6))
def test_bit_flips_in_a_real_project_give_a_document_or_our_error(tmp_path: Path, flips: list[tuple[int, int]]) -> None:
    data = bytearray(write_project(tmp_path / "good.vsproj", good_meta()).read_bytes())
    for at, mask in flips:
        data[at % len(data)] ^= mask
    path = _write(tmp_path / "flipped.vsproj", bytes(data))
    try:
        Document.load(path)
    except AudioFileError as exc:
        assert "\n" not in str(exc)


def run_cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "vocoder_studio", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_cli_mel_and_open_give_one_line_for_hostile_files(tmp_path: Path) -> None:
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f4", "fortran_order": False,
                                                  "shape": (N_MELS, 10**13)})
    huge = _write(tmp_path / "huge.npy", header.getvalue() + bytes(64))
    out = tmp_path / "out.npy"
    result = run_cli("mel", str(huge), "-o", str(out))
    assert result.returncode == 2 and "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1
    assert not out.exists()
    project = write_project(tmp_path / "list.vsproj", [1, 2])
    result = run_cli("open", str(project))
    assert result.returncode == 2 and "Traceback" not in result.stderr and "JSON object" in result.stderr


def test_open_document_routes_projects_through_the_checks(tmp_path: Path) -> None:
    with pytest.raises(AudioFileError, match="selection"):
        open_document(write_project(tmp_path / "x.vsproj", good_meta(selection=[0, 2, 0])))


def test_a_vocoder_this_installation_lacks_is_refused_naming_the_field(tmp_path: Path) -> None:
    from vocoder_studio.engine.documents import open_checked

    unknown = write_project(tmp_path / "unknown.vsproj", good_meta(vocoder="no-such-vocoder"))
    with pytest.raises(AudioFileError, match="field 'vocoder': 'no-such-vocoder' is not a vocoder") as info:
        open_checked(unknown)
    assert "\n" not in str(info.value) and "hifigan" in str(info.value)
    result = run_cli("open", str(unknown))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1 and "'vocoder'" in result.stderr
    # a registered vocoder opens, whether or not its weights are present; so does a project naming none
    for name in ("melgan", "hifigan", None):
        doc = open_checked(write_project(tmp_path / f"{name}.vsproj", good_meta(vocoder=name)))
        assert doc.vocoder == name
