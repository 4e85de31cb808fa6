"""The SMS webhook's guarantees: stored first, once, safely, and privately."""

import xml.etree.ElementTree as ElementTree
from dataclasses import replace

import pytest
from sqlalchemy import select

from bot import create_app
from bot.db.models import Escalation, Message
from bot.simulator.signing import sign, sms_params
from bot.stack import free_port
from bot.telephony.signature import SIGNATURE_HEADER
from tests.helpers import (
    HOTLINE_NUMBER,
    assert_no_phone_numbers,
    TEST_ACCOUNT_SID,
    TEST_AUTH_TOKEN,
    escalations_of,
    messages_of,
    report_status,
    worker_of,
)


def _texts(response):
    return [m.text for m in ElementTree.fromstring(response.text).iter("Message")]


def test_duplicate_message_sid_processed_once(phone, db):
    first = phone.post("hello", message_sid="SM" + "a" * 31 + "1")
    second = phone.post("hello", message_sid="SM" + "a" * 31 + "1")

    assert len(_texts(first)) == 1
    assert _texts(second) == []
    assert len(messages_of(db, phone, "inbound")) == 1
    assert len(messages_of(db, phone, "outbound")) == 1


def test_inbound_and_outbound_bodies_are_encrypted_at_rest(phone, db, vault):
    phone.text("hello")
    (inbound,) = messages_of(db, phone, "inbound")

    assert b"hello" not in inbound.body_ciphertext
    assert vault.decrypt(inbound.body_ciphertext) == "hello"
    assert phone.number.encode() not in worker_of(db, phone).phone_ciphertext
    assert vault.decrypt(worker_of(db, phone).phone_ciphertext) == phone.number


def test_missing_message_sid_returns_400_and_stores_nothing(phone, db):
    from bot.simulator.signing import post_signed

    params = {"From": phone.number, "Body": "hello", "AccountSid": TEST_ACCOUNT_SID}
    response = post_signed(TEST_AUTH_TOKEN, phone.sms_url, params)

    assert response.status_code == 400
    assert "MessageSid" in response.json()["error"]
    assert messages_of(db, phone) == []


def test_empty_body_gets_a_reply(phone, db):
    replies = phone.text("")
    assert replies
    assert len(messages_of(db, phone, "inbound")) == 1


@pytest.fixture
def gateway_without_rasa(settings, stack):
    dead_rasa = f"http://127.0.0.1:{free_port()}"
    app = create_app(replace(settings, rasa_url=dead_rasa, rasa_timeout_seconds=2.0))
    app.testing = True
    yield app
    app.extensions["hotline"].close()


def test_rasa_down_still_replies_stores_and_escalates(gateway_without_rasa, phone, db):
    params = sms_params(TEST_ACCOUNT_SID, phone.number, HOTLINE_NUMBER, "my boss hit me today")
    signature = sign(TEST_AUTH_TOKEN, phone.sms_url, params)

    with gateway_without_rasa.test_client() as client:
        response = client.post("/twilio/sms", data=params, headers={SIGNATURE_HEADER: signature})

    assert response.status_code == 200
    (reply,) = [m.text for m in ElementTree.fromstring(response.data).iter("Message")]
    assert "call you back" in reply
    (inbound,) = messages_of(db, phone, "inbound")
    assert inbound.status == "processed"
    (escalation,) = escalations_of(db, phone)
    assert escalation.reason == "dialogue_unavailable"


def test_rasa_down_twice_queues_one_escalation(gateway_without_rasa, phone, db):
    with gateway_without_rasa.test_client() as client:
        for body in ("hello", "anyone there?"):
            params = sms_params(TEST_ACCOUNT_SID, phone.number, HOTLINE_NUMBER, body)
            client.post("/twilio/sms", data=params, headers={SIGNATURE_HEADER: sign(TEST_AUTH_TOKEN, phone.sms_url, params)})

    assert len(messages_of(db, phone, "inbound")) == 2
    assert len(escalations_of(db, phone)) == 1


def test_local_stop_keyword_opts_out_and_silences(phone, db):
    phone.text("你好")
    confirmation = phone.text("退订")

    assert "START" in confirmation[0]
    assert worker_of(db, phone).opted_out
    assert phone.text("你好") == []
    assert len(messages_of(db, phone, "inbound")) == 3

    assert "1" in phone.text("START")[0]
    assert not worker_of(db, phone).opted_out


def test_twilio_stop_keyword_is_stored_without_our_reply(phone, db):
    phone.text("hello")
    response = phone.post("STOP", OptOutType="STOP")

    assert _texts(response) == []
    assert worker_of(db, phone).opted_out


def test_vietnamese_help_keyword_answers_in_vietnamese(phone):
    phone.text("xin chào")
    (reply,) = phone.text("giúp")
    assert "STOP" in reply
    assert "bảo mật" in reply


def test_menu_stop_option_opts_out(phone, db):
    phone.text("hello")
    phone.text("4")
    assert worker_of(db, phone).opted_out


def test_long_reply_parts_in_order(phone, db):
    phone.text("xưởng có nhiều trẻ em 13 14 tuổi làm việc")
    for answer in ("Xưởng may Hoa Sen", "từ năm ngoái", "1", "1", "2"):
        replies = phone.text(answer)

    assert len(replies) >= 2
    assert "Mã số" in replies[0]
    outbound = messages_of(db, phone, "outbound")[-len(replies):]
    assert [m.part_index for m in outbound] == list(range(len(replies)))
    assert all(m.segments <= 2 for m in outbound)
    assert outbound[1].provider_sid.startswith("SM")


def test_late_status_callback_does_not_overwrite_final_status(phone, db, settings):
    phone.text("hello")
    (outbound,) = messages_of(db, phone, "outbound")
    url = f"{settings.public_base_url}/twilio/status?message={outbound.id}"

    report_status(url, "undelivered", ErrorCode="30003")
    report_status(url, "sent")

    (outbound,) = messages_of(db, phone, "outbound")
    assert outbound.status == "undelivered"
    assert outbound.error_code == "30003"


def test_unsubscribed_error_in_status_callback_opts_worker_out(phone, db, settings):
    phone.text("hello")
    (outbound,) = messages_of(db, phone, "outbound")
    report_status(f"{settings.public_base_url}/twilio/status?message={outbound.id}", "failed", ErrorCode="21610")

    assert worker_of(db, phone).opted_out


def test_nlg_endpoint_rejects_wrong_token(settings, stack):
    import requests

    response = requests.post(
        f"{settings.public_base_url}/rasa/nlg", json={"response": "utter_greet"},
        headers={"Authorization": "Bearer wrong"}, timeout=10,
    )
    assert response.status_code == 403
    assert requests.post(
        f"{settings.public_base_url}/rasa/nlg?token={settings.nlg_token}", json={"response": "utter_greet"}, timeout=10
    ).status_code == 403


def test_no_phone_number_in_trackers_logs_or_escalations(phone, us_phone, db, redis_client, stack, settings):
    phone.text("there are children working at night in our factory")
    for answer in ("VN0421", "since march", "1", "1", "1", "after 9pm"):
        phone.text(answer)
    us_phone.text("hello")
    us_phone.text("i need to talk to someone")
    us_phone.text("tomorrow morning")
    assert_no_phone_numbers([phone.number, us_phone.number], redis_client, stack.log_dir)

    with db.session() as session:
        rows = session.execute(select(Escalation)).scalars().all()
        assert rows
        for row in rows:
            assert row.callback_time_ciphertext is None or b"+" not in row.callback_time_ciphertext
    from bot.stack import rasa_key_prefix

    tracker = redis_client.get(f"{rasa_key_prefix(settings.redis_prefix)}:tracker:{phone.pseudonym}")
    assert tracker is not None
    assert "children" not in tracker
    assert redis_client.ttl(f"{rasa_key_prefix(settings.redis_prefix)}:tracker:{phone.pseudonym}") > 0


def test_second_opt_out_sends_nothing(phone, db):
    phone.text("你好")
    assert phone.text("退订")
    assert phone.text("退订") == []


def test_status_out_of_range_id_400(settings, stack):
    response = report_status(f"{settings.public_base_url}/twilio/status?message={10**22}", "delivered")
    assert response.status_code == 400


def test_gateway_access_log_has_no_tokens(phone, stack, settings):
    phone.text("hello")
    log = (stack.log_dir / "gateway.log").read_text()
    assert "/rasa/nlg" in log
    assert settings.nlg_token not in log


def test_escalation_queue_is_restored_after_redis_loses_it(phone, db, settings, redis_client):
    phone.text("i want to talk to a real person")
    phone.text("sunday afternoon")
    (escalation,) = escalations_of(db, phone)
    queue_key = f"{settings.redis_prefix}:escalations:queue"
    redis_client.zrem(queue_key, str(escalation.id))

    app = create_app(settings)
    app.extensions["hotline"].close()

    assert redis_client.zscore(queue_key, str(escalation.id)) is not None
