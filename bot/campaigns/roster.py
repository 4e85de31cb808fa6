"""Auditors' rosters: parsed, validated row by row, then imported whole or not at all.

A roster names one audit and the workers the auditor interviewed. Every
row is checked (the number parsed to E.164 for the factory's country, the
language one the hotline speaks, the time window valid) and every problem
is reported with its line number. A roster with any bad row imports
nothing, and importing the same roster twice changes nothing.
"""

import csv
import io
import logging
from dataclasses import dataclass, field
from datetime import date, time
from functools import lru_cache
from typing import Iterable, List, Mapping, Optional
from zoneinfo import available_timezones

import phonenumbers

from bot.language.catalogue import supported_languages

logger = logging.getLogger(__name__)

AUDIT_COLUMNS = ("audit_id", "factory_id", "supplier_id", "country", "timezone", "audit_last_day")
WORKER_COLUMNS = ("phone", "language", "preferred_date", "window_start", "window_end", "consent")
CSV_COLUMNS = AUDIT_COLUMNS + WORKER_COLUMNS
REQUIRED_AUDIT = ("audit_id", "country", "timezone", "audit_last_day")
YES = {"yes", "y", "true", "1"}
NO = {"no", "n", "false", "0"}


@dataclass
class RowError:
    line: int
    reason: str

    def __str__(self) -> str:
        return f"line {self.line}: {self.reason}"


class RosterError(ValueError):
    """The roster is invalid; ``errors`` lists every bad row."""

    def __init__(self, errors: List[RowError]):
        super().__init__("; ".join(str(error) for error in errors))
        self.errors = errors


@dataclass(frozen=True)
class AuditInfo:
    reference: str
    factory_code: Optional[str]
    supplier_reference: Optional[str]
    country: str
    timezone: str
    last_day: date


@dataclass(frozen=True)
class RosterWorker:
    line: int
    e164: str
    language: str
    window_start: time
    window_end: time
    preferred_date: Optional[date]
    consent: bool


@dataclass
class Roster:
    audit: AuditInfo
    workers: List[RosterWorker] = field(default_factory=list)


@lru_cache(maxsize=1)
def _time_zones() -> frozenset:
    return frozenset(available_timezones())


def _text(value) -> str:
    return "" if value is None else str(value).strip()


# Dates outside these years are typing mistakes, and arithmetic on them overflows.
YEARS = range(2000, 2101)


def _parse_date(value: str, what: str) -> date:
    try:
        parsed = date.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is invalid: use YYYY-MM-DD") from None
    if parsed.year not in YEARS:
        raise ValueError(f"{what} {value!r} is invalid: the year must be between {YEARS[0]} and {YEARS[-1]}")
    return parsed


def _parse_time(value: str, what: str) -> time:
    try:
        parsed = time.fromisoformat(value)
    except ValueError:
        raise ValueError(f"{what} {value!r} is invalid: use HH:MM") from None
    if parsed.tzinfo is not None:
        raise ValueError(f"{what} {value!r} is invalid: give local factory time as HH:MM, without an offset")
    return parsed


def _audit_of(row: Mapping, line: int) -> AuditInfo:
    missing = [name for name in REQUIRED_AUDIT if not _text(row.get(name))]
    if missing:
        raise ValueError(f"missing {', '.join(missing)}")
    country = _text(row["country"]).upper()
    if country not in phonenumbers.SUPPORTED_REGIONS:
        raise ValueError(f"country {country!r} is invalid: use an ISO 3166 code such as VN or CN")
    zone = _text(row["timezone"])
    if zone not in _time_zones():
        raise ValueError(f"time zone {zone!r} is invalid: use an IANA name such as Asia/Ho_Chi_Minh")
    return AuditInfo(
        reference=_text(row["audit_id"]),
        factory_code=_text(row.get("factory_id")).upper() or None,
        supplier_reference=_text(row.get("supplier_id")) or None,
        country=country,
        timezone=zone,
        last_day=_parse_date(_text(row["audit_last_day"]), "audit_last_day"),
    )


def _worker_of(row: Mapping, line: int, audit: AuditInfo) -> RosterWorker:
    raw_phone = _text(row.get("phone"))
    if not raw_phone:
        raise ValueError("missing phone")
    try:
        parsed = phonenumbers.parse(raw_phone, audit.country)
    except phonenumbers.NumberParseException:
        raise ValueError(f"phone is not a number of {audit.country}") from None
    # A number only dialable inside one area ("local only") or of a length
    # no plan uses cannot be called from the hotline.
    # NOTE: is_valid_number would also reject numbers not yet allocated,
    # including the ranges kept for fiction, so the check stops at length.
    if phonenumbers.is_possible_number_with_reason(parsed) != phonenumbers.ValidationResult.IS_POSSIBLE:
        raise ValueError(f"phone is not a possible number of {audit.country}")

    language = _text(row.get("language")).lower()
    if language not in supported_languages():
        raise ValueError(f"language {language!r} is not one the hotline speaks: use one of {', '.join(supported_languages())}")

    window_start = _parse_time(_text(row.get("window_start")), "window_start")
    window_end = _parse_time(_text(row.get("window_end")), "window_end")
    if window_start >= window_end:
        raise ValueError(f"time window {window_start:%H:%M}-{window_end:%H:%M} is invalid: it must end after it starts on the same day")

    preferred = _text(row.get("preferred_date"))
    consent = _text(row.get("consent")).lower()
    if consent not in YES | NO:
        raise ValueError(f"consent {consent!r} is invalid: use yes or no")

    return RosterWorker(
        line=line,
        e164=phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164),
        language=language,
        window_start=window_start,
        window_end=window_end,
        preferred_date=_parse_date(preferred, "preferred_date") if preferred else None,
        consent=consent in YES,
    )


def _check_window(worker: RosterWorker, rules) -> None:
    from bot.campaigns.schedule import CallingRules, Preference, slots_of_day

    preference = Preference(worker.window_start, worker.window_end)
    # Every day has the same quiet hours, so any day without blocks will do.
    quiet_only = CallingRules(rules.quiet_start, rules.quiet_end)
    if not list(slots_of_day(date(2026, 1, 5), preference, quiet_only)):
        raise ValueError(
            f"time window {worker.window_start:%H:%M}-{worker.window_end:%H:%M} falls entirely in the quiet hours "
            f"{rules.quiet_start:%H:%M}-{rules.quiet_end:%H:%M}; no call could be placed"
        )


def validate_rows(
    audit_row: Mapping, rows: Iterable[Mapping], first_line: int = 2, check_audit_columns: bool = True, rules=None
) -> Roster:
    """Validate an audit and its workers; raise RosterError listing every bad row.

    With ``rules`` (CallingRules), a window inside the quiet hours is a bad row too.
    """
    errors: List[RowError] = []
    try:
        audit = _audit_of(audit_row, first_line)
    except ValueError as error:
        raise RosterError([RowError(first_line, str(error))]) from None

    roster = Roster(audit=audit)
    seen = {}
    for line, row in enumerate(rows, start=first_line):
        if check_audit_columns:
            different = [
                name for name in AUDIT_COLUMNS
                if _text(row.get(name)) and _text(row.get(name)).upper() != _text(audit_row.get(name)).upper()
            ]
            if different:
                errors.append(RowError(line, f"{', '.join(different)}: differs from the first row, but one roster contains one audit"))
                continue
        try:
            worker = _worker_of(row, line, audit)
            if rules is not None:
                _check_window(worker, rules)
        except ValueError as error:
            errors.append(RowError(line, str(error)))
            continue
        if worker.e164 in seen:
            errors.append(RowError(line, f"the same phone as line {seen[worker.e164]}"))
            continue
        seen[worker.e164] = line
        roster.workers.append(worker)

    if errors:
        raise RosterError(errors)
    return roster


def parse_csv(text: str, rules=None) -> Roster:
    """Parse a roster CSV, one row per worker with the audit's columns on each row."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    missing = [name for name in ("audit_id", "phone", "language", "window_start", "window_end", "consent") if name not in (reader.fieldnames or [])]
    if missing:
        raise RosterError([RowError(1, f"missing column(s) {', '.join(missing)}; expected {','.join(CSV_COLUMNS)}")])
    rows = list(reader)
    if not rows:
        raise RosterError([RowError(2, "the roster has no workers")])
    return validate_rows(rows[0], rows, rules=rules)


def parse_json(document: Mapping, rules=None) -> Roster:
    """Parse a roster posted as JSON: ``{"audit": {...}, "workers": [{...}, ...]}``.

    Line numbers count workers from 1.
    """
    if not isinstance(document, Mapping) or not isinstance(document.get("audit"), Mapping):
        raise RosterError([RowError(0, 'expected an object with "audit" and "workers"')])
    workers = document.get("workers")
    if not isinstance(workers, list) or not workers:
        raise RosterError([RowError(0, '"workers" must be a non-empty list')])
    if not all(isinstance(worker, Mapping) for worker in workers):
        raise RosterError([RowError(0, 'each entry of "workers" must be an object')])
    return validate_rows(document["audit"], workers, first_line=1, check_audit_columns=False, rules=rules)
