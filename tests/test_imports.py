"""The import rules hold: the model layer runs without Qt (importing every module below ui/ and cli.py loads no
Qt binding), no module imports one that imports it back (imports inside functions included), and only
``ui/app.py`` and ``ui/main_window.py`` name the main window.

The static rules are pyproject's import-linter contracts (run by scripts/test.sh); these check the same things
another way: what really gets imported, in a fresh interpreter, and every import statement in the source.
"""

from __future__ import annotations

import json
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import vocoder_studio

from .conftest import import_graph

PACKAGE = Path(vocoder_studio.__file__).parent

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


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components of more than one module (Tarjan), ignoring the edges between a package
    and its own submodules (an ``__init__`` gathering its parts)."""
    edges = {a: {b for b in bs if not (b.startswith(a + ".") or a.startswith(b + "."))} for a, bs in graph.items()}
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        for other in edges[node]:
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(edges):
        if node not in index:
            visit(node)
    return found


def test_the_cycle_scan_sees_imports_inside_functions() -> None:
    graph = import_graph()
    assert "vocoder_studio.ui.main_window" in graph["vocoder_studio.ui.app"]  # imported inside a function
    assert _cycles({"a.x": {"a.y"}, "a.y": {"a.x"}, "a.z": {"a.x"}}) == [["a.x", "a.y"]]


def test_no_module_imports_one_that_imports_it_back() -> None:
    assert _cycles(import_graph()) == []


def test_only_app_and_main_window_name_the_main_window() -> None:
    ui = PACKAGE / "ui"
    naming = sorted(p.name for p in ui.glob("*.py") if re.search(r"\bMainWindow\b", p.read_text(encoding="utf-8")))
    assert naming == ["app.py", "main_window.py"]
    assert not [p.name for p in ui.glob("*.py") if "__getattr__" in p.read_text(encoding="utf-8")]

