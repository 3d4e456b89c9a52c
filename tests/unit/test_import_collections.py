"""Imports make the cycle collector run rarely while they run, and overlapping imports (uploads
in the server's threads) leave it as it was once the last one ends, even one that fails."""

from __future__ import annotations

import gc
import threading

import pytest

from leadq.services.intake.imports import rarely_collecting


def test_overlapping_imports_put_the_collector_back_as_it_was() -> None:
    before = gc.get_threshold()
    started, release = threading.Event(), threading.Event()
    seen: list[int] = []

    @rarely_collecting
    def long_import() -> None:
        started.set()
        release.wait(10)
        seen.append(gc.get_threshold()[0])

    @rarely_collecting
    def failing_import() -> None:
        seen.append(gc.get_threshold()[0])
        raise ValueError("a file that cannot be read")

    worker = threading.Thread(target=long_import)
    worker.start()
    assert started.wait(10)
    with pytest.raises(ValueError, match="cannot be read"):
        failing_import()
    assert gc.get_threshold()[0] == before[0] * 100  # the long import still runs
    release.set()
    worker.join(10)
    assert seen == [before[0] * 100] * 2
    assert gc.get_threshold() == before
