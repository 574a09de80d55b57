"""No source module over 300 lines and no function over 40: a long one is a design smell.

Checked over the libraries, the services and dev/, by their syntax tree; tests are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SOURCE_TREES = ("libs/*/src", "services/*/src", "dev/src")
MAX_MODULE_LINES = 300
MAX_FUNCTION_LINES = 40


def modules() -> Iterator[Path]:
    for pattern in SOURCE_TREES:
        for tree in sorted(ROOT.glob(pattern)):
            for path in sorted(tree.rglob("*.py")):
                if "tests" not in path.relative_to(tree).parts:
                    yield path


def function_lengths(path: Path) -> Iterator[tuple[str, int]]:
    """Each function's name (with its class or enclosing function) and its lines, decorators included."""

    def walk(node: ast.AST, prefix: str) -> Iterator[tuple[str, int]]:
        for child in ast.iter_child_nodes(node):
            name = prefix
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                name = f"{prefix}{child.name}."
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                yield f"{prefix}{child.name}", (child.end_lineno or child.lineno) - first + 1
            yield from walk(child, name)

    yield from walk(ast.parse(path.read_text(), str(path)), "")


def test_the_source_trees_are_found() -> None:
    found = {path.relative_to(ROOT).parts[:2] for path in modules()}
    assert {("libs", "shared"), ("libs", "drive"), ("libs", "cli"), ("dev", "src")} <= found
    assert {("services", "fetcher"), ("services", "search")} <= found


def test_no_module_is_over_300_lines() -> None:
    long = {
        str(path.relative_to(ROOT)): lines
        for path in modules()
        if (lines := len(path.read_text().splitlines())) > MAX_MODULE_LINES
    }
    assert long == {}, "split these modules by what their parts do"


def test_no_function_is_over_40_lines() -> None:
    long = {
        f"{path.relative_to(ROOT)}:{name}": lines
        for path in modules()
        for name, lines in function_lengths(path)
        if lines > MAX_FUNCTION_LINES
    }
    assert long == {}, "split these functions into steps with names"
