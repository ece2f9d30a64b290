"""Settings are typed where they are read (issue 15): a date setting holds a real date."""

from __future__ import annotations

import pytest

from data.settings import SettingsError, gate_date, load_settings


def test_a_date_setting_is_checked_when_read(tmp_path):
    assert load_settings(tmp_path, {"today": "26/11/2026"})["today"] == "2026-11-26"
    assert gate_date(load_settings(tmp_path, {"today": "2026-11-26"})).isoformat() == "2026-11-26"
    assert load_settings(tmp_path, {"today": ""})["today"] == ""
    for bad in ("2026-13-45", "ngày mai", "31/02/2026", "0001-01-01"):
        with pytest.raises(SettingsError, match="today"):
            load_settings(tmp_path, {"today": bad})
