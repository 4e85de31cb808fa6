"""Roster validation: every bad row reported with its line, nothing half-imported."""

import pytest

from bot.campaigns.roster import RosterError, parse_csv, parse_json

HEADER = "audit_id,factory_id,supplier_id,country,timezone,audit_last_day,phone,language,preferred_date,window_start,window_end,consent"
AUDIT = "AUD-1,GB0421,SUP-9,GB,Europe/London,2026-11-27"
# Numbers from the UK range kept free for fiction, written both nationally
# and in E.164.
GOOD_ROWS = [
    f"{AUDIT},07700 900001,vi,,18:00,20:00,yes",
    f"{AUDIT},+447700900002,en,2026-12-06,12:00,13:00,yes",
]


def _csv(*rows):
    return "\n".join([HEADER, *rows]) + "\n"


def test_valid_roster_parses_numbers_to_e164():
    roster = parse_csv(_csv(*GOOD_ROWS))
    assert roster.audit.reference == "AUD-1"
    assert [worker.e164 for worker in roster.workers] == ["+447700900001", "+447700900002"]
    assert roster.workers[1].preferred_date.isoformat() == "2026-12-06"


@pytest.mark.parametrize(
    "row, reason",
    [
        (f"{AUDIT},12,vi,,18:00,20:00,yes", "not a possible number of GB"),
        (f"{AUDIT},07700900003,fr,,18:00,20:00,yes", "language 'fr' is not one the hotline speaks"),
        (f"{AUDIT},07700900003,vi,,20:00,18:00,yes", "must end after it starts"),
        (f"{AUDIT},07700900003,vi,,6pm,20:00,yes", "window_start '6pm' is invalid"),
        (f"{AUDIT},07700900003,vi,06/12/2026,18:00,20:00,yes", "preferred_date '06/12/2026' is invalid"),
        (f"{AUDIT},07700900003,vi,,18:00,20:00,maybe", "consent 'maybe' is invalid"),
        (f"{AUDIT},,vi,,18:00,20:00,yes", "missing phone"),
        (f"{AUDIT},+44 7700 900001,vi,,18:00,20:00,yes", "the same phone as line 2"),
        ("AUD-2,GB0421,SUP-9,GB,Europe/London,2026-11-27,07700900003,vi,,18:00,20:00,yes", "differs from the first row"),
        (f"{AUDIT},12345,vi,,18:00,20:00,yes", "not a possible number of GB"),
        (f"{AUDIT},07700900003,vi,,09:00+05:00,20:00,yes", "without an offset"),
        (f"{AUDIT},07700900003,vi,9999-12-30,18:00,20:00,yes", "the year must be between"),
    ],
)
def test_bad_row_is_reported_with_line_and_reason(row, reason):
    with pytest.raises(RosterError) as raised:
        parse_csv(_csv(*GOOD_ROWS, row))
    (error,) = raised.value.errors
    assert error.line == 4
    assert reason in error.reason


def test_every_bad_row_is_reported():
    with pytest.raises(RosterError) as raised:
        parse_csv(_csv(GOOD_ROWS[0], f"{AUDIT},1,vi,,18:00,20:00,yes", f"{AUDIT},07700900009,xx,,18:00,20:00,yes"))
    assert [error.line for error in raised.value.errors] == [3, 4]


def test_bad_error_message_holds_no_phone_number():
    with pytest.raises(RosterError) as raised:
        parse_csv(_csv(f"{AUDIT},07700900003,fr,,18:00,20:00,yes"))
    assert "07700900003" not in str(raised.value)


@pytest.mark.parametrize(
    "audit, reason",
    [
        ("AUD-1,GB0421,SUP-9,GB,Asia/Saigon_City,2026-11-27", "time zone 'Asia/Saigon_City' is invalid"),
        ("AUD-1,GB0421,SUP-9,XX,Europe/London,2026-11-27", "country 'XX' is invalid"),
        ("AUD-1,GB0421,SUP-9,GB,Europe/London,27.11.2026", "audit_last_day '27.11.2026' is invalid"),
        (",GB0421,SUP-9,GB,Europe/London,2026-11-27", "missing audit_id"),
    ],
)
def test_bad_audit_is_reported(audit, reason):
    with pytest.raises(RosterError) as raised:
        parse_csv(_csv(f"{audit},07700900001,vi,,18:00,20:00,yes"))
    assert reason in str(raised.value)


def test_missing_column_is_reported():
    with pytest.raises(RosterError, match="missing column"):
        parse_csv("audit_id,phone\nAUD-1,07700900001\n")


def test_json_roster_parses():
    roster = parse_json({
        "audit": {"audit_id": "AUD-J", "country": "GB", "timezone": "Asia/Shanghai", "audit_last_day": "2026-11-27"},
        "workers": [{"phone": "07700 900123", "language": "zh", "window_start": "12:00", "window_end": "13:00", "consent": "yes"}],
    })
    assert roster.workers[0].e164 == "+447700900123"


@pytest.mark.parametrize("document", [[], {"audit": {}}, {"audit": {"audit_id": "A"}, "workers": "x"}])
def test_malformed_json_roster_is_rejected(document):
    with pytest.raises(RosterError):
        parse_json(document)


def test_quiet_hours_window_reported():
    from bot.campaigns.schedule import CallingRules

    with pytest.raises(RosterError) as raised:
        parse_csv(_csv(f"{AUDIT},07700900004,vi,,22:00,23:00,yes", f"{AUDIT},07700900005,xx,,18:00,20:00,yes"), CallingRules())
    assert [error.line for error in raised.value.errors] == [2, 3]
    assert "falls entirely in the quiet hours 21:00-08:00" in raised.value.errors[0].reason
