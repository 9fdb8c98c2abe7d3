"""The audio system, asked safely: whether sounddevice (PortAudio) can be imported in this process without
crashing it (probed in a child process first), the output devices it sees, and why playback is unavailable.

:class:`~vocoder_studio.engine.player.Player` plays through what :func:`sounddevice_module` returns.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from dataclasses import dataclass
from typing import Any

#: What the child process runs to see whether the audio system can be used without crashing the process.
_PROBE = "import sounddevice as sd; sd.query_devices(); sd.query_hostapis(); print('ok')"
#: Seconds the probe may take (PortAudio's start scans every device; a hung sound server must not hang us).
PROBE_TIMEOUT_S = 20.0

_lock = threading.Lock()
_state: dict[str, Any] = {}


def probe_audio_system(timeout: float = PROBE_TIMEOUT_S) -> str | None:
    """Import sounddevice and list devices in a child process: None if that works, else why not (one line).

    ``import sounddevice`` starts PortAudio, which aborts the whole process (SIGABRT inside ALSA) when the ALSA
    configuration is empty or broken; probing in a child keeps the app alive, editing and exporting without
    sound. A frozen app (no interpreter to start) skips the probe.
    """
    if getattr(sys, "frozen", False):  # pragma: no cover - packaged app
        return None
    try:
        result = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=timeout,
                                stdin=subprocess.DEVNULL)
    except subprocess.TimeoutExpired:
        return f"the audio system did not answer within {timeout:g} s"
    except OSError as exc:  # pragma: no cover - cannot start a process at all
        return f"cannot probe the audio system ({exc})"
    if result.returncode == 0 and result.stdout.strip().endswith("ok"):
        return None
    if result.returncode < 0:
        try:
            name = signal.Signals(-result.returncode).name
        except ValueError:
            name = f"signal {-result.returncode}"
        return f"the audio system crashed when probed ({name}; check the ALSA / PortAudio configuration)"
    lines = [line for line in result.stderr.strip().splitlines() if line.strip()]
    return lines[-1][:200] if lines else f"the audio probe failed (exit status {result.returncode})"


def sounddevice_module() -> Any:
    """The sounddevice module, imported only after :func:`probe_audio_system` said it is safe; None (and the
    reason in :func:`playback_status`) otherwise. Probed once per process."""
    with _lock:
        if "module" not in _state:
            reason = probe_audio_system()
            module: Any = None
            if reason is None:
                try:  # PortAudio may be missing entirely (no libportaudio2)
                    import sounddevice

                    module = sounddevice
                except OSError as exc:  # pragma: no cover - depends on the machine
                    reason = str(exc)
            _state["module"], _state["reason"] = module, reason
        return _state["module"]


@dataclass(frozen=True)
class OutputDevice:
    """An audio output: PortAudio index, name, host API, channels, default rate in Hz."""

    index: int
    name: str
    hostapi: str
    channels: int
    default_samplerate: float


def output_devices() -> list[OutputDevice]:
    """Audio outputs PortAudio sees (empty without PortAudio or without any device)."""
    sd = sounddevice_module()
    if sd is None:
        return []
    try:
        devices = sd.query_devices()
        apis = sd.query_hostapis()
    except Exception:  # PortAudio errors on broken set-ups: no devices
        return []
    return [
        OutputDevice(i, d["name"], apis[d["hostapi"]]["name"], d["max_output_channels"], d["default_samplerate"])
        for i, d in enumerate(devices)
        if d["max_output_channels"] > 0
    ]


def playback_status() -> str | None:
    """None when playback can work, else why it cannot (one line for the status bar)."""
    if sounddevice_module() is None:
        return f"playback unavailable: {_state.get('reason')}"
    if not output_devices():
        return "playback unavailable: no audio output device found"
    return None
