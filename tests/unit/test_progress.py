"""The progress bar of long commands tells the rate and the time left, not only the count."""

from __future__ import annotations

from rich.progress import Progress, TimeRemainingColumn

from leadq.cli.support import RateColumn, progress_bar


def test_rate_and_time_left_follow_the_work_done() -> None:
    now = [0.0]
    rate, left = RateColumn("rows"), TimeRemainingColumn()
    bar = Progress(rate, left, get_time=lambda: now[0], auto_refresh=False)
    task_id = bar.add_task("Importing", total=10_000)
    task = bar.tasks[0]
    assert str(rate(task)) == ""  # nothing done yet: no rate to tell
    for _ in range(4):
        now[0] += 1.0
        bar.advance(task_id, 500)
    assert str(rate(task)) == "500 rows/s"
    assert str(left(task)) == "0:00:16"  # 8,000 rows left at 500 a second


def test_the_commands_bar_shows_rate_and_time_left() -> None:
    columns = progress_bar("leads").columns
    assert any(isinstance(c, RateColumn) and c.unit == "leads" for c in columns)
    assert any(isinstance(c, TimeRemainingColumn) for c in columns)
