"""The model layer runs without Qt: importing every module below ui/ and cli.py loads no Qt binding.

The static rule is pyproject's import-linter contract (run by scripts/test.sh); this checks what really gets
imported, dynamic imports included, in a fresh interpreter.
"""

from __future__ import annotations

import json
import pkgutil
import subprocess
import sys

import vocoder_studio

QT = ("PySide6", "shiboken6", "pyqtgraph")


def model_modules() -> list[str]:
    names = [m.name for m in pkgutil.walk_packages(vocoder_studio.__path__, "vocoder_studio.")]
    return sorted(n for n in names if not n.startswith(("vocoder_studio.ui", "vocoder_studio.cli",
                                                         "vocoder_studio.__main__", "vocoder_studio.resources")))


def test_the_model_layer_imports_no_qt() -> None:
    modules = model_modules()
    assert {"vocoder_studio.document", "vocoder_studio.engine.render", "vocoder_studio.evaluation.bench"} <= set(
        modules)
    probe = ("import importlib, json, sys\n"
             "for name in sys.argv[1:]:\n"
             "    importlib.import_module(name)\n"
             f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {QT!r})))")
    done = subprocess.run([sys.executable, "-c", probe, *modules], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == []



def test_the_bench_lives_in_evaluation_and_finds_its_app_probe() -> None:
    from vocoder_studio.evaluation.bench import APP_START_PROBE

    assert APP_START_PROBE.is_file() and APP_START_PROBE.parent.name == "scripts"
