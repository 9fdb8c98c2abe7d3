"""The ``vocoder-studio`` command (``python -m vocoder_studio`` is the same).

Bad input exits with status 2 and one line ``vocoder-studio: error: <file>: <reason>`` on stderr, with no
traceback and no partial output file.
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import sys
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, NoReturn

from vocoder_studio import __version__
from vocoder_studio.errors import VocoderStudioError
from vocoder_studio.paths import APP_NAME, example_path

if TYPE_CHECKING:
    from vocoder_studio.engine.batch import BatchItem
    from vocoder_studio.vocoders.base import Vocoder

#: The command's name in messages and ``--help``: the app's name.
PROG = APP_NAME


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


def _require_suffix(path: Path, suffix: str, what: str) -> None:
    """Refuse an output name whose suffix does not match the format written (``x.txt`` for a .npy)."""
    if path.suffix.lower() != suffix:
        raise VocoderStudioError(f"{path}: the output must be a {suffix} file ({what})")


def _require_folder(path: Path) -> None:
    """Refuse an output whose folder does not exist before any work (the write would refuse it only after)."""
    if not path.parent.is_dir():
        raise VocoderStudioError(f"{path}: the folder {path.parent} does not exist")


def _check_number(option: str, value: float, zero_allowed: bool = False) -> float:
    """``value`` of ``option`` when it is finite and > 0 (≥ 0 with ``zero_allowed``).

    Raises:
        VocoderStudioError: NaN, infinite, negative or (unless allowed) zero; the message names the option.
    """
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_allowed):
        need = "a finite number ≥ 0" if zero_allowed else "a positive, finite number"
        raise VocoderStudioError(f"{option} {value:g}: must be {need}")
    return value


def _mel_picture(source: Path, picture: Path) -> None:
    """Draw the mel of ``source`` with axes and colour bar as PNG or SVG (offscreen Qt)."""
    import os

    from vocoder_studio.engine.documents import open_checked

    if picture.suffix.lower() not in (".png", ".svg"):
        raise VocoderStudioError(f"{picture}: the picture must be a .png or .svg file")
    doc = open_checked(source)
    os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
    from vocoder_studio.ui.app import ensure_app
    from vocoder_studio.ui.image_export import mel_image

    ensure_app()
    mel_image(doc, picture)
    print(f"{picture}: picture of the mel ({doc.n_mels} × {doc.frames} frames)")


def _cmd_mel(args: argparse.Namespace) -> int:
    from vocoder_studio.audio import save_mel
    from vocoder_studio.audio.io import mel_blocks, write_mel_blocks
    from vocoder_studio.document import PROJECT_SUFFIX
    from vocoder_studio.engine.documents import open_checked

    source = Path(args.input)
    if args.png:
        _mel_picture(source, Path(args.png))
        if not args.output:
            return 0
    if not args.output:
        raise VocoderStudioError("mel: give -o OUT.npy, --png OUT.png, or both")
    output = Path(args.output)
    _require_suffix(output, ".npy", "a float32 mel array")
    if source.suffix.lower() in (PROJECT_SUFFIX, ".npy"):
        mel = open_checked(source).mel
        shape = tuple(mel.shape)
        save_mel(output, mel)
    else:  # audio: analysed and written as it is read (flat memory for an hour of audio)
        shape = write_mel_blocks(output, mel_blocks(source))
    print(f"{output}: mel {shape[0]} × {shape[1]} frames")
    return 0


def _cmd_vocode(args: argparse.Namespace) -> int:
    import numpy as np
    import torch

    from vocoder_studio.audio.io import MelFile
    from vocoder_studio.audio.mel import DEFAULT_CONFIG
    from vocoder_studio.document import open_document
    from vocoder_studio.engine import choose_device
    from vocoder_studio.engine.batch import plan_batch
    from vocoder_studio.engine.export import write_vocoded
    from vocoder_studio.vocoders import get_entry
    from vocoder_studio.vocoders.params import parse_assignments

    output = Path(args.output)
    batch = len(args.inputs) > 1 or output.is_dir()
    items = plan_batch(args.inputs, output) if batch else None  # names checked before any work
    if not batch:
        _require_suffix(output, ".wav", "a WAV file")
    entry = get_entry(args.vocoder)
    assignments = list(args.param or [])
    if args.iterations is not None:  # the old spelling of --param iterations=N
        assignments.append(f"iterations={args.iterations}")
    params = parse_assignments(entry.parameters, assignments, entry.name)
    source = Path(args.inputs[0])
    mel: np.ndarray | MelFile | None = None
    if not batch:  # a .npy mel is read as it is vocoded (flat memory for an hour); other inputs are opened
        mel = MelFile(source) if source.suffix.lower() == ".npy" else open_document(source).mel
    vocoder = entry.create(device=choose_device(args.device), config=DEFAULT_CONFIG, **params)
    if items is not None:
        return _vocode_batch(items, vocoder, args.format)
    assert mel is not None
    torch.set_num_threads(max(1, os.cpu_count() or 1))
    samples = write_vocoded(mel, output, vocoder, args.format)
    print(f"{output}: {samples / vocoder.sample_rate:.2f} s at {vocoder.sample_rate} Hz, {vocoder.describe()}")
    return 0


def _vocode_batch(items: list[BatchItem], vocoder: Vocoder, sample_format: str) -> int:
    """``vocode IN... -o DIR``: a progress bar over files, a line per file, a summary; 2 when any failed."""
    from tqdm import tqdm

    from vocoder_studio.engine.batch import BatchOutcome, run_batch

    with tqdm(total=len(items), desc="vocode", unit="file", file=sys.stderr, disable=None) as bar:
        def done(outcome: BatchOutcome) -> None:
            if outcome.ok:
                bar.write(f"{outcome.item.output}: {outcome.samples / outcome.sample_rate:.2f} s", file=sys.stdout)
            else:
                bar.write(f"{PROG}: error: {outcome.error}", file=sys.stderr)
            sys.stdout.flush()
            bar.update()

        outcomes = run_batch(items, vocoder, sample_format, on_done=done)
    failed = sum(not o.ok for o in outcomes)
    print(f"{len(outcomes) - failed} of {len(outcomes)} files vocoded into {items[0].output.parent} with "
          f"{vocoder.describe()}" + (f"; {failed} failed" if failed else ""), file=sys.stderr if failed else sys.stdout)
    return 2 if failed else 0


def _cmd_vocoders(args: argparse.Namespace) -> int:
    import json

    from vocoder_studio.vocoders import list_vocoders

    entries = list_vocoders()
    if args.json:
        print(json.dumps([e.to_json() for e in entries], indent=2))
        return 0
    for entry in entries:
        reason = entry.unavailable_reason()
        status = "ready" if reason is None else f"unavailable: {reason}"
        print(f"{entry.name}  ({entry.label}, {entry.sample_rate} Hz)  {status}")
        if entry.summary():
            print(f"    {entry.summary()}")
        for p in entry.parameters:
            print(f"    --param {p.name}=…  {p.describe_range()}, default {p.default}: {p.help}")
    return 0


def _cmd_install_desktop(args: argparse.Namespace) -> int:
    from vocoder_studio.desktop import describe, install_desktop, uninstall_desktop

    home = Path(args.data_home) if args.data_home else None
    report = uninstall_desktop(home) if args.uninstall else install_desktop(home)
    print(describe(report, removed=args.uninstall))
    return 0


def _cmd_open(args: argparse.Namespace) -> int:
    from vocoder_studio.engine.documents import open_checked

    path = Path(args.file) if getattr(args, "file", None) else example_path()
    open_checked(path)  # a bad file is one line on stderr and status 2, before any window opens
    reason = display_problem()
    if reason is not None:
        raise VocoderStudioError(reason)
    from vocoder_studio.ui.app import run_app

    return run_app([path])


def _cmd_bench(args: argparse.Namespace) -> int:
    import json

    from vocoder_studio.evaluation.bench import run_bench

    data = run_bench(args.vocoders, args.device, args.input, args.runs, note=args.note,
                     avx2_imitation=True if args.avx2_imitation == "all" else
                     [name.strip() for name in (args.avx2_imitation or "").split(",") if name.strip()])
    if args.json:
        print(json.dumps(data, indent=2))
    return 0


def _cmd_eval_vocoders(args: argparse.Namespace) -> int:
    from vocoder_studio.evaluation.report import run_eval

    return run_eval(args.clips, args.vocoders, args.device, args.json, args.report, args.csv, args.threads,
                    args.repeats)


def _cmd_data(args: argparse.Namespace) -> int:
    from vocoder_studio.training.run import prepare_data

    if args.action == "pack":
        from vocoder_studio.training.corpus import Pack, travel_pack

        if not args.output:
            raise VocoderStudioError("data pack: give the folder to write with -o DIR")
        for split, path in travel_pack(Path(args.output), args.minutes).items():
            pack = Pack.load(path)
            print(f"{split}: {path} ({len(pack)} clips, {pack.seconds / 60:.1f} min, "
                  f"{path.stat().st_size / 2**20:.1f} MiB)")
        return 0
    for split, path in prepare_data(rescan=args.rescan).items():
        print(f"{split}: {path}")
    return 0


def _cmd_train(args: argparse.Namespace) -> int:
    import torch

    from vocoder_studio.engine import choose_device
    from vocoder_studio.training.run import export, train

    if args.threads:
        torch.set_num_threads(args.threads)
    card = None
    if args.card:
        from vocoder_studio.training.run import read_card_fields

        if not args.export:
            raise VocoderStudioError("--card: give it with --export DIR (the card is written with the model)")
        card = read_card_fields(Path(args.card))
    if args.merge_tiers:
        from vocoder_studio.training.run import export_merged_melnet

        if args.model != "melnet" or not args.export:
            raise VocoderStudioError("--merge-tiers: use `train melnet --merge-tiers RUN... --export DIR`")
        base = Path(args.merge_base) if args.merge_base else None
        for path in export_merged_melnet([Path(d) for d in args.merge_tiers], Path(args.export), card, base):
            print(f"exported {path}")
        return 0
    if args.merge_base:
        raise VocoderStudioError("--merge-base: give it with --merge-tiers RUN...")
    device = choose_device(args.device)
    run_dir = Path(args.run) if args.run else None
    lr_decay = _step_range(args.lr_decay) if args.lr_decay else None
    with _stop_on_signals() as token:
        trainer = train(args.model, device, args.minutes, args.steps, run_dir, resume=not args.restart,
                        lr_decay=lr_decay, tier=args.tier, config_file=Path(args.config) if args.config else None,
                        augment_gain=args.augment_gain, augment_speed=args.augment_speed, cancel=token,
                        input_noise=args.input_noise, init=Path(args.init) if args.init else None,
                        own_draws=args.own_draws, phase_weight=args.phase_weight,
                        learning_rate=args.learning_rate, magnitude_weight=args.magnitude_weight,
                        widen=args.widen)
    if args.export and getattr(trainer, "rank", 0) == 0:
        for path in export(args.model, trainer, device, Path(args.export), card):
            print(f"exported {path}")
    return 0


@contextlib.contextmanager
def _stop_on_signals() -> Iterator[Any]:
    """A cancel token that Ctrl-C (SIGINT) or SIGTERM sets while the block runs: training stops after the step
    under way, validates and writes its checkpoint (nothing since the last periodic one is lost); a second
    Ctrl-C interrupts at once. Outside the main thread (no signals there) the token is only returned."""
    import signal
    import threading

    from vocoder_studio.engine.jobs import CancelToken

    token = CancelToken()
    if threading.current_thread() is not threading.main_thread():
        yield token
        return

    def stop(signum: int, frame: object) -> None:
        if token.cancelled:
            raise KeyboardInterrupt
        token.cancel()
        print(f"\n{PROG}: stopping after this step and writing the checkpoint (Ctrl-C again to quit now)",
              file=sys.stderr, flush=True)

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield token
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _step_range(text: str) -> tuple[int, int]:
    """``"START:END"`` → two step numbers, START < END."""
    try:
        start, end = (int(part) for part in text.split(":"))
    except ValueError:
        raise VocoderStudioError(f"--lr-decay {text!r}: expected START:END, two step numbers") from None
    if not 0 <= start < end:
        raise VocoderStudioError(f"--lr-decay {text!r}: START must be ≥ 0 and less than END")
    return start, end


def _melnet_model(path: str | None) -> object:
    """``--model PATH`` or the default ``melnet.pt`` of the models directories (checked with its card)."""
    from vocoder_studio.audio.mel import DEFAULT_CONFIG
    from vocoder_studio.melnet import load_model
    from vocoder_studio.vocoders.checkpoints import find_checked

    checkpoint = Path(path) if path else find_checked("melnet.pt", DEFAULT_CONFIG)[0]
    if not checkpoint.is_file():
        raise VocoderStudioError(f"{checkpoint}: no such MelNet checkpoint")
    return load_model(checkpoint)


def _seconds_range(text: str) -> tuple[float, float]:
    try:
        start, end = (float(v) for v in text.split(":"))
    except ValueError:
        raise VocoderStudioError(f"--inpaint {text!r}: expected START:END in seconds, e.g. 1.5:2.0") from None
    if not (math.isfinite(start) and math.isfinite(end) and 0 <= start < end):
        raise VocoderStudioError(f"--inpaint {text!r}: needs finite seconds with 0 <= START < END")
    return start, end


def _generate_options(args: argparse.Namespace) -> None:
    """Refuse what ``generate`` cannot do before anything is read or sampled: a bad number, or an option that
    does not belong to the mode (``--inpaint`` fills a range of ``--input``; otherwise ``--seconds`` are new)."""
    if args.temperature is None:  # each mode's own default
        from vocoder_studio.melnet.sampling import FILL_TEMPERATURE, NEW_TEMPERATURE

        args.temperature = FILL_TEMPERATURE if args.inpaint is not None else NEW_TEMPERATURE
    _check_number("--temperature", args.temperature, zero_allowed=True)
    if args.inpaint is not None:
        if args.input is None:
            raise VocoderStudioError("--inpaint needs --input IN (the mel or audio to fill)")
        for option, value in (("--seconds", args.seconds), ("--prime", args.prime),
                              ("--prime-seconds", args.prime_seconds),
                              ("--tier-temperatures", args.tier_temperatures)):
            if value is not None:
                raise VocoderStudioError(f"{option} does not apply to --inpaint (it regenerates a range of --input)")
        return
    if args.input is not None:
        raise VocoderStudioError("--input is the mel to fill: give the range with --inpaint START:END")
    if args.seconds is None:
        raise VocoderStudioError("--seconds S: give the seconds to generate")
    _check_number("--seconds", args.seconds)
    if args.prime_seconds is not None:
        if args.prime is None:
            raise VocoderStudioError("--prime-seconds needs --prime IN (the sound to continue)")
        _check_number("--prime-seconds", args.prime_seconds)
    if args.tier_temperatures is not None:
        for value in _numbers(args.tier_temperatures, "--tier-temperatures"):
            _check_number("--tier-temperatures", value, zero_allowed=True)


def _numbers(text: str, option: str) -> list[float]:
    """``"1.2,0.5"`` → ``[1.2, 0.5]``; anything else is a one-line error naming ``option``."""
    try:
        return [float(v) for v in text.split(",")]
    except ValueError:
        raise VocoderStudioError(f"{option} {text!r}: expected numbers separated by commas, e.g. 1.1,0,0,0"
                                 ) from None


def _cmd_generate(args: argparse.Namespace) -> int:
    from vocoder_studio.audio import save_mel
    from vocoder_studio.audio.io import MAX_MEL_SECONDS, max_mel_frames
    from vocoder_studio.audio.mel import DEFAULT_CONFIG
    from vocoder_studio.document import open_document
    from vocoder_studio.errors import AudioFileError
    from vocoder_studio.melnet import MelNet, sample
    from vocoder_studio.melnet.sampling import default_tier_temperatures

    output = Path(args.output)
    _require_suffix(output, ".npy", "a float32 mel array")
    _require_folder(output)
    _generate_options(args)
    frames_per_s = 1.0 / DEFAULT_CONFIG.frame_seconds
    note = ""
    if args.inpaint is not None:
        start, end = _seconds_range(args.inpaint)
        source = open_document(Path(args.input)).mel
        n = source.shape[1]
        span = (round(start * frames_per_s), min(n, round(end * frames_per_s)))  # an END past the end: to the end
        if span[0] >= n:
            raise AudioFileError(args.input, f"--inpaint {args.inpaint} starts after its end "
                                             f"({n / frames_per_s:.2f} s)")
        if span[1] <= span[0]:
            raise VocoderStudioError(f"--inpaint {args.inpaint}: shorter than one frame "
                                     f"({1000 * DEFAULT_CONFIG.frame_seconds:.1f} ms)")
        model = _melnet_model(args.model)
        assert isinstance(model, MelNet)
        mel = sample(model, source=source, inpaint=span, temperature=args.temperature, seed=args.seed,
                     floor=DEFAULT_CONFIG.floor_ln)
        if span[1] < round(end * frames_per_s):  # said, not refused: the fill runs to the end, as --help says
            note = (f"; --inpaint {args.inpaint} runs past the input's end ({n / frames_per_s:.2f} s): filled "
                    f"{span[0] / frames_per_s:.2f}-{n / frames_per_s:.2f} s, to the end, from the frames before it")
    else:
        prime = None
        if args.prime is not None:  # --prime-seconds past its end: all of it
            prime = open_document(Path(args.prime)).mel
            if args.prime_seconds is not None:
                prime = prime[:, : max(1, round(args.prime_seconds * frames_per_s))]
        frames = max(1, round(args.seconds * frames_per_s))
        if frames + (0 if prime is None else prime.shape[1]) > max_mel_frames(DEFAULT_CONFIG):
            raise VocoderStudioError(f"--seconds {args.seconds:g}: the mel would be longer than a mel file may be "
                                     f"({MAX_MEL_SECONDS / 60:.0f} minutes)")
        model = _melnet_model(args.model)
        assert isinstance(model, MelNet)
        tier_temperatures = (default_tier_temperatures(model.config.n_tiers) if args.tier_temperatures is None
                             else _numbers(args.tier_temperatures, "--tier-temperatures"))
        mel = sample(model, frames, prime=prime,
                     temperature=args.temperature, tier_temperatures=tier_temperatures, seed=args.seed,
                     floor=DEFAULT_CONFIG.floor_ln)
    save_mel(output, mel)
    print(f"{output}: mel {mel.shape[0]} × {mel.shape[1]} frames ({mel.shape[1] / frames_per_s:.2f} s){note}")
    return 0


def _cmd_eval_melnet(args: argparse.Namespace) -> int:
    import json

    from vocoder_studio.document import open_document
    from vocoder_studio.melnet import MelNet, evaluate

    if args.inpaint is not None:
        if args.temperature is None:  # the fill's own default, as `generate --inpaint` has
            from vocoder_studio.melnet.sampling import FILL_TEMPERATURE

            args.temperature = FILL_TEMPERATURE
        _check_number("--inpaint", args.inpaint)
        _check_number("--temperature", args.temperature, zero_allowed=True)
    model = _melnet_model(args.model)
    assert isinstance(model, MelNet)
    mels = [open_document(Path(f)).mel for f in args.files]
    if args.inpaint is not None:
        return _inpainting_report(model, mels, args)
    result = evaluate(model, mels)
    if args.json:
        print(json.dumps(result))
    else:
        tiers = ", ".join(f"{v:.4f}" for v in result["tiers"] if v is not None)
        print(f"NLL {result['nll_per_cell']:.4f} nats per mel cell over {result['cells']} cells "
              f"of {result['files']} files (tiers: {tiers})")
    return 0


def _inpainting_report(model: Any, mels: list[Any], args: argparse.Namespace) -> int:
    """``eval melnet FILES --inpaint SECONDS``: a gap in the middle of each file, MelNet's fill against linear
    interpolation (L1 in the gap; boundary discontinuity against the natural frame-to-frame L1)."""
    import json

    from vocoder_studio.audio.mel import DEFAULT_CONFIG
    from vocoder_studio.melnet import evaluate_inpainting

    gap = max(1, round(args.inpaint / DEFAULT_CONFIG.frame_seconds))
    result = evaluate_inpainting(model, mels, gap, temperature=args.temperature, seed=args.seed,
                                 floor=DEFAULT_CONFIG.floor_ln)
    if args.json:
        print(json.dumps(result))
        return 0
    print(f"{result['clips']} files, a {gap}-frame gap ({args.inpaint:g} s) in the middle of each, "
          f"temperature {args.temperature:g}; mean |difference| in ln-mel units")
    print("| | MelNet fill | linear interpolation | original |")
    print("| --- | --- | --- | --- |")
    print(f"| L1 against the original, in the gap | {result['fill_l1']:.3f} | {result['linear_l1']:.3f} | 0 |")
    print(f"| boundary discontinuity (L1 across each gap edge) | {result['fill_edge_l1']:.3f} | "
          f"{result['linear_edge_l1']:.3f} | {result['true_edge_l1']:.3f} |")
    print(f"| natural frame-to-frame L1 (whole files) | | | {result['natural_l1']:.3f} |")
    return 0


class _Parser(argparse.ArgumentParser):
    """argparse with the command's one-line errors: ``vocoder-studio: error: generate: argument …`` and status
    2, without the usage block (``--help`` shows it); its sub-command parsers are of this class too."""

    def error(self, message: str) -> NoReturn:
        command = self.prog.removeprefix(PROG).strip()
        where = f"{command}: " if command else ""
        self.exit(2, f"{PROG}: error: {where}{message} (see `{self.prog} --help`)\n")


def build_parser() -> argparse.ArgumentParser:
    from vocoder_studio.vocoders.registry import DEFAULT_VOCODER

    parser = _Parser(prog=PROG, description="Draw, edit and vocode mel-spectrograms.")
    parser.add_argument("--version", action="version", version=f"{PROG} {__version__}")
    sub = parser.add_subparsers(dest="command")

    p = sub.add_parser("open", help="launch the GUI on FILE (wav/flac/ogg, .npy mel, project file; none: the "
                       "example)")
    p.add_argument("file", nargs="?")
    p.set_defaults(func=_cmd_open)

    p = sub.add_parser("install-desktop", help="Linux: the desktop entry, icon and project file type under "
                       "$XDG_DATA_HOME (~/.local/share), so the studio is in the applications menu")
    p.add_argument("--uninstall", action="store_true", help="remove what install-desktop wrote")
    p.add_argument("--data-home", metavar="DIR", help="another data folder than $XDG_DATA_HOME")
    p.set_defaults(func=_cmd_install_desktop)

    p = sub.add_parser("mel", help="audio → mel (.npy, 80 × frames, natural-log magnitude)")
    p.add_argument("input")
    p.add_argument("-o", "--output", help="the mel as .npy")
    p.add_argument("--png", metavar="OUT.png|OUT.svg", help="a picture of the mel with axes and colour bar")
    p.set_defaults(func=_cmd_mel)

    p = sub.add_parser("vocode", help="audio, .npy mel or project → WAV through a vocoder; several inputs go "
                       "into the folder -o DIR as DIR/<name>.wav, on all cores")
    p.add_argument("inputs", nargs="+", metavar="IN")
    p.add_argument("-o", "--output", required=True, metavar="OUT.wav|DIR")
    p.add_argument("--vocoder", default=DEFAULT_VOCODER, help="a name from `vocoder-studio vocoders` "
                   f"(default {DEFAULT_VOCODER})")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--param", action="append", metavar="NAME=VALUE",
                   help="a vocoder parameter (repeatable); `vocoder-studio vocoders` lists them with their ranges")
    p.add_argument("--iterations", default=None, metavar="N", help="the same as --param iterations=N")
    p.add_argument("--format", choices=["pcm16", "float32"], default="pcm16", help="WAV sample format")
    p.set_defaults(func=_cmd_vocode)

    p = sub.add_parser("vocoders", help="list vocoders: name, label, sample rate, status, summary, parameters")
    p.add_argument("--json", action="store_true", help="a JSON list of objects: name, label, sample_rate, "
                   "status, reason, parameters, card")
    p.set_defaults(func=_cmd_vocoders)

    p = sub.add_parser("bench", help="measure vocoder speed, latency and memory on 10+ s of speech (see --input)")
    p.add_argument("--vocoders", default=None, metavar="A,B,...", help="names, NAME:PARAM=VALUE for parameters "
                   "(default: every ready vocoder)")
    p.add_argument("--input", default=None, help="speech to time (default: alsa-utils' clips, else the example twice)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--runs", type=int, default=3, help="timed runs per vocoder (the median is kept; at least 1)")
    p.add_argument("--note", default=None, help="the conditions, in words (kept in the JSON, printed in the docs)")
    p.add_argument("--json", action="store_true", help="print the figures as JSON on stdout (progress on stderr)")
    p.add_argument("--avx2-imitation", nargs="?", const="all", default=None, metavar="A,B,...",
                   help="also measure each vocoder (or those named) with torch capped at AVX2 (no AVX-512, no "
                   "bfloat16), as a CPU without bfloat16 runs it")
    p.set_defaults(func=_cmd_bench)

    p = sub.add_parser("eval", help="score vocoders on real speech (`eval vocoders --clips ...`) or files under "
                       "MelNet (`eval melnet FILES...`)")
    evals = p.add_subparsers(dest="eval_command", required=True)
    p = evals.add_parser("vocoders", help="audio → mel → audio through each vocoder, scored against the original "
                         "(PESQ-wb, STOI, log-mel L1, MR-STFT, F0 RMSE, V/UV F1, RTF)")
    p.add_argument("--clips", nargs="+", required=True, metavar="DIR_OR_FILE", help="audio files or folders of them")
    p.add_argument("--vocoders", default=None, metavar="A,B,...", help="names, NAME:PARAM=VALUE for parameters "
                   "(default: every ready vocoder)")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--json", default=None, metavar="OUT", help="write {results: [...], machine: {...}} here")
    p.add_argument("--report", default=None, metavar="OUT.md", help="write a Markdown report, PNG figures beside it")
    p.add_argument("--csv", default=None, metavar="OUT.csv", help="write one row per clip and vocoder here")
    p.add_argument("--threads", type=int, default=None, metavar="N",
                   help="torch threads (default: one per core); set OMP_NUM_THREADS=N too for numpy's BLAS")
    p.add_argument("--repeats", type=int, default=2, metavar="N",
                   help="vocoding calls per clip and vocoder; the fastest gives the compute (default 2)")
    p.set_defaults(func=_cmd_eval_vocoders)

    p = sub.add_parser("data", help="the training corpus: `data prepare` fetches real speech and packs it")
    p.add_argument("action", choices=["prepare", "pack"],
                   help="prepare: fetch and pack the corpus; pack: a small copy of it to carry to a lent GPU")
    p.add_argument("--minutes", type=float, default=12.0, help="pack: minutes of training speech (default 12)")
    p.add_argument("-o", "--output", default=None, metavar="DIR", help="pack: the folder to write")
    p.add_argument("--rescan", action="store_true", help="rewrite the committed manifest from the fetched clips")
    p.set_defaults(func=_cmd_data)

    p = sub.add_parser("train", help="train a model on the corpus (resumes its run folder exactly)")
    p.add_argument("model", help="istft, melgan, wavenet or melnet")
    p.add_argument("--device", default="auto", help="auto, cpu or cuda")
    p.add_argument("--minutes", type=float, default=None, help="wall-clock budget; stops itself with a checkpoint")
    p.add_argument("--steps", type=int, default=None, help="at most this many more steps")
    p.add_argument("--run", "--run-dir", dest="run", default=None,
                   help="run folder (default: <data folder>/runs/MODEL; under torchrun spell it --run-dir)")
    p.add_argument("--restart", action="store_true", help="ignore an existing checkpoint in the run folder")
    p.add_argument("--threads", type=int, default=None, help="torch CPU threads")
    p.add_argument("--lr-decay", default=None, metavar="START:END",
                   help="cosine learning-rate decay from step START to END (to 1%%), e.g. to anneal a plateaued run")
    p.add_argument("--augment-gain", type=float, default=None, metavar="NATS",
                   help="scale each training segment by exp(u), u uniform in ±NATS (level invariance; default off)")
    p.add_argument("--augment-speed", type=float, default=None, metavar="FRACTION",
                   help="play each training segment up to 1±FRACTION times as fast (pitch and formants move "
                   "with it: a stand-in for more speakers; default off)")
    p.add_argument("--export", default=None, metavar="DIR",
                   help="afterwards, write the model and its card into this models directory")
    p.add_argument("--tier", type=int, default=None, metavar="N",
                   help="melnet: train only tier N (1 = coarsest; one process per tier, run folder melnet-tierN)")
    p.add_argument("--input-noise", type=float, default=None, metavar="STD",
                   help="melnet: Gaussian noise of this std (per-band z-score units) on the teacher-forced inputs, "
                        "targets clean (noise injection against exposure bias, LPCNet; default 0: off)")
    p.add_argument("--own-draws", type=float, default=None, metavar="CHANCE",
                   help="melnet: scheduled sampling: each teacher-forced input cell is the tier's own draw (given "
                        "the true past) with this chance, targets clean (Bengio et al. 2015; default 0: off)")
    p.add_argument("--init", default=None, metavar="CHECKPOINT",
                   help="melnet, istft: start a new run from this model's weights where names and shapes match "
                        "(ignored when the run folder resumes), e.g. to fine-tune models/istft.pt")
    p.add_argument("--widen", type=int, default=None, metavar="HIDDEN",
                   help="melnet, with --tier N and --init: tier N of the new run is HIDDEN wide, widened from the "
                        "--init model's so that it starts as the same function (Net2Net, zero outgoing weights "
                        "for the new units); give it on every resume")
    p.add_argument("--phase-weight", type=float, default=None, metavar="W",
                   help="istft: add APNet's anti-wrapping phase losses (instantaneous phase, group delay, "
                        "instantaneous frequency; Ai & Ling 2023) against the real audio's phase, weight W "
                        "(default off)")
    p.add_argument("--magnitude-weight", type=float, default=None, metavar="W",
                   help="istft: add the L1 of the head's log-magnitude against the real audio's STFT, frame by "
                        "frame, weight W (the magnitude that init=pghi integrates; default off)")
    p.add_argument("--learning-rate", type=float, default=None, metavar="LR",
                   help="the optimiser's base learning rate instead of the model's default (give it on every "
                        "resume)")
    p.add_argument("--card", default=None, metavar="FILE",
                   help="with --export: a JSON object of model-card fields (summary, data, scores measured after "
                        "training, known_weaknesses, ...) laid over what the run knows; the card is checked before "
                        "anything is written")
    p.add_argument("--config", default=None, metavar="FILE",
                   help="melnet, wavenet: a JSON object of the model's hyper-parameters (MelNet: n_tiers, layers, "
                        "hidden, mixtures, ...; WaveNet: stacks, layers_per_stack, residual_channels, ...)")
    p.add_argument("--merge-tiers", nargs="+", default=None, metavar="RUN",
                   help="melnet: no training; join the runs of `--tier 1`, `--tier 2`, ... into one model "
                   "written by --export DIR")
    p.add_argument("--merge-base", default=None, metavar="MODEL",
                   help="with --merge-tiers: a melnet.pt (with its card) whose tiers the runs do not give, tier 1's "
                        "future stack and gap fill are kept (the runs may give some tiers only)")
    p.set_defaults(func=_cmd_train)

    p = sub.add_parser("generate", help="sample a mel with MelNet: new speech-like sound, a continuation of "
                       "--prime, or a fill of --inpaint START:END in --input")
    p.add_argument("-o", "--output", required=True, help="the mel to write (.npy)")
    p.add_argument("--seconds", type=float, default=None, help="seconds to generate (after the prime)")
    p.add_argument("--prime", default=None, metavar="IN", help="audio or .npy mel to continue")
    p.add_argument("--prime-seconds", type=float, default=None, metavar="P",
                   help="use the first P s of --prime (all of it when it is shorter)")
    p.add_argument("--inpaint", default=None, metavar="START:END", help="regenerate this range (seconds) of --input "
                   "(to its end when END is past it)")
    p.add_argument("--input", default=None, metavar="IN", help="audio or .npy mel to inpaint")
    p.add_argument("--temperature", type=float, default=None, help="0 (most likely) … 1 (the model's spread); "
                   "new and continued frames draw each tier at this times its --tier-temperatures factor "
                   "(default 1); a fill draws every tier at it (default 0: the fills closest to the truth on "
                   "validation speech)")
    p.add_argument("--tier-temperatures", default=None, metavar="F1,F2,...",
                   help="new and continued frames: one factor per tier, coarsest first, multiplying --temperature "
                   "(default for a 4-tier model: 1.1,0,0,0, chosen for voiced samples; 1,1,1,1 draws every "
                   "tier at --temperature)")
    p.add_argument("--seed", type=int, default=0, help="the same seed gives the same output")
    p.add_argument("--model", default=None, metavar="PATH", help="a MelNet checkpoint (default: melnet.pt of the "
                   "models directories)")
    p.set_defaults(func=_cmd_generate)

    p = evals.add_parser("melnet", help="NLL per mel cell of FILES under MelNet: `eval melnet FILES... --json`")
    p.add_argument("files", nargs="+", help="audio or .npy mels")
    p.add_argument("--model", default=None, metavar="PATH", help="a MelNet checkpoint (default: melnet.pt)")
    p.add_argument("--json", action="store_true", help='print {"nll_per_cell": x, "tiers": [...], ...}')
    p.add_argument("--inpaint", type=float, default=None, metavar="SECONDS",
                   help="instead: fill a gap of SECONDS in the middle of each file and score it against linear "
                   "interpolation (L1 in the gap, boundary discontinuity)")
    p.add_argument("--temperature", type=float, default=None, help="--inpaint: the fill's temperature (default 0, "
                   "as `generate --inpaint`: the fills closest to the truth on validation speech)")
    p.add_argument("--seed", type=int, default=0, help="--inpaint: the first file's seed (then +1 per file)")
    p.set_defaults(func=_cmd_eval_melnet)
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
