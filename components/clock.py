"""Today's date, read in one place.

Only what is decided on the day it runs reads it: a fixed client-secret date is judged
against it, and a rotation starts a new period on it. Tests set it to a fixed day, so that
no test depends on the calendar.
"""

from __future__ import annotations

from datetime import UTC, date, datetime


def today_utc() -> date:
    return datetime.now(UTC).date()
