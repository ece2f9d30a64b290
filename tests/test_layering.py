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


# Inside web (DESIGN.md): services are the use cases and import neither Flask nor the views nor
# the CLI; views and the CLI import services and never each other.
WEB_FORBIDDEN = {
    "services": {"flask", "flask_wtf", "flask_limiter", "web.views", "web.cli"},
    "views": {"web.cli"},
    "cli": {"web.views", "flask"},
}


def imported_modules(path: Path) -> set[str]:
    """Every module a file imports, at any depth (function-level imports count)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    out = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            out |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            out.add(node.module)
            out |= {f"{node.module}.{a.name}" for a in node.names}
    return out


def _hits(mods: set[str], forbidden: set[str]) -> list[str]:
    return sorted(m for m in mods for f in forbidden if m == f or m.startswith(f + "."))


@pytest.mark.parametrize("layer", sorted(WEB_FORBIDDEN))
def test_web_layers(layer):
    files = sorted((ROOT / "web" / layer).rglob("*.py"))
    assert files, f"web/{layer} has no modules"
    bad = {str(f.relative_to(ROOT)): _hits(imported_modules(f), WEB_FORBIDDEN[layer]) for f in files}
    assert {k: v for k, v in bad.items() if v} == {}, f"web/{layer} imports what it may not"


def test_web_has_no_loose_modules():
    """Every module of web lives in one of the three layers (web/__init__.py only builds the app
    through web.views, lazily)."""
    loose = sorted(p.name for p in (ROOT / "web").glob("*.py") if p.name != "__init__.py")
    assert loose == []


def test_importing_services_and_cli_loads_no_flask():
    import subprocess
    import sys

    code = ("import sys, web.cli, web.services.pipeline, web.services.reports, web.services.stats; "
            "print(sorted(m for m in sys.modules if m.split('.')[0] == 'flask'))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, check=True)
    assert out.stdout.strip() == "[]"
