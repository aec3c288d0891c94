"""Time and validation settings for tests: the core takes the clock from its caller."""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

from entegrator.rules import ValidationSettings
from entegrator.rules.xpath import ISTANBUL


def now() -> dt.datetime:
    """The real time, as the platform passes it (aware, UTC)."""
    return dt.datetime.now(dt.UTC)


def today() -> dt.date:
    """Today in Türkiye, the date GİB's ``current-date()`` means."""
    return now().astimezone(ISTANBUL).date()


def fixed(moment: dt.datetime) -> Callable[[], dt.datetime]:
    """A clock that always says ``moment``."""
    return lambda: moment


def validation_settings(
    *, clock: Callable[[], dt.datetime] = now, **kwargs: Any
) -> ValidationSettings:
    """Settings with the real clock and the session's temporary translation cache."""
    cache = os.environ.get("ENTEGRATOR_CACHE_DIR")
    kwargs.setdefault("cache_dir", Path(cache) if cache else None)
    return ValidationSettings(clock=clock, **kwargs)
