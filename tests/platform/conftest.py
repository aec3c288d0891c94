"""The platform fixtures live in ``tests.testing.platform`` (shared by every test folder);
this module keeps the names older tests import from here."""

from tests.testing import platform as _platform
from tests.testing.platform import *  # noqa: F403 - the fixtures and helpers, re-exported

__all__ = list(_platform.__all__)
