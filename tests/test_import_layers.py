"""Imports point one way: ``mtjax`` (library) <- ``envs_bridge`` (env implementations) <- ``experiments`` (CLI).

Every ``import`` statement is checked, including those inside functions, so a lazy import cannot hide a cycle.
"""

import ast
import pathlib

import pytest

ROOT = pathlib.Path(__file__).resolve().parents[1]
FORBIDDEN = {"mtjax": ("envs_bridge", "experiments", "scripts"), "envs_bridge": ("experiments", "scripts")}


def _imported_packages(path: pathlib.Path) -> set[str]:
    tree = ast.parse(path.read_text(), filename=str(path))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out.update(a.name.split(".")[0] for a in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            out.add(node.module.split(".")[0])
    return out


def _violations(package: str) -> list[str]:
    bad = []
    for path in sorted((ROOT / package).rglob("*.py")):
        for top in _imported_packages(path) & set(FORBIDDEN[package]):
            bad.append(f"{path.relative_to(ROOT)} imports {top}")
    return bad


@pytest.mark.parametrize("package", sorted(FORBIDDEN))
def test_no_upward_imports(package):
    assert _violations(package) == []


def test_the_checker_sees_imports_inside_functions(tmp_path):
    # The checker must catch the lazy form that used to hide envs_bridge -> experiments.
    f = tmp_path / "m.py"
    f.write_text("def f():\n    from experiments import common\n    import envs_bridge.toy\n")
    assert _imported_packages(f) >= {"experiments", "envs_bridge"}
