"""Due times of callbacks across time zones, daylight saving and quiet hours."""

from datetime import date, datetime, time, timezone
from zoneinfo import ZoneInfo

import pytest

from bot.campaigns.schedule import (
    CallingRules,
    NoSlotError,
    Preference,
    first_attempt,
    next_preferred_slot,
    next_slot,
    parse_blocked_days,
    parse_quiet_hours,
    to_utc,
)

RULES = CallingRules()
EVENING = Preference(time(18, 0), time(20, 0))
LONG_AGO = datetime(2020, 1, 1, tzinfo=timezone.utc)


def utc(*args):
    return datetime(*args, tzinfo=timezone.utc)


@pytest.mark.parametrize(
    "zone, expected",
    [
        ("Asia/Ho_Chi_Minh", utc(2026, 12, 2, 11, 0)),
        ("Asia/Shanghai", utc(2026, 12, 2, 10, 0)),
        ("Asia/Dhaka", utc(2026, 12, 2, 12, 0)),
        ("America/Mexico_City", utc(2026, 12, 3, 0, 0)),
        ("Asia/Kathmandu", utc(2026, 12, 2, 12, 15)),
    ],
)
def test_first_attempt_local_time(zone, expected):
    due, late = first_attempt(date(2026, 11, 27), EVENING, RULES, ZoneInfo(zone), LONG_AGO)
    assert due == expected
    assert late is False


def test_preferred_date_later_than_five_days_wins():
    preference = Preference(time(18, 0), time(20, 0), preferred_date=date(2026, 12, 6))
    due, _ = first_attempt(date(2026, 11, 27), preference, RULES, ZoneInfo("Asia/Ho_Chi_Minh"), LONG_AGO)
    assert due == utc(2026, 12, 6, 11, 0)


def test_preferred_date_earlier_than_five_days_is_ignored():
    preference = Preference(time(18, 0), time(20, 0), preferred_date=date(2026, 11, 28))
    due, _ = first_attempt(date(2026, 11, 27), preference, RULES, ZoneInfo("Asia/Ho_Chi_Minh"), LONG_AGO)
    assert due == utc(2026, 12, 2, 11, 0)


def test_spring_forward_gap_moves_time_forward():
    # Clocks in New York jump from 02:00 to 03:00 on 8 March 2026.
    assert to_utc(date(2026, 3, 8), time(2, 30), ZoneInfo("America/New_York")) == utc(2026, 3, 8, 7, 30)


def test_fall_back_overlap_takes_first_occurrence():
    # 01:30 happens twice in New York on 1 November 2026; the first is EDT.
    assert to_utc(date(2026, 11, 1), time(1, 30), ZoneInfo("America/New_York")) == utc(2026, 11, 1, 5, 30)


def test_window_across_dst_change_keeps_local_hour():
    zone = ZoneInfo("Europe/London")
    before, _ = first_attempt(date(2026, 3, 20), EVENING, RULES, zone, LONG_AGO)
    after, _ = first_attempt(date(2026, 3, 25), EVENING, RULES, zone, LONG_AGO)
    assert before == utc(2026, 3, 25, 18, 0)
    assert after == utc(2026, 3, 30, 17, 0)


def test_past_due_roster_marked_late():
    now = utc(2026, 12, 10, 14, 30)  # 21:30 in Ho Chi Minh City, in quiet hours
    due, late = first_attempt(date(2026, 11, 27), EVENING, RULES, ZoneInfo("Asia/Ho_Chi_Minh"), now)
    assert late is True
    assert due == utc(2026, 12, 11, 11, 0)


def test_past_due_inside_window_is_called_now():
    now = utc(2026, 12, 10, 11, 30)
    due, late = first_attempt(date(2026, 11, 27), EVENING, RULES, ZoneInfo("Asia/Ho_Chi_Minh"), now)
    assert (due, late) == (now, True)


def test_quiet_hours_clip_a_late_window():
    late_evening = Preference(time(20, 0), time(23, 0))
    due, _ = first_attempt(date(2026, 11, 27), late_evening, RULES, ZoneInfo("Asia/Ho_Chi_Minh"), LONG_AGO)
    assert due == utc(2026, 12, 2, 13, 0)
    assert next_slot(utc(2026, 12, 2, 14, 0), late_evening, RULES, ZoneInfo("Asia/Ho_Chi_Minh")) == utc(2026, 12, 3, 13, 0)


def test_window_inside_quiet_hours_has_no_slot():
    night = Preference(time(22, 0), time(23, 0))
    with pytest.raises(NoSlotError):
        first_attempt(date(2026, 11, 27), night, RULES, ZoneInfo("Asia/Ho_Chi_Minh"), LONG_AGO)


def test_blocked_sunday_moves_to_monday():
    weekdays, dates = parse_blocked_days("sun")
    rules = CallingRules(blocked_weekdays=weekdays, blocked_dates=dates)
    # An audit ending on Tuesday 1 December 2026 is due on Sunday 6 December.
    due, _ = first_attempt(date(2026, 12, 1), EVENING, rules, ZoneInfo("Asia/Ho_Chi_Minh"), LONG_AGO)
    assert due == utc(2026, 12, 7, 11, 0)


def test_blocked_date_is_skipped():
    weekdays, dates = parse_blocked_days("2026-12-02")
    rules = CallingRules(blocked_weekdays=weekdays, blocked_dates=dates)
    due, _ = first_attempt(date(2026, 11, 27), EVENING, rules, ZoneInfo("Asia/Ho_Chi_Minh"), LONG_AGO)
    assert due == utc(2026, 12, 3, 11, 0)


def test_next_preferred_slot_is_a_later_day():
    after = utc(2026, 12, 2, 11, 5)
    assert next_preferred_slot(after, EVENING, RULES, ZoneInfo("Asia/Ho_Chi_Minh")) == utc(2026, 12, 3, 11, 0)


@pytest.mark.parametrize("text", ["25:00-08:00", "9pm-8am", "21:00"])
def test_invalid_quiet_hours_are_rejected(text):
    with pytest.raises(ValueError, match="HH:MM-HH:MM"):
        parse_quiet_hours(text)


def test_invalid_blocked_day_is_rejected():
    with pytest.raises(ValueError, match="weekday"):
        parse_blocked_days("funday")
