"""The benchmark suite itself runs (one benchmark at a tiny size; `make bench` runs them all)."""

from __future__ import annotations

import json

from benchmarks.__main__ import main


def test_it_runs_a_benchmark_and_writes_its_report(tmp_path, capsys) -> None:
    report = tmp_path / "report.json"

    status = main(
        ["--size", "smoke", "--only", "planning", "--backends", "sqlite", "--json", str(report)]
    )

    figures = json.loads(report.read_text())["figures"]
    assert status == 0
    assert [f["name"] for f in figures] == ["plan step rows/s", "second run (already planned)"]
    assert all(f["ratio"] > 0 and f["limit"] > 0 for f in figures)
    assert "plan step rows/s" in capsys.readouterr().out
