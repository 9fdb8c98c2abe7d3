"""Peak memory (RSS) of the CLI on long audio: ``vocode`` (per vocoder) and ``mel`` for 1, 10 and 60 minutes.

Not a timed test: it prints a table. Each command runs in its own child process (the CLI's ``main``) and its
peak resident set is that process's own high-water mark (``VmHWM``), so the figure is the whole process:
interpreter, torch, model and data (Linux only).

Inputs are made from the bundled example (real speech) repeated to the length asked: a float32 mel ``.npy``
for ``vocode``, a 22050 Hz PCM-16 WAV for ``mel``; they are written into a temporary folder and removed.

Usage::

    python scripts/memory_bench.py                       # 1 and 10 minutes, griffin-lim, hifigan and mel
    python scripts/memory_bench.py --minutes 1 10 60 --commands griffin-lim mel
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import soundfile as sf

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from vocoder_studio.audio.io import load_audio  # noqa: E402
from vocoder_studio.audio.mel import DEFAULT_CONFIG, wav_to_mel  # noqa: E402
from vocoder_studio.paths import example_path  # noqa: E402

COMMANDS = ("griffin-lim", "hifigan", "mel")


def make_inputs(folder: Path, minutes: float) -> tuple[Path, Path]:
    """A mel ``.npy`` and a WAV of ``minutes`` of the example's speech, repeated."""
    speech = load_audio(example_path())
    samples = int(minutes * 60 * DEFAULT_CONFIG.sample_rate)
    wav = folder / f"speech_{minutes:g}min.wav"
    with sf.SoundFile(str(wav), "w", samplerate=DEFAULT_CONFIG.sample_rate, channels=1, subtype="PCM_16") as out:
        written = 0
        while written < samples:
            block = speech[: samples - written]
            out.write(block)
            written += block.size
    mel_one = wav_to_mel(speech)
    frames = samples // DEFAULT_CONFIG.hop_length
    reps = -(-frames // mel_one.shape[1])
    mel = np.tile(mel_one, (1, reps))[:, :frames]
    npy = folder / f"mel_{minutes:g}min.npy"
    np.save(npy, np.ascontiguousarray(mel, dtype=np.float32))
    return npy, wav


#: The child runs the CLI and reports its own peak resident set (``VmHWM`` of /proc/self/status) on its last
#: stderr line. ``ru_maxrss`` from ``wait4`` is not used: a child started with vfork (as subprocess does) also
#: counts the parent's peak at exec time, and this parent holds the hour-long inputs it made.
_CHILD = """
import re, sys
from vocoder_studio.cli import main
try:
    rc = main(sys.argv[1:])
finally:
    hwm = re.search(r"VmHWM:\\s+(\\d+)", open("/proc/self/status").read()).group(1)
    print(f"VmHWM {hwm}", file=sys.stderr)
sys.exit(rc)
"""


def run(args: list[str]) -> tuple[int, float, float, str]:
    """Run the CLI in a child; returns (exit status, peak RSS in MiB, seconds, last stderr line)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.run([sys.executable, "-c", _CHILD, *args], stdout=subprocess.DEVNULL,
                          stderr=subprocess.PIPE, env=env, cwd=ROOT, check=False)
    seconds = time.perf_counter() - started
    err = proc.stderr.decode(errors="replace").strip().splitlines()
    peak_kib = next((int(line.split()[1]) for line in reversed(err) if line.startswith("VmHWM ")), 0)
    err = [line for line in err if not line.startswith("VmHWM ")]
    return proc.returncode, peak_kib / 1024, seconds, err[-1] if err else ""


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1, 10])
    parser.add_argument("--commands", nargs="+", choices=COMMANDS, default=list(COMMANDS))
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--iterations", type=int, default=32, help="Griffin-Lim iterations")
    args = parser.parse_args(argv)
    print(f"{'command':<12} {'minutes':>7} {'peak RSS MiB':>13} {'seconds':>8}  status")
    with tempfile.TemporaryDirectory(prefix="vs-membench-") as tmp:
        folder = Path(tmp)
        for minutes in args.minutes:
            npy, wav = make_inputs(folder, minutes)
            for command in args.commands:
                out = folder / "out"
                if command == "mel":
                    cli = ["mel", str(wav), "-o", str(out.with_suffix(".npy"))]
                else:
                    cli = ["vocode", str(npy), "-o", str(out.with_suffix(".wav")), "--vocoder", command,
                           "--device", args.device]
                    if command == "griffin-lim":
                        cli += ["--param", f"iterations={args.iterations}"]
                code, peak, seconds, err = run(cli)
                status = "ok" if code == 0 else f"exit {code}: {err}"
                print(f"{command:<12} {minutes:>7g} {peak:>13.0f} {seconds:>8.1f}  {status}", flush=True)
            npy.unlink()
            wav.unlink()
    return 0


if __name__ == "__main__":
    sys.exit(main())
