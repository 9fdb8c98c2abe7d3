"""Issue 7, section 4: a sound system that aborts the process on ``import sounddevice`` (an empty ALSA
configuration) must not take the app with it; a device that cannot be opened is reported before Play says yes."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

WINDOW_WITHOUT_SOUND = """
import sys
from pathlib import Path
from vocoder_studio.document import Region
from vocoder_studio.paths import example_path
from vocoder_studio.ui.app import create_main_window
win = create_main_window([example_path()], show_dialogs=False)
win.vocoder_panel.set_vocoder("griffin-lim", device="cpu", iterations=2)
win.current_canvas().set_selection(Region(10, 60, 0, 80))
win.window_actions.gain_up_action.trigger()
assert win.export_wav(Path(sys.argv[1]))
import time
from PySide6.QtWidgets import QApplication
deadline = time.monotonic() + 120
while not Path(sys.argv[1]).exists() and time.monotonic() < deadline:  # the export runs on the worker
    QApplication.processEvents()
    time.sleep(0.02)
print("played" if win.toggle_play() else "not played")
print(win.transport.state_text())
win.shutdown()
"""


def broken_alsa_env(tmp_path: Path) -> dict[str, str]:
    empty = tmp_path / "asound.conf"
    empty.write_text("")
    return {**os.environ, "PYTHONPATH": str(ROOT), "ALSA_CONFIG_PATH": str(empty), "QT_QPA_PLATFORM": "offscreen",
            "VOCODER_STUDIO_HOME": str(tmp_path / "home"), "VOCODER_STUDIO_NO_DIALOGS": "1"}


def test_the_broken_alsa_configuration_really_aborts_a_plain_import(tmp_path: Path) -> None:
    """The hazard this guards against (if PortAudio ever copes, the probe is merely unneeded)."""
    result = subprocess.run([sys.executable, "-c", "import sounddevice"], env=broken_alsa_env(tmp_path),
                            capture_output=True, timeout=120)
    if result.returncode == 0:
        pytest.skip("this PortAudio survives an empty ALSA configuration")
    assert result.returncode < 0 or result.returncode == 134


def test_an_aborting_audio_system_leaves_the_app_running_without_sound(tmp_path: Path) -> None:
    script = ("from vocoder_studio.engine.audio_output import playback_status, output_devices\n"
              "print(playback_status()); print(output_devices())")
    result = subprocess.run([sys.executable, "-c", script], env=broken_alsa_env(tmp_path), capture_output=True,
                            text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    status, devices = result.stdout.strip().splitlines()
    assert status.startswith("playback unavailable:") and "audio system" in status and devices == "[]"


def test_a_window_edits_and_exports_without_sound_and_play_says_no(tmp_path: Path) -> None:
    out = tmp_path / "out.wav"
    result = subprocess.run([sys.executable, "-c", WINDOW_WITHOUT_SOUND, str(out)], env=broken_alsa_env(tmp_path),
                            capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-2000:]
    played, state = result.stdout.strip().splitlines()[-2:]
    assert played == "not played" and state.startswith("playback unavailable:")
    assert out.exists() and out.stat().st_size > 1000


def test_play_of_a_device_that_cannot_open_is_refused_at_once() -> None:
    from vocoder_studio.engine.audio_output import playback_status
    from vocoder_studio.engine.player import Player

    if playback_status() is not None:
        pytest.skip(f"no audio output here: {playback_status()}")
    assert Player().check() is None
    assert "cannot open the audio output" in (Player(device=9999).check() or "")
