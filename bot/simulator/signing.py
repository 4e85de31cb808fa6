"""Signed Twilio-format webhooks, as Twilio would send them."""

import secrets
from typing import Dict, Mapping, Optional

import requests
from twilio.request_validator import RequestValidator

from bot.telephony.signature import SIGNATURE_HEADER


def new_sid(prefix: str) -> str:
    """Return a random SID of Twilio's shape: two letters and 32 hex digits."""
    return prefix + secrets.token_hex(16)


def sign(auth_token: str, url: str, params: Mapping[str, str]) -> str:
    return RequestValidator(auth_token).compute_signature(url, dict(params))


def post_signed(
    auth_token: str,
    public_url: str,
    params: Mapping[str, str],
    target_url: Optional[str] = None,
    timeout: float = 30.0,
) -> requests.Response:
    """POST form ``params`` signed for ``public_url``, to ``target_url`` or that URL.

    ``target_url`` is where the gateway listens when it differs from the
    public URL Twilio would have used, as behind a proxy.
    """
    headers = {SIGNATURE_HEADER: sign(auth_token, public_url, params)}
    return requests.post(target_url or public_url, data=dict(params), headers=headers, timeout=timeout)


def sms_params(account_sid: str, from_number: str, to_number: str, body: str, message_sid: Optional[str] = None) -> Dict[str, str]:
    """Return the form of an inbound SMS webhook, with Twilio's usual fields."""
    sid = message_sid or new_sid("SM")
    return {
        "ToCountry": "US",
        "SmsMessageSid": sid,
        "NumMedia": "0",
        "SmsSid": sid,
        "SmsStatus": "received",
        "Body": body,
        "To": to_number,
        "NumSegments": "1",
        "MessageSid": sid,
        "AccountSid": account_sid,
        "From": from_number,
        "ApiVersion": "2010-04-01",
    }
