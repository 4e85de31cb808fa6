"""Post-audit callback campaigns on the running stack, dialed through Twilio's API double."""

import itertools
import os
import subprocess
import sys
import time
from datetime import date, datetime, timedelta, timezone

import pytest
import requests
from sqlalchemy import select, update

from bot.config import PROJECT_ROOT
from bot.db.models import Audit, CallAttempt, Callback, QuestionnaireAnswer
from bot.privacy import pseudonymise
from bot.stack import child_env
from tests.helpers import Call, Phone

_audit_numbers = itertools.count(1)


def zone_with_local_hour(hour: int) -> str:
    """Return an Etc/GMT zone in which it is now ``hour`` o'clock."""
    offset = (hour - datetime.now(timezone.utc).hour + 12) % 24 - 12
    if offset == 0:
        return "Etc/GMT"
    # Etc/GMT zones count the other way: Etc/GMT-3 is three hours ahead.
    return f"Etc/GMT{-offset:+d}"


def roster(phones, hour=12, language="en", last_day=None, audit=None, window=("00:00", "23:59")):
    return {
        "audit": {
            "audit_id": audit or f"AUD-T{next(_audit_numbers)}-{os.getpid()}",
            "factory_id": "VN0421",
            "supplier_id": "SUP-1",
            "country": "GB",
            "timezone": zone_with_local_hour(hour),
            "audit_last_day": (last_day or date.today() - timedelta(days=10)).isoformat(),
        },
        "workers": [
            {"phone": phone.number, "language": language, "window_start": window[0], "window_end": window[1], "consent": "yes"}
            for phone in phones
        ],
    }


def post_roster(settings, document, token="test-roster-token"):
    return requests.post(
        f"{settings.public_base_url}/api/rosters", json=document,
        headers={"Authorization": f"Bearer {token}"}, timeout=30,
    )


def callbacks_of(db, reference):
    with db.session() as session:
        audit = session.execute(select(Audit).where(Audit.reference == reference)).scalar_one()
        return list(session.execute(select(Callback).where(Callback.audit_id == audit.id).order_by(Callback.id)).scalars())


def attempts_of(db, callback_id):
    with db.session() as session:
        return list(session.execute(
            select(CallAttempt).where(CallAttempt.callback_id == callback_id).order_by(CallAttempt.number)
        ).scalars())


def wait_for(predicate, timeout=30.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = predicate()
        if value:
            return value
        time.sleep(0.2)
    raise AssertionError("timed out waiting for the dialer")


def placed_calls(twilio, phone, count=1):
    return wait_for(lambda: [c for c in twilio.calls if c.to == phone.number] if len([c for c in twilio.calls if c.to == phone.number]) >= count else None)


def answer(phone, placed, callback_id):
    return Call(phone, call_sid=placed.sid, outbound=True, callback_id=callback_id, url=placed.url, status_url=placed.status_callback)


def make_due(db, callback_id):
    """Move a retry to now, as if its next slot had come."""
    with db.session() as session:
        session.execute(update(Callback).where(Callback.id == callback_id).values(due_at=datetime.now(timezone.utc)))


@pytest.fixture
def phones(settings, stack, twilio):
    from tests.conftest import fictional_number

    return [Phone(number=fictional_number("uk"), settings=settings, twilio=twilio) for _ in range(3)]


def test_roster_api_requires_token(settings, stack, phones):
    response = post_roster(settings, roster(phones[:1]), token="wrong")
    assert response.status_code == 401


def test_roster_with_bad_row_imports_nothing(settings, stack, db, phones):
    document = roster(phones[:2])
    document["workers"][1]["language"] = "fr"
    response = post_roster(settings, document)

    assert response.status_code == 422
    assert response.json()["errors"] == [{"line": 2, "reason": "language 'fr' is not one the hotline speaks: use one of en, zh, vi"}]
    with db.session() as session:
        assert session.execute(select(Audit).where(Audit.reference == document["audit"]["audit_id"])).first() is None


def test_roster_imported_twice_changes_nothing(settings, stack, db, phones):
    document = roster(phones, hour=3)
    first = post_roster(settings, document)
    second = post_roster(settings, document)

    assert first.status_code == second.status_code == 201
    assert first.json()["created"] == 3
    assert second.json() == dict(first.json(), created=0, updated=0, unchanged=3, late=0)
    assert len(callbacks_of(db, document["audit"]["audit_id"])) == 3


def test_roster_csv_upload(settings, stack, db, phones):
    document = roster(phones[:1], hour=3)
    audit = document["audit"]
    csv = (
        "audit_id,factory_id,supplier_id,country,timezone,audit_last_day,phone,language,preferred_date,window_start,window_end,consent\n"
        f"{audit['audit_id']},VN0421,SUP-1,GB,{audit['timezone']},{audit['audit_last_day']},{phones[0].number},vi,,18:00,20:00,yes\n"
    )
    response = requests.post(
        f"{settings.public_base_url}/api/rosters", files={"roster": ("roster.csv", csv, "text/csv")},
        headers={"Authorization": "Bearer test-roster-token"}, timeout=30,
    )
    assert response.status_code == 201, response.text
    (callback,) = callbacks_of(db, audit["audit_id"])
    assert callback.language == "vi"


def test_quiet_hours_hold_a_past_due_roster(settings, stack, db, phones, twilio):
    document = roster(phones[:1], hour=3)
    post_roster(settings, document)
    (callback,) = callbacks_of(db, document["audit"]["audit_id"])

    assert callback.late
    assert callback.status == "scheduled"
    due = callback.due_at if callback.due_at.tzinfo else callback.due_at.replace(tzinfo=timezone.utc)
    assert timedelta(hours=4) < due - datetime.now(timezone.utc) < timedelta(hours=6)
    time.sleep(1.5)
    assert [c for c in twilio.calls if c.to == phones[0].number] == []


def test_small_campaign_runs_from_import_to_answers(settings, stack, db, phones, twilio):
    document = roster(phones)
    assert post_roster(settings, document).json()["late"] == 3
    callbacks = callbacks_of(db, document["audit"]["audit_id"])

    for phone, callback in zip(phones, callbacks):
        (placed,) = placed_calls(twilio, phone)
        assert placed.machine_detection == "Enable"
        assert placed.from_ == settings.caller_id
        call = answer(phone, placed, callback.id)
        call.start(AnsweredBy="human")
        call.press("1")
        call.press("2")
        call.press("2")
        call.press("2")
        call.end("completed")

    times = sorted(c.placed_at for c in twilio.calls if c.to in {p.number for p in phones})
    assert all(later - earlier >= 0.9 / settings.calls_per_second for earlier, later in zip(times, times[1:]))
    for callback in callbacks_of(db, document["audit"]["audit_id"]):
        assert callback.status == "completed"
        with db.session() as session:
            answers = {a.question: a.answer for a in session.execute(
                select(QuestionnaireAnswer).where(QuestionnaireAnswer.callback_id == callback.id)).scalars()}
        assert answers == {"safe_to_talk": "yes", "asked_about_audit": "no", "punished": "no", "unsafe_problem": "no"}


def test_no_answer_and_busy_retry_then_sms_invitation(settings, stack, db, phones, twilio):
    phone = phones[0]
    document = roster([phone], language="zh")
    post_roster(settings, document)
    (callback,) = callbacks_of(db, document["audit"]["audit_id"])

    for number, status in enumerate(("no-answer", "busy", "no-answer"), start=1):
        placed = placed_calls(twilio, phone, count=number)[-1]
        answer(phone, placed, callback.id).end(status)
        (row,) = callbacks_of(db, document["audit"]["audit_id"])
        assert row.attempts == number
        if number < settings.max_attempts:
            assert row.status == "scheduled"
            due = row.due_at.replace(tzinfo=timezone.utc) if row.due_at.tzinfo is None else row.due_at
            assert due - datetime.now(timezone.utc) > timedelta(hours=8)
            make_due(db, callback.id)

    (row,) = callbacks_of(db, document["audit"]["audit_id"])
    assert row.status == "unreached"
    assert [a.status for a in attempts_of(db, callback.id)] == ["no_answer", "busy", "no_answer"]
    (invitation,) = [m for m in twilio.messages if m.to == phone.number]
    assert "免费" in invitation.body


def test_twilio_error_is_retried_soon(settings, stack, db, phones, twilio):
    phone = phones[0]
    twilio.call_errors[phone.number] = 21215
    document = roster([phone])
    post_roster(settings, document)
    callback_id = callbacks_of(db, document["audit"]["audit_id"])[0].id

    (attempt,) = wait_for(lambda: [a for a in attempts_of(db, callback_id) if a.status == "failed"] or None)
    assert attempt.error_code == "21215"
    (row,) = callbacks_of(db, document["audit"]["audit_id"])
    due = row.due_at.replace(tzinfo=timezone.utc) if row.due_at.tzinfo is None else row.due_at
    assert timedelta(minutes=9) < due - datetime.now(timezone.utc) < timedelta(minutes=11)


def test_answering_machine_is_not_questioned(settings, stack, db, phones, twilio):
    phone = phones[0]
    document = roster([phone])
    post_roster(settings, document)
    callback_id = callbacks_of(db, document["audit"]["audit_id"])[0].id
    (placed,) = placed_calls(twilio, phone)

    call = answer(phone, placed, callback_id)
    greeting = call.start(AnsweredBy="machine_start")
    call.end("completed")

    assert greeting.hangs_up
    assert greeting.spoken == []
    (attempt,) = attempts_of(db, callback_id)
    assert attempt.status == "machine"
    assert callbacks_of(db, document["audit"]["audit_id"])[0].status == "scheduled"


def test_late_and_repeated_status_callbacks_change_nothing(settings, stack, db, phones, twilio):
    phone = phones[0]
    document = roster([phone])
    post_roster(settings, document)
    callback_id = callbacks_of(db, document["audit"]["audit_id"])[0].id
    (placed,) = placed_calls(twilio, phone)
    call = answer(phone, placed, callback_id)

    call.end("no-answer")
    due_after_first = callbacks_of(db, document["audit"]["audit_id"])[0].due_at
    call.end("no-answer")
    call.end("ringing")
    call.end("completed")

    (row,) = callbacks_of(db, document["audit"]["audit_id"])
    assert row.attempts == 1
    assert row.due_at == due_after_first
    assert [a.status for a in attempts_of(db, callback_id)] == ["no_answer"]


def test_worker_never_has_two_calls_in_flight(settings, stack, db, phones, twilio):
    phone = phones[0]
    for _ in range(2):
        post_roster(settings, roster([phone]))
    wait_for(lambda: [c for c in twilio.calls if c.to == phone.number] or None)
    time.sleep(2.0)

    assert len([c for c in twilio.calls if c.to == phone.number]) == 1


def test_commands_list_callbacks_and_progress_without_numbers(settings, stack, db, phones):
    document = roster(phones, hour=3)
    post_roster(settings, document)
    env = child_env(stack.service_env())

    listing = subprocess.run(
        [sys.executable, "-m", "bot.cli", "callbacks", document["audit"]["audit_id"]],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )
    progress = subprocess.run(
        [sys.executable, "-m", "bot.cli", "progress", document["audit"]["audit_id"]],
        cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
    )

    assert listing.returncode == 0, listing.stderr
    assert listing.stdout.count("scheduled") == 3
    assert "(late)" in listing.stdout
    assert "scheduled 3" in progress.stdout
    for phone in phones:
        assert phone.number[1:] not in listing.stdout + progress.stdout
        assert pseudonymise(phone.number, settings.pseudonym_key) not in listing.stdout


def test_callback_left_hanging_by_dead_worker_is_recovered(settings, stack, db, phones):
    from bot.campaigns.dialer import recover_stuck
    from bot.services import Services

    document = roster(phones[:1], hour=3)
    post_roster(settings, document)
    (callback,) = callbacks_of(db, document["audit"]["audit_id"])
    long_ago = datetime.now(timezone.utc) - timedelta(minutes=20)
    with db.session() as session:
        session.execute(update(Callback).where(Callback.id == callback.id).values(status="dialing", updated_at=long_ago))

    services = Services(settings)
    try:
        assert recover_stuck(services) >= 1
    finally:
        services.close()
    (row,) = callbacks_of(db, document["audit"]["audit_id"])
    assert row.status == "scheduled"


def test_import_roster_command_reports_bad_rows_then_imports(settings, stack, db, phones, tmp_path):
    audit = roster(phones[:2], hour=3)["audit"]
    header = "audit_id,factory_id,supplier_id,country,timezone,audit_last_day,phone,language,preferred_date,window_start,window_end,consent"
    prefix = f"{audit['audit_id']},VN0421,SUP-1,GB,{audit['timezone']},{audit['audit_last_day']}"
    bad = tmp_path / "bad.csv"
    bad.write_text(f"{header}\n{prefix},{phones[0].number},en,,18:00,20:00,yes\n{prefix},{phones[1].number},en,,18:00,20:00,perhaps\n")
    good = tmp_path / "good.csv"
    good.write_text(f"{header}\n{prefix},{phones[0].number},en,,18:00,20:00,yes\n{prefix},{phones[1].number},zh,,18:00,20:00,no\n")
    env = child_env(stack.service_env())

    def run(path):
        return subprocess.run(
            [sys.executable, "-m", "bot.cli", "import-roster", str(path)],
            cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=120,
        )

    rejected = run(bad)
    assert rejected.returncode == 2
    assert "line 3: consent 'perhaps' is invalid" in rejected.stderr
    with db.session() as session:
        assert session.execute(select(Audit).where(Audit.reference == audit["audit_id"])).first() is None

    imported = run(good)
    assert imported.returncode == 0, imported.stderr
    assert "callbacks scheduled 1 (late 1), without consent and not called 1, updated 0, already imported 0" in imported.stdout
    statuses = sorted(c.status for c in callbacks_of(db, audit["audit_id"]))
    assert statuses == ["opted_out", "scheduled"]


def test_corrected_roster_withdraws_consent_and_moves_window(settings, stack, db, phones):
    document = roster(phones[:2], hour=3)
    post_roster(settings, document)
    document["workers"][0]["consent"] = "no"
    document["workers"][1]["window_start"], document["workers"][1]["window_end"] = "10:00", "11:00"

    response = post_roster(settings, document)

    assert response.json()["updated"] == 2
    first, second = callbacks_of(db, document["audit"]["audit_id"])
    assert first.status == "opted_out"
    assert first.due_at is None
    assert (second.window_start, second.window_end) == ("10:00", "11:00")


def test_callback_hung_up_before_first_question_is_retried(settings, stack, db, phones, twilio):
    phone = phones[0]
    document = roster([phone])
    post_roster(settings, document)
    callback_id = callbacks_of(db, document["audit"]["audit_id"])[0].id
    (placed,) = placed_calls(twilio, phone)

    call = answer(phone, placed, callback_id)
    call.start(AnsweredBy="human")
    call.end("completed")

    (row,) = callbacks_of(db, document["audit"]["audit_id"])
    assert row.status == "scheduled"
    assert row.last_outcome == "completed"
