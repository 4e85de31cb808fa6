"""Twilio request signatures: the published vectors, and the gateway's 403."""

import hashlib
import json
from urllib.parse import urlsplit

import pytest
from flask import Flask
from twilio.request_validator import RequestValidator

from bot.telephony.signature import SIGNATURE_HEADER, is_valid_request, public_url
from tests.helpers import TEST_ACCOUNT_SID, messages_of, rasa_tracker

VECTOR_TOKEN = "12345"
VECTOR_URL = "https://mycompany.com/myapp.php?foo=1&bar=2"
VECTOR_PARAMS = {
    "CallSid": "CA1234567890ABCDE",
    "Caller": "+14158675309",
    "Digits": "1234",
    "From": "+14158675309",
    "To": "+18005551212",
}
VECTOR_JSON_BODY = '{"property": "value", "boolean": true}'
VECTOR_BODY_HASH = "0a1ff7634d9ab3b95db5c9a2dfe9416e41502b283a80c7cf19632632f96e6620"


def _check(url, form=None, signature="", body=None, content_type=None):
    app = Flask(__name__)
    kwargs = {"method": "POST", "base_url": "http://localhost"}
    if body is not None:
        kwargs.update(data=body, content_type=content_type)
    else:
        kwargs.update(data=form)
    parts = urlsplit(url)
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    with app.test_request_context(path, **kwargs):
        return is_valid_request(VECTOR_TOKEN, url, signature)


@pytest.mark.parametrize(
    "url, signature",
    [
        (VECTOR_URL, "RSOYDt4T1cUTdK1PDd93/VVr8B8="),
        ("https://mycompany.com:443/myapp.php?foo=1&bar=2", "kvajT1Ptam85bY51eRf/AJRuM3w="),
        ("http://mycompany.com:80/myapp.php?foo=1&bar=2", "0ZXoZLH/DfblKGATFgpif+LLRf4="),
        ("http://mycompany.com:1234/myapp.php?foo=1&bar=2", "Zmvh+3yNM1Phv2jhDCwEM3q5ebU="),
    ],
)
def test_published_form_vectors_validate(url, signature):
    assert _check(url, VECTOR_PARAMS, signature)


def test_published_vector_with_repeated_parameters_validates():
    form = [("Sid", "CA123"), ("SidAccount", "AC123"), ("Digits", "5678"), ("Digits", "1234"), ("Digits", "1234")]
    from werkzeug.datastructures import MultiDict

    assert _check(VECTOR_URL, MultiDict(form), "IK+Dwps556ElfBT0I3Rgjkr1wJU=")


def test_published_json_vector_validates_body_hash():
    assert hashlib.sha256(VECTOR_JSON_BODY.encode()).hexdigest() == VECTOR_BODY_HASH
    url = f"{VECTOR_URL}&bodySHA256={VECTOR_BODY_HASH}"
    assert _check(url, signature="a9nBmqA0ju/hNViExpshrM61xv4=", body=VECTOR_JSON_BODY, content_type="application/json")


def test_json_body_changed_after_signing_is_rejected():
    url = f"{VECTOR_URL}&bodySHA256={VECTOR_BODY_HASH}"
    tampered = VECTOR_JSON_BODY.replace("value", "other")
    assert not _check(url, signature="a9nBmqA0ju/hNViExpshrM61xv4=", body=tampered, content_type="application/json")


def test_json_body_without_body_hash_is_rejected():
    signature = RequestValidator(VECTOR_TOKEN).compute_signature(VECTOR_URL, {})
    assert not _check(VECTOR_URL, signature=signature, body=VECTOR_JSON_BODY, content_type="application/json")


def test_parameter_added_after_signing_is_rejected():
    form = dict(VECTOR_PARAMS, Body="injected")
    assert not _check(VECTOR_URL, form, "RSOYDt4T1cUTdK1PDd93/VVr8B8=")


def test_public_url_rebuilt_behind_proxy_keeps_prefix_and_query():
    assert public_url("https://hotline.example.org/line/", "/twilio/sms?x=%20y") == (
        "https://hotline.example.org/line/twilio/sms?x=%20y"
    )


@pytest.mark.parametrize("signature", [None, "", "bm90IGEgc2lnbmF0dXJl", "RSOYDt4T1cUTdK1PDd93/VVr8B8="])
def test_sms_webhook_with_forged_signature_returns_403(phone, db, settings, signature):
    import requests

    headers = {} if signature is None else {SIGNATURE_HEADER: signature}
    form = {"MessageSid": "SM" + "f" * 32, "From": phone.number, "Body": "hello", "AccountSid": TEST_ACCOUNT_SID}
    response = requests.post(phone.sms_url, data=form, headers=headers, timeout=10)

    assert response.status_code == 403
    assert messages_of(db, phone) == []
    events = rasa_tracker(settings, phone.pseudonym)["events"]
    assert [event for event in events if event["event"] == "user"] == []


def test_sms_webhook_signed_for_another_url_returns_403(phone, db, settings):
    from bot.simulator.signing import post_signed, sms_params

    params = sms_params(TEST_ACCOUNT_SID, phone.number, "+15005550006", "hello")
    response = post_signed(
        "test-auth-token-0123456789abcdef", "https://elsewhere.example/twilio/sms", params, target_url=phone.sms_url
    )

    assert response.status_code == 403
    assert messages_of(db, phone) == []


def test_status_webhook_with_forged_signature_returns_403(settings, stack):
    import requests

    response = requests.post(
        settings.public_base_url + "/twilio/status?message=1",
        data={"MessageStatus": "delivered", "MessageSid": "SM" + "0" * 32},
        headers={SIGNATURE_HEADER: "forged"},
        timeout=10,
    )
    assert response.status_code == 403
    assert json.loads(response.text)["error"]
