"""The README describes the project a user cloned (rough edge 15)."""

from __future__ import annotations

import json
import re

import pytest

from vocoder_studio.cli import build_parser

from .conftest import ROOT

README = (ROOT / "README.md").read_text()


def _layout_tree() -> dict[str, set[str]]:
    """The README's layout block as {top-level folder: the entries indented under it}."""
    block = README.split("## Layout", 1)[1].split("```", 2)[1]
    tree: dict[str, set[str]] = {}
    top = ""
    for line in block.splitlines():
        name = line.split(maxsplit=1)[0] if line.strip() else ""
        if not name:
            continue
        if not line.startswith(" "):
            top = name
            tree[top] = set()
        elif re.match(r"^  \S", line):  # an entry two spaces in (deeper lines continue a description)
            tree[top].add(name)
    return tree


def test_the_layout_tree_puts_every_module_under_its_folder() -> None:
    package = ROOT / "vocoder_studio"
    expected = {f"{p.name}/" for p in package.iterdir() if p.is_dir() and any(p.glob("*.py"))}
    expected |= {p.name for p in package.glob("*.py") if p.name not in ("__init__.py", "__main__.py")}
    tree = _layout_tree()
    assert tree["vocoder_studio/"] == expected
    for folder in ("resources/", "scripts/", "tests/"):
        assert folder in tree and (ROOT / folder).is_dir()


def test_the_readme_points_only_at_files_a_clone_has() -> None:
    assert "shared/" not in README
    for path in re.findall(r"`((?:scripts|packaging|resources|docs|models)/[\w./-]+)`", README):
        assert (ROOT / path).exists(), path


def test_no_source_or_test_cites_a_file_the_repository_lacks() -> None:
    """Docstrings and comments cite the paper or the test, never the team's notes outside the repository."""
    outside = re.compile(r"\b(?:facts|recipes|design|style)\.md\b|\bshared/")
    here = {ROOT / "tests" / "test_docs.py"}
    files = [p for folder in ("vocoder_studio", "tests") for p in (ROOT / folder).rglob("*.py") if p not in here]
    citing = [str(p.relative_to(ROOT)) for p in files if outside.search(p.read_text(encoding="utf-8"))]
    assert citing == []


#: Folders of the repository and of the package a docstring or comment may name a file in.
_OWN_FOLDERS = ("docs/", "scripts/", "models/", "resources/", "packaging/", "tests/", "ui/", "engine/", "vocoders/",
                "training/", "evaluation/", "melnet/", "audio/")


def test_every_file_a_source_or_test_names_in_our_folders_exists() -> None:
    """A path such as ``ui/levels.py`` or ``scripts/bench_docs.py`` in a docstring or comment names a file of this
    repository (paths inside a wheel, build outputs and other projects' files are not checked)."""
    path = re.compile(r"(?<![\w./-])((?:[\w-]+/)+[\w.-]+\.(?:md|txt|csv|sh|toml|json|py|png|flac|npz|pt))\b")
    files = [p for folder in ("vocoder_studio", "tests") for p in (ROOT / folder).rglob("*.py")]
    missing = [f"{p.relative_to(ROOT)}: {ref}" for p in files for ref in path.findall(p.read_text(encoding="utf-8"))
               if ref.startswith(_OWN_FOLDERS) and not any(where.exists() for where in
                                                          (ROOT / ref, ROOT / "vocoder_studio" / ref))]
    assert missing == []


def test_the_models_readme_agrees_with_each_shipped_card() -> None:
    """models/README.md's table has a row for each shipped checkpoint, with its card's steps and every figure of
    its card's summary (the line the selector shows)."""
    models = ROOT / "models"
    table = (models / "README.md").read_text().split("## Shipped here", 1)[1]
    rows = {m.group(1): line for line in table.splitlines() if (m := re.match(r"\| `([\w-]+)\.pt`", line))}
    assert set(rows) == {p.stem for p in models.glob("*.pt")}
    for name, row in rows.items():
        card = json.loads((models / f"{name}.json").read_text())
        steps = card["steps"] / 1000
        assert f"{steps:.1f}k steps" in row or f"{round(steps)}k steps" in row, (name, card["steps"])
        for figure in re.findall(r"\d+\.\d+", card["summary"]):
            assert figure in row, (name, figure)


def test_bench_help_says_what_it_measures(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit):
        build_parser().parse_args(["--help"])
    text = " ".join(capsys.readouterr().out.split())  # argparse wraps the lines
    bench_help = text.split(" bench ", 1)[1].split("options:")[0]
    assert "bundled example" not in bench_help and "speech" in bench_help
