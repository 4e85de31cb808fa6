"""Twilio's REST API through twilio-python, at a configurable base URL.

The base URL is https://api.twilio.com in production; tests point it at a
server on loopback that plays Twilio's side.
"""

import logging
from typing import Optional

import requests
from twilio.base.exceptions import TwilioRestException
from twilio.http.http_client import TwilioHttpClient
from twilio.rest import Client

logger = logging.getLogger(__name__)

TWILIO_API_ORIGIN = "https://api.twilio.com"
# Twilio error 21610: the recipient has replied STOP to this sender.
ERROR_UNSUBSCRIBED_RECIPIENT = 21610
# Our error code when Twilio's API could not be reached at all.
CONNECTION_ERROR = "connection"


class RebasedHttpClient(TwilioHttpClient):
    """Sends every request meant for api.twilio.com to another base URL."""

    def __init__(self, base_url: str, timeout: float = 10.0):
        super().__init__(timeout=timeout)
        self.base_url = base_url.rstrip("/")

    def request(self, method, url, *args, **kwargs):
        if url.startswith(TWILIO_API_ORIGIN):
            url = self.base_url + url[len(TWILIO_API_ORIGIN):]
        return super().request(method, url, *args, **kwargs)


def make_client(account_sid: str, auth_token: str, base_url: str) -> Client:
    http_client = None
    if base_url.rstrip("/") != TWILIO_API_ORIGIN:
        http_client = RebasedHttpClient(base_url)
    return Client(account_sid, auth_token, http_client=http_client)


class SmsSender:
    """Sends one SMS and reports Twilio's message SID or error code."""

    def __init__(self, client: Client, from_number: str):
        self._client = client
        self._from = from_number

    def send(self, to: str, body: str, status_callback: Optional[str] = None):
        """Send ``body`` to ``to``; return ``(sid, error_code)``, one of them None."""
        try:
            message = self._client.messages.create(
                to=to, from_=self._from, body=body, status_callback=status_callback
            )
        except TwilioRestException as error:
            logger.warning("Twilio REST: message create failed with error %s", error.code)
            return None, str(error.code or error.status)
        except requests.RequestException as error:
            logger.error("Twilio REST: message create failed, API unreachable (%s)", type(error).__name__)
            return None, CONNECTION_ERROR
        return message.sid, None
