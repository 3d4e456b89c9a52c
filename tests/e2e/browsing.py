"""What the browser tests share: Debian's Chromium, where screenshots go, and the password
of the users they sign in as."""

from __future__ import annotations

from pathlib import Path

import pytest

CHROMIUM = Path("/usr/bin/chromium")
SHOTS = Path(__file__).resolve().parents[2] / "test-artifacts" / "screenshots"
PASSWORD = "browser tests only"
FLAGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


def skip_without_chromium() -> None:
    """Called at the top of a browser test module."""
    if not CHROMIUM.exists():
        pytest.skip(
            "Debian's chromium is not installed (apt install chromium)", allow_module_level=True
        )
