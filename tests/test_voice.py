"""Voice calls against the running hotline: menus, speech, keypad, silence, safe exit."""

import datetime

import pytest
import requests
from sqlalchemy import select

from bot.cases import format_reference
from bot.db.models import Audit, Callback, QuestionnaireAnswer, Worker
from bot.privacy import number_country
from bot.telephony.signature import SIGNATURE_HEADER
from bot.workers import find_or_create_worker
from tests.helpers import Call, cases_of, escalations_of, messages_of, parse_twiml, rasa_tracker, worker_of

MENU_DIGIT = {"en": "1", "zh": "2", "vi": "3"}
SAY_LANGUAGE = {"en": "en-US", "zh": "cmn-CN", "vi": "vi-VN"}
GRIEVANCE_SPEECH = {
    "en": ["the supervisor hits workers who make mistakes", "Sunrise Garments", "since last month"],
    "zh": ["主管经常打骂工人", "阳光制衣厂", "上个月开始的"],
    "vi": ["to truong hay danh cong nhan", "Xưởng may Hoa Sen", "từ tháng trước"],
}


def _set_language(db, phone, language):
    with db.session() as session:
        session.execute(select(Worker).where(Worker.pseudonym == phone.pseudonym))
    phone.text({"en": "hello", "zh": "你好", "vi": "xin chào"}[language])
    assert worker_of(db, phone).language == language


def test_language_menu_for_unknown_caller(phone):
    menu = Call(phone).start()

    gather = menu.gather
    assert gather.get("input") == "dtmf"
    assert gather.get("numDigits") == "1"
    assert "en-US" in menu.languages
    assert "cmn-CN" in menu.languages
    assert "English" in menu.text
    assert "中文" in menu.text
    played = [e.text for e in menu.spoken if e.tag == "Play"]
    assert played and played[0].endswith("/twilio/voice/audio/vi/language-menu-option.wav")
    assert requests.get(played[0], timeout=10).status_code == 200


@pytest.mark.parametrize("language", ["en", "zh", "vi"])
def test_inbound_call_reports_grievance_by_speech(phone, db, vault, language):
    call = Call(phone)
    call.start()
    greeting = call.press(MENU_DIGIT[language])
    assert greeting.languages == {SAY_LANGUAGE[language]}
    assert greeting.gather.get("input") == "dtmf speech"

    description, factory, since = GRIEVANCE_SPEECH[language]
    call.say(description)
    call.say(factory)
    call.say(since)
    call.press("1")
    call.press("1")
    closing = call.press("2")

    (case,) = cases_of(db, phone)
    assert case.channel == "voice"
    assert case.language == language
    assert case.category == "harassment_abuse"
    assert vault.decrypt(case.description_ciphertext) == description
    spoken_code = format_reference(case.reference_code)
    digits = " ".join(spoken_code[:4]) + ", " + " ".join(spoken_code[5:])
    assert closing.text.count(digits) == 2
    assert closing.hangs_up
    assert worker_of(db, phone).language == language


def test_known_caller_skips_language_menu(phone, db):
    _set_language(db, phone, "zh")
    greeting = Call(phone).start()

    assert greeting.languages == {"cmn-CN"}
    assert greeting.gather.get("language") == "cmn-Hans-CN"


def test_silence_reprompts_twice_then_keypad_then_callback_offer(phone, db):
    _set_language(db, phone, "en")
    call = Call(phone)
    question = call.start().text

    first = call.silence()
    second = call.silence()
    third = call.silence()
    offer = call.silence()

    assert question in first.text
    assert question in second.text
    assert "did not hear" in first.text.lower()
    assert third.gather.get("input") == "dtmf"
    assert "keypad" in third.text.lower()
    assert question in third.text
    assert offer.gather.get("numDigits") == "1"
    assert "call you back" in offer.text.lower()

    goodbye = call.press("1")
    assert goodbye.hangs_up
    (escalation,) = escalations_of(db, phone)
    assert escalation.reason == "human_requested"
    assert escalation.channel == "voice"


def test_silence_after_callback_offer_ends_with_goodbye(phone, db):
    _set_language(db, phone, "en")
    call = Call(phone)
    call.start()
    for _ in range(4):
        call.silence()
    last = call.silence()

    assert last.hangs_up
    assert "goodbye" in last.text.lower()
    assert escalations_of(db, phone) == []


def test_safe_exit_key_ends_call_at_once(phone, db):
    _set_language(db, phone, "en")
    call = Call(phone)
    call.start()
    call.press("1")
    goodbye = call.press("*")

    assert goodbye.hangs_up
    assert goodbye.gather is None
    assert "hotline" not in goodbye.text.lower()
    assert len(goodbye.text) < 40


def test_saying_cannot_talk_ends_call_at_once(phone, db):
    _set_language(db, phone, "en")
    call = Call(phone)
    call.start()
    call.say("my manager does not pay overtime")
    goodbye = call.say("sorry someone is watching me")

    assert goodbye.hangs_up
    assert "hotline" not in goodbye.text.lower()
    (case,) = cases_of(db, phone)
    assert case.category == "wages"
    assert escalations_of(db, phone) == []


def test_low_confidence_speech_is_asked_again_then_escalated(phone, db, settings):
    _set_language(db, phone, "en")
    call = Call(phone)
    question = call.start().text

    first = call.say("mumble", confidence="0.1")
    assert "did not understand" in first.text.lower()
    assert question in first.text
    call.say("mumble", confidence="0.12")
    last = call.say("mumble", confidence="0.05")

    assert last.hangs_up
    (escalation,) = escalations_of(db, phone)
    assert escalation.reason == "misunderstood"
    conversation = f"{phone.pseudonym}.call-{call.call_sid[-12:]}"
    users = [e for e in rasa_tracker(settings, conversation)["events"] if e["event"] == "user"]
    assert [e["text"] for e in users] == ["/greet"]


def test_repeated_webhook_for_same_step_is_processed_once(phone, db, settings):
    _set_language(db, phone, "en")
    call = Call(phone)
    call.start()
    action = call.last.gather.get("action")

    first = call.post(action, SpeechResult="my boss did not pay my wages", Confidence="0.9", CallStatus="in-progress")
    second = call.post(action, SpeechResult="my boss did not pay my wages", Confidence="0.9", CallStatus="in-progress")

    assert first.status_code == second.status_code == 200
    assert first.text == second.text
    inbound = [m for m in messages_of(db, phone, "inbound") if m.channel == "voice"]
    assert len(inbound) == 1
    conversation = f"{phone.pseudonym}.call-{call.call_sid[-12:]}"
    users = [e for e in rasa_tracker(settings, conversation)["events"] if e["event"] == "user"]
    assert len(users) == 2


@pytest.mark.parametrize("path", ["", "/gather?step=1", "/silence?step=1", "/language?step=1", "/status"])
def test_voice_webhook_with_forged_signature_returns_403(phone, settings, path):
    form = {"CallSid": "CA" + "e" * 32, "From": phone.number, "To": "+15005550006", "Digits": "1"}
    response = requests.post(
        settings.public_base_url + "/twilio/voice" + path, data=form, headers={SIGNATURE_HEADER: "forged"}, timeout=10
    )
    assert response.status_code == 403


# -- the post-audit questionnaire ---------------------------------------------


@pytest.fixture
def callback(db, vault, phone, settings):
    """A post-audit callback due to the fictional worker, in Vietnamese."""
    return _make_callback(db, vault, phone, settings, "vi")


def _make_callback(db, vault, phone, settings, language):
    with db.session() as session:
        audit = Audit(
            reference=f"AUD-{phone.number[-6:]}-{language}",
            country="VN",
            timezone="Asia/Ho_Chi_Minh",
            last_day=datetime.date(2026, 11, 27),
        )
        session.add(audit)
        worker = find_or_create_worker(session, vault, phone.pseudonym, phone.number, number_country(phone.number))
        session.flush()
        row = Callback(
            audit_id=audit.id, worker_id=worker.id, language=language, status="scheduled",
            window_start="08:00", window_end="20:00",
        )
        session.add(row)
        session.flush()
        return row.id


def _answers(db, callback_id):
    with db.session() as session:
        rows = session.execute(select(QuestionnaireAnswer).where(QuestionnaireAnswer.callback_id == callback_id))
        return {row.question: (row.answer, row.input_method) for row in rows.scalars()}


def _callback(db, callback_id):
    with db.session() as session:
        return session.get(Callback, callback_id)


def test_questionnaire_by_keypad_reports_retaliation(phone, db, callback):
    call = Call(phone, outbound=True, callback_id=callback)
    intro = call.start()
    assert intro.languages == {"vi-VN"}
    assert "bảo mật" in intro.text

    call.press("1")
    call.press("2")
    call.press("1")
    closing = call.press("2")
    call.end("completed")

    assert closing.hangs_up
    assert _answers(db, callback) == {
        "safe_to_talk": ("yes", "dtmf"),
        "asked_about_audit": ("no", "dtmf"),
        "punished": ("yes", "dtmf"),
        "unsafe_problem": ("no", "dtmf"),
    }
    (case,) = cases_of(db, phone)
    assert case.category == "retaliation"
    assert case.severity == "critical"
    assert case.callback_id == callback
    (escalation,) = escalations_of(db, phone)
    assert escalation.severity == "critical"
    assert escalation.case_id == case.id
    assert _callback(db, callback).status == "completed"


def test_questionnaire_by_speech_leads_into_grievance_intake(phone, db, vault, settings):
    callback = _make_callback(db, vault, phone, settings, "en")
    call = Call(phone, outbound=True, callback_id=callback)
    call.start()

    call.say("yes it is ok now")
    call.say("yes my line leader asked me")
    call.say("no")
    intake = call.say("yes there is")
    assert "what happened" in intake.text.lower()

    call.say("they lock the dormitory at night and we cannot get out")
    call.end("completed")
    (kept,) = cases_of(db, phone)
    assert "dormitory" in vault.decrypt(kept.description_ciphertext)

    assert _answers(db, callback) == {
        "safe_to_talk": ("yes", "speech"),
        "asked_about_audit": ("yes", "speech"),
        "punished": ("no", "speech"),
        "unsafe_problem": ("yes", "speech"),
    }


def test_questionnaire_not_safe_now(phone, db, vault, settings):
    callback = _make_callback(db, vault, phone, settings, "zh")
    call = Call(phone, outbound=True, callback_id=callback)
    call.start()

    asks_time = call.press("2")
    assert asks_time.gather is not None
    goodbye = call.say("明天晚上八点以后")
    call.end("completed")

    assert goodbye.hangs_up
    row = _callback(db, callback)
    # Called again at the worker's next window; agents see the time they asked for.
    assert row.status == "scheduled"
    assert row.due_at is not None
    assert vault.decrypt(row.reschedule_ciphertext) == "明天晚上八点以后"
    answers = _answers(db, callback)
    assert answers["safe_to_talk"] == ("no", "dtmf")
    assert answers["punished"][0] == "not_asked"


def test_call_ended_midway_records_did_not_answer(phone, db, callback):
    call = Call(phone, outbound=True, callback_id=callback)
    call.start()
    call.press("1")
    call.press("3")
    call.end("completed")

    answers = _answers(db, callback)
    assert answers["asked_about_audit"] == ("not_sure", "dtmf")
    assert answers["punished"] == ("no_answer", None)
    assert answers["unsafe_problem"] == ("no_answer", None)


def test_callback_for_another_worker_hangs_up(phone, us_phone, db, callback):
    call = Call(us_phone, outbound=True, callback_id=callback)
    first = call.start()

    assert first.hangs_up
    assert first.gather is None
    assert _callback(db, callback).status == "scheduled"


def test_recording_of_spoken_account_is_stored_with_case(phone, db, vault, settings, stack, twilio):
    from dataclasses import replace

    from bot import create_app
    from bot.simulator.signing import sign

    _set_language(db, phone, "en")
    app = create_app(replace(settings, voice_recording=True))
    call = Call(phone)

    def post(url, **extra):
        params = call._params(CallStatus="in-progress", **extra)
        path = url[len(settings.public_base_url):]
        with app.test_client() as client:
            response = client.post(path, data=params, headers={SIGNATURE_HEADER: sign("test-auth-token-0123456789abcdef", url, params)})
        call.last = parse_twiml(response.get_data(as_text=True))
        return call.last

    post(call.voice_url)
    asks_account = post(call.last.gather.get("action"), Digits="1")
    assert "what happened" in asks_account.text.lower()
    (recording,) = [r for r in twilio.recordings if r.call_sid == call.call_sid]
    assert recording.status_callback == settings.public_base_url + "/twilio/voice/recording"

    for words in ("my team leader touches the women workers", "Sunrise Garments", "two months"):
        post(call.last.gather.get("action"), SpeechResult=words, Confidence="0.9")
    for digit in ("1", "1", "2"):
        post(call.last.gather.get("action"), Digits=digit)
    twilio.finish_recordings()
    app.extensions["hotline"].close()

    (case,) = cases_of(db, phone)
    assert vault.decrypt(case.recording_url_ciphertext).endswith(recording.sid)
    assert case.category == "harassment_abuse"


def test_calls_leave_no_phone_numbers(phone, db, callback, redis_client, stack):
    from tests.helpers import assert_no_phone_numbers

    call = Call(phone, outbound=True, callback_id=callback)
    call.start()
    call.press("1")
    call.say("yes")
    call.end("completed")

    assert_no_phone_numbers([phone.number], redis_client, stack.log_dir)


def test_hang_up_mid_report_keeps_critical_report(phone, db):
    _set_language(db, phone, "en")
    call = Call(phone)
    call.start()
    call.say("they took our passports and we cannot leave the factory")
    call.end("completed")

    (case,) = cases_of(db, phone)
    assert case.category == "forced_labour"
    (escalation,) = escalations_of(db, phone)
    assert escalation.severity == "critical"


def test_finished_callback_is_not_asked_again(phone, db, callback):
    first = Call(phone, outbound=True, callback_id=callback)
    first.start()
    for digit in ("1", "2", "2", "2"):
        first.press(digit)
    first.end("completed")

    again = Call(phone, outbound=True, callback_id=callback).start()

    assert again.hangs_up
    assert again.gather is None
    assert _callback(db, callback).status == "completed"
