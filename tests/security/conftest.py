"""Fixtures shared with the web tests."""

from tests.web.conftest import make_user

__all__ = ["make_user"]
