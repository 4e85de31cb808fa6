"""Whole SMS conversations against the running hotline, in each language."""

import pytest
from sqlalchemy import select

from bot.cases import format_reference, is_valid_reference
from bot.db.models import Factory
from tests.helpers import cases_of, escalations_of, worker_of


@pytest.fixture(scope="module")
def factory(db):
    with db.session() as session:
        found = session.execute(select(Factory).where(Factory.code == "VN0421")).scalar_one_or_none()
        if found is None:
            found = Factory(code="VN0421", name="Sunrise Garments", country="VN")
            session.add(found)
            session.flush()
        return found.id


def test_grievance_in_english_ends_in_stored_case(phone, db, vault, factory):
    greeting = phone.text("hello")
    assert "confidential" in greeting[0].lower()
    assert "independent" in greeting[0].lower()

    asks_factory = phone.text("my supervisor makes us work 14 hours every day and we get no day off")
    assert "factory" in asks_factory[-1].lower()
    assert "since when" in phone.text("VN0421")[-1].lower()
    assert "still happening" in phone.text("since last year")[-1].lower()
    assert "other workers" in phone.text("1")[-1].lower()
    assert "call you back" in phone.text("1")[-1].lower()
    closing = " ".join(phone.text("2"))

    (case,) = cases_of(db, phone)
    assert case.category == "working_hours"
    assert case.severity == "normal"
    assert is_valid_reference(case.reference_code)
    assert format_reference(case.reference_code) in closing
    assert "we will not call you" in closing.lower()
    assert case.factory_id == factory
    assert case.language == "en"
    assert case.still_happening == "yes"
    assert case.others_affected == "yes"
    assert case.callback_safe == "no"
    assert "14 hours" in vault.decrypt(case.description_ciphertext)
    assert escalations_of(db, phone) == []


def test_grievance_in_chinese_is_critical_and_escalated(phone, db, vault, redis_client, settings):
    greeting = phone.text("你好")
    assert "保密" in greeting[0]

    assert "工厂" in phone.text("我们厂里有好多童工，才十三四岁就在车间干活")[-1]
    phone.text("阳光制衣厂")
    phone.text("去年开始的")
    phone.text("1")
    phone.text("1")
    assert "时间" in phone.text("1")[-1]
    closing = "".join(phone.text("晚上八点以后"))

    (case,) = cases_of(db, phone)
    assert case.category == "child_labour"
    assert case.severity == "critical"
    assert case.language == "zh"
    assert format_reference(case.reference_code) in closing
    assert vault.decrypt(case.factory_reported_ciphertext) == "阳光制衣厂"
    assert vault.decrypt(case.callback_time_ciphertext) == "晚上八点以后"

    (escalation,) = escalations_of(db, phone)
    assert escalation.reason == "critical_grievance"
    assert escalation.severity == "critical"
    assert escalation.case_id == case.id
    queued = redis_client.hgetall(f"{settings.redis_prefix}:escalations:record:{escalation.id}")
    assert queued["case"] == case.reference_code
    assert queued["severity"] == "critical"
    assert redis_client.zscore(f"{settings.redis_prefix}:escalations:queue", str(escalation.id)) is not None


def test_grievance_in_vietnamese_without_diacritics(phone, db, vault):
    greeting = phone.text("xin chào")
    assert "bảo mật" in greeting[0]

    phone.text("cong ty no luong 2 thang roi, ko tra tien tang ca")
    phone.text("Nha may Hoa Binh")
    phone.text("tu thang 3")
    phone.text("1")
    phone.text("2")
    closing = " ".join(phone.text("2"))

    (case,) = cases_of(db, phone)
    assert case.category == "wages"
    assert case.severity == "normal"
    assert case.language == "vi"
    assert format_reference(case.reference_code) in closing
    assert case.others_affected == "no"
    assert case.factory_id is None
    assert vault.decrypt(case.factory_reported_ciphertext) == "Nha may Hoa Binh"


def test_menu_digit_starts_intake(phone, db):
    phone.text("hi")
    assert "what happened" in phone.text("1")[-1].lower()
    assert "factory" in phone.text("the manager kept my passport and i cannot leave the job")[-1].lower()
    phone.text("not sure")
    phone.text("two weeks")
    phone.text("3")
    phone.text("3")
    phone.text("2")

    (case,) = cases_of(db, phone)
    assert case.category == "forced_labour"
    assert case.severity == "critical"
    assert case.still_happening == "not_sure"
    assert escalations_of(db, phone)[0].reason == "critical_grievance"


def test_unclear_answer_recorded_unknown(phone, db, factory):
    phone.text("my boss did not pay my salary this month")
    phone.text("VN0421")
    phone.text("last week")
    assert "1 for yes" in phone.text("purple elephant")[-1]
    assert "other workers" in phone.text("banana banana")[-1].lower()
    phone.text("2")
    phone.text("2")

    (case,) = cases_of(db, phone)
    assert case.still_happening == "unknown"


def test_reference_code_gives_status_only_to_its_worker(phone, us_phone, db, factory):
    phone.text("the dormitory has no clean water and 20 people in one room")
    for answer in ("VN0421", "a month", "1", "1", "2"):
        phone.text(answer)
    (case,) = cases_of(db, phone)
    code = format_reference(case.reference_code)

    status = " ".join(phone.text(f"what is the status of {code}"))
    assert code in status
    assert "received" in status.lower()

    us_phone.text("hello")
    other = " ".join(us_phone.text(f"status of report {code}"))
    assert code not in other
    assert "found no report" in other.lower()


def test_child_labour_report_escalates(phone, db, factory):
    phone.text("there are children under 15 working in our factory")
    for answer in ("VN0421", "since january", "1", "1", "2"):
        phone.text(answer)

    (case,) = cases_of(db, phone)
    assert case.category == "child_labour"
    (escalation,) = escalations_of(db, phone)
    assert escalation.severity == "critical"


def test_request_for_person_escalates_with_safe_time(phone, db, vault):
    phone.text("hello")
    assert "safe time" in phone.text("i want to talk to a real person")[-1].lower()
    reply = " ".join(phone.text("saturday morning"))
    assert "saturday morning" in reply

    (escalation,) = escalations_of(db, phone)
    assert escalation.reason == "human_requested"
    assert escalation.severity == "normal"
    assert vault.decrypt(escalation.callback_time_ciphertext) == "saturday morning"


def test_three_misunderstood_turns_escalate(phone, db, settings):
    phone.text("hello")
    replies = [" ".join(phone.text(nonsense)) for nonsense in ("qwxz vbnm", "zzkq plmo", "xkcd qqqq")]

    assert "did not understand" in replies[0].lower()
    assert "did not understand" in replies[1].lower()
    assert "call you back" in replies[2].lower()
    (escalation,) = escalations_of(db, phone)
    assert escalation.reason == "misunderstood"


def test_unsafe_now_ends_at_once_with_neutral_message(phone, db):
    phone.text("my manager does not pay overtime")
    reply = phone.text("someone is watching me")

    assert len(reply) == 1
    assert "hotline" not in reply[0].lower()
    assert len(reply[0]) < 40
    assert "confidential" in phone.text("hi")[0].lower()


def test_language_switch_by_name(phone, db):
    phone.text("hello")
    switched = phone.text("tieng viet")

    assert "tiếng Việt" in switched[0]
    assert "bảo mật" in switched[-1]
    assert worker_of(db, phone).language == "vi"


def test_language_of_first_message_is_kept(phone, db):
    assert "工厂" in phone.text("老板两个月没发工资了")[-1]
    assert "什么时候" in phone.text("ok ok")[-1]
    assert worker_of(db, phone).language == "zh"


def test_vietnamese_yes_is_not_stop(phone, db):
    phone.text("công ty nợ lương hai tháng rồi")
    phone.text("Xưởng may Hoa Sen")
    phone.text("từ tháng ba")
    reply = phone.text("Đúng")

    assert not worker_of(db, phone).opted_out
    assert "ảnh hưởng" in reply[-1]


def test_generic_opening_still_asks_what_happened(phone):
    assert "what happened" in phone.text("Hi, I want to report a problem")[-1].lower()


def test_leaving_mid_report_keeps_critical_report(phone, db):
    phone.text("hi")
    phone.text("1")
    phone.text("They lock the dormitory doors at night and keep our passports")
    goodbye = phone.text("someone is watching")

    assert len(goodbye) == 1
    (case,) = cases_of(db, phone)
    assert case.category == "forced_labour"
    (escalation,) = escalations_of(db, phone)
    assert escalation.severity == "critical"


def test_stop_mid_report_keeps_report(phone, db):
    phone.text("the boss hits workers who are slow")
    assert phone.text("cancel") == []
    (case,) = cases_of(db, phone)
    assert case.severity == "critical"

    phone.text("START")
    assert "what happened" in phone.text("1")[-1].lower()


def test_language_name_as_answer_does_not_switch(phone, db, vault):
    phone.text("my boss did not pay my salary this month")
    phone.text("Sunrise Garments")
    phone.text("English")

    assert worker_of(db, phone).language == "en"
    for answer in ("2", "2", "2"):
        phone.text(answer)
    (case,) = cases_of(db, phone)
    assert vault.decrypt(case.since_when_ciphertext) == "English"


def test_full_width_digit_chooses_menu_option(phone):
    phone.text("你好")
    assert "发生" in phone.text("１")[-1]


@pytest.mark.parametrize("body", ["", "   ", "🙂🙂"])
def test_empty_or_emoji_first_message_gets_greeting(phone, body):
    assert "confidential" in phone.text(body)[0].lower()


def test_vietnamese_violence_with_wages_is_critical(phone, db):
    phone.text("Quản đốc đánh công nhân và hai tháng không trả lương")
    for answer in ("Xưởng may Hoa Sen", "từ tháng ba", "1", "1", "2"):
        phone.text(answer)

    (case,) = cases_of(db, phone)
    assert case.severity == "critical"


def test_digit_not_on_menu_is_misunderstood(phone):
    phone.text("hello")
    assert "did not understand" in phone.text("9")[-1].lower()
