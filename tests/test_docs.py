"""Every setting is documented in the README, and the README's commands exist."""

from pathlib import Path

import pytest

from data.settings import SETTINGS
from web.cli import build_parser

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text(encoding="utf-8")


@pytest.mark.parametrize("name", [s.name for s in SETTINGS])
def test_every_setting_is_in_the_readme(name):
    assert f"`{name}`" in README


def test_every_cli_verb_is_in_the_readme():
    parser = build_parser()
    verbs = next(a for a in parser._actions if a.dest == "command").choices
    missing = [v for v in verbs if f"`matcher {v}" not in README]
    assert missing == []


def test_readme_gives_the_two_commands():
    assert "bash .ci/setup && .venv/bin/matcher demo" in README
    assert ".venv/bin/python -m pytest" in README


def test_setup_installs_the_fonts_that_drawing_needs():
    """Issue 18: Japanese, Korean and Chinese titles need a CJK font for Chromium and the PDFs
    (tests/web/test_browser.py checks the glyphs)."""
    setup = (ROOT / ".ci" / "setup").read_text(encoding="utf-8")
    assert "dpkg -s fonts-noto-cjk" in setup and "need_apt+=(fonts-noto-cjk)" in setup
