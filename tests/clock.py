"""The fixed day every test runs on, so that no test depends on the calendar.

Whatever reads "today" reads `pushpools.components.clock.today_utc`: a fixed client-secret
date is judged against it, and a rotation's period starts on it. conftest.py fixes it for
every test; the upgrade plans are recorded on it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from datetime import date

from pushpools.components import clock

FIXED_TODAY = date(2026, 12, 1)


@contextlib.contextmanager
def fixed_clock(today: date = FIXED_TODAY) -> Iterator[date]:
    real = clock.today_utc
    clock.today_utc = lambda: today
    try:
        yield today
    finally:
        clock.today_utc = real
