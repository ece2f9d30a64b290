"""The departures forecast's interval holds the true count about as often as it says (issue 17:
a backtest on histories whose truth the generator knows)."""

from __future__ import annotations

import json

from evaluation.cli import main
from evaluation.forecast_backtest import backtest


def test_the_forecast_interval_covers_the_truth_at_about_its_stated_rate():
    result = backtest(seeds=15, level=0.8, draws=1000, progress=False)
    assert result["runs"] == 45
    # 45 forecasts at a stated 80%: a calibrated interval lands within 3 standard errors (0.18)
    assert 0.62 <= result["coverage"] <= 0.98, result
    widths = [r["mean_width"] for r in result["cutoffs"].values()]
    assert widths == sorted(widths, reverse=True)  # more of the year known, narrower interval


def test_the_command_prints_the_table_and_writes_json(tmp_path, capsys):
    out = tmp_path / "bt.json"
    assert main(["forecast-backtest", "--seeds", "2", "--draws", "500", "--no-progress", "--json", str(out)]) == 0
    text = capsys.readouterr().out
    assert "coverage" in text and "30/06" in text
    assert json.loads(out.read_text())["runs"] == 6
    assert main(["forecast-backtest", "--level", "1.5"]) == 2
