"""Issue 18: nothing an installed plug-in does takes the studio down. Each broken plug-in is a real package (a
``*.dist-info`` on sys.path) that fails in its own way — it exits or raises at import, declares something else
than entries, takes a built-in's name, or its hooks raise — and the built-ins and the working plug-in go on,
while the listing shows each broken one unavailable with a one-line reason."""

from __future__ import annotations

import importlib
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from vocoder_studio.audio.mel import DEFAULT_CONFIG
from vocoder_studio.errors import VocoderUnavailableError
from vocoder_studio.vocoders import create_vocoder, get_entry, list_vocoders, registry

from ..conftest import EXAMPLE
from .conftest import install_broken_plugins, install_toy_plugin, plugins_on_path

#: each broken plug-in's listed name and what its one-line reason says
REASONS = {
    "exits-at-import": "plug-in exits_at_import failed to load: it called sys.exit(3)",
    "raises-at-import": "plug-in raises_at_import failed to load: RuntimeError: no driver for this card …",
    "generator-exit-at-import": "plug-in generator_exit_at_import failed to load: GeneratorExit",
    "vocoders-of-wrong-type": "plug-in vocoders_of_wrong_type: VOCODERS must be a sequence of VocoderEntry, not int",
    "vocoders-of-strings": "plug-in vocoders_of_strings: VOCODERS must be a sequence of VocoderEntry, not str",
    "vocoder-impostor:griffin-lim": "plug-in vocoder_impostor: the name 'griffin-lim' is taken by the built-in "
                                    "vocoder_studio.vocoders.griffin_lim; this vocoder is not loaded",
    "vocoder-impostor:toy-sine": "plug-in vocoder_impostor: the name 'toy-sine' is taken by plug-in "
                                 "toy_vocoder_plugin; this vocoder is not loaded",
    "check-raises": "plug-in hooks_raise: ZeroDivisionError: division by zero",
    "check-exits": "plug-in hooks_raise: SystemExit: 5",
    "card-exits": "plug-in hooks_raise: SystemExit: 5",
    "check-says-yes": "plug-in hooks_raise: check() returned bool, not None or a reason",
    "bad-label": "plug-in hooks_raise: label must be a string, not int",
}
#: a package whose entry_points.txt cannot be parsed (in-process only: ``import torch`` itself fails on one)
UNPARSABLE = {
    "unparsable-entry-points": "plug-in package unparsable-entry-points: unreadable entry points (TypeError",
}


@pytest.fixture
def broken_plugins(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    site = install_broken_plugins(install_toy_plugin(tmp_path / "site"), unparsable=True)
    yield from plugins_on_path(site, tmp_path / "models", monkeypatch)


def test_broken_plugins_are_listed_with_their_reasons_and_the_rest_works(broken_plugins: Path) -> None:
    entries = {e.name: e for e in list_vocoders()}
    for name, reason in {**REASONS, **UNPARSABLE}.items():
        assert entries[name].status() == "unavailable", name
        got = entries[name].unavailable_reason() or ""
        assert got.startswith(reason) and "\n" not in got, (name, got)
        json.dumps(entries[name].to_json())  # the listing can always be written
    # a clash never replaces a built-in or the plug-in that had the name first
    assert get_entry("griffin-lim").origin == "vocoder_studio.vocoders.griffin_lim"
    assert get_entry("toy-sine").label == "Toy sine (plug-in)" and get_entry("toy-sine").status() == "ready"
    mel = np.full((DEFAULT_CONFIG.n_mels, 12), -4.0, np.float32)
    assert create_vocoder("griffin-lim").vocode(mel).shape == (12 * DEFAULT_CONFIG.hop_length,)
    assert create_vocoder("toy-sine").vocode(mel).shape == (12 * DEFAULT_CONFIG.hop_length,)
    # a factory that calls sys.exit is a refusal, not the end of the program
    assert get_entry("factory-exits").status() == "ready"
    with pytest.raises(VocoderUnavailableError, match=r"^factory-exits: plug-in hooks_raise: SystemExit: 5$"):
        create_vocoder("factory-exits")
    with pytest.raises(VocoderUnavailableError, match="not loaded"):
        create_vocoder("vocoder-impostor:griffin-lim")


def test_ctrl_c_while_a_plugin_loads_still_stops(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    site.mkdir()
    (site / "interrupted_plugin.py").write_text("raise KeyboardInterrupt\n")
    info = site / "interrupted_plugin-0.1.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: interrupted-plugin\nVersion: 0.1\n")
    (info / "entry_points.txt").write_text("[vocoder_studio.vocoders]\ninterrupted = interrupted_plugin\n")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    registry.refresh()
    try:
        with pytest.raises(KeyboardInterrupt):
            list_vocoders()
    finally:
        registry.refresh()


def _cli(site: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(site), str(Path(__file__).resolve().parents[2])])}
    return subprocess.run([sys.executable, "-m", "vocoder_studio", *args], capture_output=True, text=True, env=env,
                          timeout=300)


def test_broken_plugins_in_the_cli(tmp_path: Path) -> None:
    site = install_broken_plugins(install_toy_plugin(tmp_path / "site"))
    listing = _cli(site, "vocoders", "--json")
    assert listing.returncode == 0, listing.stderr
    rows = {row["name"]: row for row in json.loads(listing.stdout)}  # stdout is JSON only, whatever plug-ins print
    assert "a plug-in talking on stdout" in listing.stderr
    for name, reason in REASONS.items():
        assert rows[name]["status"] == "unavailable" and rows[name]["reason"].startswith(reason), name
    assert rows["griffin-lim"]["status"] == "ready" and rows["griffin-lim"]["label"] != "An impostor"
    assert rows["toy-sine"]["status"] == "ready" and rows["hifigan"]["status"] == "ready"

    text = _cli(site, "vocoders")
    assert text.returncode == 0, text.stderr
    assert "exits-at-import  (exits-at-import, 22050 Hz)  unavailable: plug-in exits_at_import failed to load: " \
           "it called sys.exit(3)" in text.stdout

    out = tmp_path / "gl.wav"
    done = _cli(site, "vocode", str(EXAMPLE), "-o", str(out), "--vocoder", "griffin-lim")
    assert done.returncode == 0, done.stderr
    assert sf.info(str(out)).samplerate == DEFAULT_CONFIG.sample_rate

    refused = _cli(site, "vocode", str(EXAMPLE), "-o", str(tmp_path / "no.wav"), "--vocoder", "exits-at-import")
    assert refused.returncode == 2 and not (tmp_path / "no.wav").exists()
    assert refused.stderr.strip().splitlines() == [
        "a plug-in talking on stdout",  # what the printing plug-in said (moved to stderr), then our one line
        "vocoder-studio: error: exits-at-import: plug-in exits_at_import failed to load: it called sys.exit(3)"]
