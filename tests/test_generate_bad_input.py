"""Bad input to ``vocoder-studio generate`` (issue 19): a range outside the input, a negative, zero or non-finite
number, a missing prime, input or model, an option of another mode — status 2, exactly one line on stderr that
names the problem (the option, and the file where there is one), and nothing written: no output, no part file.
With the shipped MelNet, found as a user's command finds it."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from vocoder_studio.cli import main

from .conftest import ROOT

CASES = {  # id: (arguments after `generate -o OUT`, what the error line must name)
    "seconds-negative": (["--seconds", "-1"], ["--seconds -1"]),
    "seconds-zero": (["--seconds", "0"], ["--seconds 0"]),
    "seconds-nan": (["--seconds", "nan"], ["--seconds nan"]),
    "seconds-inf": (["--seconds", "inf"], ["--seconds inf"]),
    "seconds-past-the-longest-mel": (["--seconds", "1e9"], ["--seconds", "60 minutes"]),
    "seconds-missing": ([], ["--seconds"]),
    "temperature-negative": (["--seconds", "0.2", "--temperature", "-0.5"], ["--temperature -0.5"]),
    "temperature-nan": (["--seconds", "0.2", "--temperature", "nan"], ["--temperature nan"]),
    "temperature-inf": (["--seconds", "0.2", "--temperature", "inf"], ["--temperature inf"]),
    "inpaint-negative-start": (["--inpaint=-0.5:0.5", "--input", "IN"], ["--inpaint", "-0.5:0.5"]),
    "inpaint-negative-start-spaced": (["--inpaint", "-0.5:0.5", "--input", "IN"], ["--inpaint"]),
    "inpaint-nan": (["--inpaint", "nan:0.5", "--input", "IN"], ["--inpaint", "nan:0.5"]),
    "inpaint-inf": (["--inpaint", "0.1:inf", "--input", "IN"], ["--inpaint", "0.1:inf"]),
    "inpaint-reversed": (["--inpaint", "0.5:0.2", "--input", "IN"], ["--inpaint", "0.5:0.2"]),
    "inpaint-not-a-range": (["--inpaint", "abc", "--input", "IN"], ["--inpaint", "abc"]),
    "inpaint-outside-the-input": (["--inpaint", "5:6", "--input", "IN"], ["IN", "--inpaint 5:6", "after its end"]),
    "inpaint-shorter-than-a-frame": (["--inpaint", "0.1:0.101", "--input", "IN"], ["--inpaint 0.1:0.101"]),
    "inpaint-without-input": (["--inpaint", "0.1:0.2"], ["--inpaint", "--input"]),
    "inpaint-input-missing": (["--inpaint", "0.1:0.2", "--input", "MISSING"], ["MISSING", "no such file"]),
    "inpaint-with-seconds": (["--inpaint", "0.1:0.2", "--input", "IN", "--seconds", "1"], ["--seconds"]),
    "input-without-inpaint": (["--seconds", "0.2", "--input", "IN"], ["--input", "--inpaint"]),
    "prime-missing": (["--seconds", "0.2", "--prime", "MISSING"], ["MISSING", "no such file"]),
    "prime-seconds-negative": (["--seconds", "0.2", "--prime", "IN", "--prime-seconds", "-1"], ["--prime-seconds -1"]),
    "prime-seconds-zero": (["--seconds", "0.2", "--prime", "IN", "--prime-seconds", "0"], ["--prime-seconds 0"]),
    "prime-seconds-nan": (["--seconds", "0.2", "--prime", "IN", "--prime-seconds", "nan"], ["--prime-seconds nan"]),
    "prime-seconds-inf": (["--seconds", "0.2", "--prime", "IN", "--prime-seconds", "inf"], ["--prime-seconds inf"]),
    "prime-seconds-without-prime": (["--seconds", "0.2", "--prime-seconds", "1"], ["--prime-seconds", "--prime"]),
    "model-missing": (["--seconds", "0.2", "--model", "MISSING"], ["MISSING"]),
    "output-folder-missing": (["--seconds", "0.2", "-o", "NOFOLDER"], ["NOFOLDER", "does not exist"]),
    "output-not-npy": (["--seconds", "0.2", "-o", "OUT.txt"], ["OUT.txt", ".npy"]),
}


def _status(argv: list[str]) -> int:
    """What the command exits with: ``main``'s return value, or argparse's own exit status."""
    try:
        return main(argv)
    except SystemExit as exc:
        return int(exc.code or 0)


def _folder_listing(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))  # hidden part files included


@pytest.mark.parametrize("case", CASES)
def test_bad_input_is_one_line_status_2_and_nothing_written(case: str, short_clip: Path, tmp_path: Path,
                                                            capfd: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("VOCODER_STUDIO_MODELS", raising=False)  # the shipped model, found as a user's command does
    clip = tmp_path / "in.wav"
    clip.write_bytes(short_clip.read_bytes())  # 1 s of speech
    names = {"IN": str(clip), "MISSING": str(tmp_path / "missing.wav"), "NOFOLDER": str(tmp_path / "no" / "o.npy"),
             "OUT.txt": str(tmp_path / "out.txt")}
    args, named = CASES[case]
    args = [names.get(a, a) for a in args]
    output = [] if "-o" in args else ["-o", str(tmp_path / "out.npy")]
    before = _folder_listing(tmp_path)
    capfd.readouterr()
    assert _status(["generate", *output, *args]) == 2
    captured = capfd.readouterr()
    lines = captured.err.splitlines()
    assert len(lines) == 1 and lines[0].startswith("vocoder-studio: error: "), captured.err
    for text in named:
        assert names.get(text, text) in lines[0], lines[0]
    assert captured.out == ""
    assert _folder_listing(tmp_path) == before


def test_the_command_itself_refuses_a_range_outside_the_input(short_clip: Path, tmp_path: Path) -> None:
    """The same through the real command (a process of its own: nothing else on stderr, no traceback)."""
    out = tmp_path / "out.npy"
    done = subprocess.run([sys.executable, "-m", "vocoder_studio", "generate", "-o", str(out), "--inpaint", "2:3",
                           "--input", str(short_clip)], capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert done.returncode == 2 and done.stdout == ""
    assert done.stderr == f"vocoder-studio: error: {short_clip}: --inpaint 2:3 starts after its end (1.00 s)\n"
    assert not out.exists() and _folder_listing(tmp_path) == []
