"""The packages depend on each other one way only (DESIGN.md), checked by walking imports."""

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("models", "matcher", "data", "web", "evaluation")
ALLOWED = {
    "models": set(),
    "matcher": {"models"},
    "data": {"models"},
    "web": {"models", "matcher", "data"},
    "evaluation": {"models", "matcher", "data"},
}


def imported_packages(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module.split(".")[0])
    return out & set(PACKAGES)


@pytest.mark.parametrize("package", PACKAGES)
def test_imports_flow_one_way(package):
    files = sorted((ROOT / package).rglob("*.py"))
    assert files, f"{package} has no modules"
    bad = {
        str(f.relative_to(ROOT)): sorted(imported_packages(f) - ALLOWED[package] - {package})
        for f in files
        if imported_packages(f) - ALLOWED[package] - {package}
    }
    assert bad == {}, f"{package} imports packages it may not: {bad}"
