"""The ``vocoder-studio`` command (``python -m vocoder_studio`` is the same).

Bad input exits with status 2 and one line ``vocoder-studio: error: <file>: <reason>`` on stderr, with no
traceback and no partial output file.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Sequence
from pathlib import Path

from vocoder_studio import __version__
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.paths import example_path

PROG = "vocoder-studio"


def display_problem(environ: dict[str, str] | None = None) -> str | None:
    """Why no window can open here (Linux without an X or Wayland display), or None.

    Qt would abort with a core dump; this says it in one line instead.
    """
    env = os.environ if environ is None else environ
    if not sys.platform.startswith("linux") or env.get("QT_QPA_PLATFORM"):
        return None
    if env.get("DISPLAY") or env.get("WAYLAND_DISPLAY"):
        return None
    return ("no display: DISPLAY and WAYLAND_DISPLAY are not set (run it on a desktop, under xvfb-run, "
            "or see the window with `make screenshot`)")


def _cmd_mel(args: argparse.Namespace) -> int:
    from vocoder_studio.audio import save_mel
    from vocoder_studio.document import open_document

    mel = open_document(Path(args.input)).mel
    save_mel(args.output, mel)
    print(f"{args.output}: mel {mel.shape[0]} × {mel.shape[1]} frames")
    return 0


def _cmd_vocode(args: argparse.Namespace) -> int:
    import torch

    from vocoder_studio.audio import save_wav
    from vocoder_studio.document import open_document
    from vocoder_studio.engine import choose_device
    from vocoder_studio.vocoders import create_vocoder

    output = Path(args.output)
    if output.suffix.lower() != ".wav":
        raise VocoderStudioError(f"{output}: the output must be a .wav file")
    mel = open_document(Path(args.input)).mel
    params = {}
    if args.iterations is not None:
        params["iterations"] = args.iterations
    vocoder = create_vocoder(args.vocoder, device=choose_device(args.device), **params)
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    audio = vocoder.vocode(mel).numpy()
    save_wav(output, audio, vocoder.sample_rate, args.format)
    print(f"{output}: {audio.size / vocoder.sample_rate:.2f} s at {vocoder.sample_rate} Hz, {vocoder.describe()}")
    return 0


def _cmd_vocoders(args: argparse.Namespace) -> int:
    from vocoder_studio.vocoders import list_vocoders

    rows = [(v.name, str(22050), v.weights_source, v.status()) for v in list_vocoders()]
    header = ("name", "sample rate", "weights source", "status")
    widths = [max(len(r[i]) for r in [header, *rows]) for i in range(3)]
    for row in [header, *rows]:
        print("  ".join(cell.ljust(w) for cell, w in zip(row[:3], widths, strict=True)) + "  " + row[3])
    return 0


def _cmd_open(args: argparse.Namespace) -> int:
    from vocoder_studio.document import open_document

    path = Path(args.file) if getattr(args, "file", None) else example_path()
    open_document(path)  # a bad file is one line on stderr and status 2, before any window opens
    reason = display_problem()
    if reason is not None:
        raise VocoderStudioError(reason)
    from vocoder_studio.ui.app import run_app

    return run_app([path])


def _cmd_bench(args: argparse.Namespace) -> int:
    from vocoder_studio.evaluation.bench import run_bench

    return run_bench(args)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog=PROG, description="Draw, edit and vocode mel-spectrograms.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("open", help="launch the GUI on FILE (wav/flac/ogg, .npy mel, project file)")
    p.add_argument("file")
    p.set_defaults(func=_cmd_open)

    p = sub.add_parser("mel", help="audio → mel (.npy, 80 × frames, natural-log magnitude)")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.set_defaults(func=_cmd_mel)

    p = sub.add_parser("vocode", help="audio or .npy mel → WAV through a vocoder")
    p.add_argument("input")
    p.add_argument("-o", "--output", required=True)
    p.add_argument("--vocoder", default="hifigan", help="a name from `vocoder-studio vocoders`")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--iterations", type=int, default=None, help="Griffin-Lim iterations")
    p.add_argument("--format", choices=["pcm16", "float32"], default="pcm16", help="WAV sample format")
    p.set_defaults(func=_cmd_vocode)

    p = sub.add_parser("vocoders", help="list vocoders: name, sample rate, weights source, status")
    p.set_defaults(func=_cmd_vocoders)

    p = sub.add_parser("bench", help="measure vocoder speed, latency and memory on 10+ s of speech (see --input)")
    p.add_argument("--vocoders", default="griffin-lim,hifigan")
    p.add_argument("--input", default=None, help="speech to time (default: alsa-utils' clips, else the example twice)")
    p.set_defaults(func=_cmd_bench)
    return parser




def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if args.command is None:
            return _cmd_open(argparse.Namespace(file=None))
        return int(args.func(args))
    except VocoderStudioError as exc:
        print(f"{PROG}: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(f"{PROG}: interrupted", file=sys.stderr)
        return 130
