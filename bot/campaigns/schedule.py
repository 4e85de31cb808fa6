"""When to call a worker: their chosen day and window, in the factory's local time.

All arithmetic happens in the factory's IANA time zone and is converted to
UTC at the end. A local time that does not exist (the hour skipped when
clocks go forward) moves forward by the length of the gap. A local time
that happens twice (when clocks go back) means its first occurrence.
"""

from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta, timezone
from typing import FrozenSet, Optional, Tuple
from zoneinfo import ZoneInfo

CALLBACK_DELAY_DAYS = 5
DEFAULT_QUIET_HOURS = (time(21, 0), time(8, 0))
# How far ahead to look for an allowed slot before giving up on a rule set
# that allows none (every day blocked, or a window inside quiet hours).
SEARCH_DAYS = 60
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class NoSlotError(ValueError):
    """The rules leave no time at which the worker may be called."""


@dataclass(frozen=True)
class CallingRules:
    """Quiet hours and blocked days, the same for first attempts and retries."""

    quiet_start: time = DEFAULT_QUIET_HOURS[0]
    quiet_end: time = DEFAULT_QUIET_HOURS[1]
    blocked_weekdays: FrozenSet[int] = field(default_factory=frozenset)
    blocked_dates: FrozenSet[date] = field(default_factory=frozenset)

    def allowed_day(self, day: date) -> bool:
        return day.weekday() not in self.blocked_weekdays and day not in self.blocked_dates

    def allowed_periods(self, day: date) -> Tuple[Tuple[time, time], ...]:
        """Return the local periods of ``day`` outside quiet hours, as (start, end)."""
        if not self.allowed_day(day):
            return ()
        start, end = self.quiet_end, self.quiet_start
        if self.quiet_start == self.quiet_end:
            return ((time(0, 0), time.max),)
        if start < end:
            # Quiet hours wrap midnight, for example 21:00 to 08:00.
            return ((start, end),)
        # Quiet hours inside one day, for example 12:00 to 14:00.
        return ((time(0, 0), end), (start, time.max))


def parse_quiet_hours(text: str) -> Tuple[time, time]:
    """Parse ``HH:MM-HH:MM``."""
    try:
        start, end = (time.fromisoformat(part.strip()) for part in text.split("-"))
    except ValueError:
        raise ValueError(f"quiet hours {text!r} are invalid: use HH:MM-HH:MM, for example 21:00-08:00") from None
    return start, end


def parse_blocked_days(text: str) -> Tuple[FrozenSet[int], FrozenSet[date]]:
    """Parse a comma-separated list of weekdays (``sun``) and ISO dates (``2026-12-25``)."""
    weekdays, dates = set(), set()
    for item in filter(None, (part.strip().lower() for part in text.split(","))):
        if item[:3] in WEEKDAYS and not item[0].isdigit():
            weekdays.add(WEEKDAYS.index(item[:3]))
            continue
        try:
            dates.add(date.fromisoformat(item))
        except ValueError:
            raise ValueError(
                f"blocked day {item!r} is invalid: use a weekday (mon, sun) or a date (2026-12-25)"
            ) from None
    return frozenset(weekdays), frozenset(dates)


def to_utc(day: date, moment: time, zone: ZoneInfo) -> datetime:
    """Convert a local wall-clock time to UTC, resolving DST gaps and overlaps.

    With ``fold=0`` (PEP 495) a time inside a gap is shifted forward by the
    gap's length, 02:30 becoming 03:30, and a time that happens twice is
    its first occurrence.
    """
    return datetime.combine(day, moment).replace(tzinfo=zone, fold=0).astimezone(timezone.utc)


def _intersect(a: Tuple[time, time], b: Tuple[time, time]) -> Optional[Tuple[time, time]]:
    start, end = max(a[0], b[0]), min(a[1], b[1])
    return (start, end) if start < end else None


@dataclass(frozen=True)
class Preference:
    """A worker's choice: an optional day and a daily window, local time."""

    window_start: time
    window_end: time
    preferred_date: Optional[date] = None


def slots_of_day(day: date, preference: Preference, rules: CallingRules):
    """Yield the parts of the worker's window on ``day`` that the rules allow."""
    window = (preference.window_start, preference.window_end)
    for period in rules.allowed_periods(day):
        part = _intersect(window, period)
        if part is not None:
            yield part


def next_slot(after: datetime, preference: Preference, rules: CallingRules, zone: ZoneInfo, earliest_day: Optional[date] = None) -> datetime:
    """Return the first allowed instant, no earlier than ``after``, in the worker's window.

    Raises:
        NoSlotError: no day in the next ``SEARCH_DAYS`` days has an allowed slot.
    """
    local_after = after.astimezone(zone)
    day = max(local_after.date(), earliest_day) if earliest_day else local_after.date()
    for _ in range(SEARCH_DAYS):
        for start, end in slots_of_day(day, preference, rules):
            start_utc, end_utc = to_utc(day, start, zone), to_utc(day, end, zone)
            if end_utc <= after:
                continue
            return max(start_utc, after)
        day += timedelta(days=1)
    raise NoSlotError(
        f"no allowed time to call between {preference.window_start:%H:%M} and "
        f"{preference.window_end:%H:%M} within {SEARCH_DAYS} days under the quiet hours and blocked days"
    )


def first_attempt(
    audit_last_day: date,
    preference: Preference,
    rules: CallingRules,
    zone: ZoneInfo,
    now: datetime,
    delay_days: int = CALLBACK_DELAY_DAYS,
) -> Tuple[datetime, bool]:
    """Return the first attempt's UTC time and whether it is late.

    The due day is the later of the audit's last day plus ``delay_days`` and
    the worker's preferred date. A due time already past is moved to the
    next allowed slot from ``now`` and marked late, never dropped.
    """
    due_day = audit_last_day + timedelta(days=delay_days)
    if preference.preferred_date and preference.preferred_date > due_day:
        due_day = preference.preferred_date
    start_of_due_day = to_utc(due_day, time(0, 0), zone)
    planned = next_slot(start_of_due_day, preference, rules, zone, earliest_day=due_day)
    if planned >= now:
        return planned, False
    return next_slot(now, preference, rules, zone), True


def next_preferred_slot(after: datetime, preference: Preference, rules: CallingRules, zone: ZoneInfo) -> datetime:
    """Return the worker's window on a later day than ``after``: the retry after no answer."""
    next_day = after.astimezone(zone).date() + timedelta(days=1)
    return next_slot(after, preference, rules, zone, earliest_day=next_day)
