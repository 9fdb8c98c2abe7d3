"""Peak memory (RSS) of the CLI on long audio: ``vocode`` (per vocoder) and ``mel`` for 1, 10 and 60 minutes.

Not a timed test: it prints a table. Each command runs in its own child process (``python -m vocoder_studio``)
and its peak resident set comes from the kernel's accounting of that child (``os.wait4``'s ``ru_maxrss``), so
the figure is the whole process: interpreter, torch, model and data.

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


def run(args: list[str]) -> tuple[int, float, float, str]:
    """Run the CLI in a child; returns (exit status, peak RSS in MiB, seconds, last stderr line)."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    started = time.perf_counter()
    proc = subprocess.Popen([sys.executable, "-m", "vocoder_studio", *args], stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE, env=env, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - started
    proc.returncode = os.waitstatus_to_exitcode(status)
    err = proc.stderr.read().decode(errors="replace").strip().splitlines() if proc.stderr else []
    peak_mib = usage.ru_maxrss / 1024 if sys.platform != "darwin" else usage.ru_maxrss / 2**20
    return proc.returncode, peak_mib, seconds, err[-1] if err else ""


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
