"""The layout is the design: data flows one way (index <- qa <- ui, eval) and every
module and function stays small enough to read at once."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PACKAGES = ("index", "qa", "ui", "eval")
# What each layer may import from the project: the layers below it, never those above.
ALLOWED = {"index": {"index"}, "qa": {"index", "qa"}, "ui": {"index", "qa", "ui"}, "eval": {"index", "qa", "eval"}}
MAX_MODULE_LINES = 400
MAX_FUNCTION_LINES = 60


def modules() -> list[Path]:
    return sorted(path for package in PACKAGES for path in (ROOT / package).rglob("*.py"))


def project_imports(tree: ast.AST) -> set[str]:
    """Top-level project packages named by the module's imports, wherever they sit (lazy ones included)."""
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names & set(PACKAGES)


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_imports_point_down_the_layers(path: Path):
    layer = path.relative_to(ROOT).parts[0]
    upward = project_imports(ast.parse(path.read_text())) - ALLOWED[layer]
    assert not upward, f"{layer}/ must not import {sorted(upward)}"


def test_the_layer_check_sees_lazy_imports():
    tree = ast.parse("def serve():\n    from ui.app import mount\n    import eval.bench\n")
    assert project_imports(tree) == {"ui", "eval"}


@pytest.mark.parametrize("path", modules(), ids=lambda p: str(p.relative_to(ROOT)))
def test_modules_and_functions_are_short(path: Path):
    source = path.read_text()
    assert source.count("\n") <= MAX_MODULE_LINES, f"{path.name} has more than {MAX_MODULE_LINES} lines"
    long = [f"{node.name} ({node.end_lineno - node.lineno + 1} lines)"
            for node in ast.walk(ast.parse(source))
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
            and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES]
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines: {', '.join(long)}"


def readme_tree() -> set[str]:
    """The modules the README's "How it works" tree names, as paths from the repository root."""
    section = (ROOT / "README.md").read_text().split("## How it works", 1)[1]
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    named, package = set(), ""
    for line in block.splitlines():
        entry = line.split()[0] if line.strip() else ""
        if not line.startswith(" ") and entry.endswith("/"):
            package = entry
        elif entry.endswith(".py"):
            named.add(package + entry)
    return named


def test_the_readme_tree_names_every_module_and_only_those():
    on_disk = {str(path.relative_to(ROOT)) for path in modules() if path.read_text().strip()}
    assert readme_tree() == on_disk
