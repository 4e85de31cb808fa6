"""Error handling of the gateway, in one place.

Twilio gets a safe TwiML reply for a webhook that failed after the message
was stored; anything else gets a JSON error with a status.
"""

import logging

from flask import Flask, current_app, g, request
from twilio.twiml.messaging_response import MessagingResponse
from werkzeug.exceptions import HTTPException

from bot.channels.twiml import twiml
from bot.errors import TwilioRequestError
from bot.language.catalogue import render
from bot.voice.twiml import goodbye

logger = logging.getLogger(__name__)


# Voice routes whose answer Twilio speaks to the caller.
VOICE_STEPS = frozenset({"voice.incoming", "voice.gather", "voice.language", "voice.silence"})


def register(app: Flask) -> None:
    app.register_error_handler(TwilioRequestError, _bad_twilio_request)
    app.register_error_handler(HTTPException, _http_error)
    app.register_error_handler(Exception, _unexpected_error)


def _bad_twilio_request(error: TwilioRequestError):
    logger.warning("Webhook %s %s: %s", request.method, request.path, error)
    return {"error": str(error)}, 400


def _http_error(error: HTTPException):
    return {"error": error.description}, error.code


def _unexpected_error(error: Exception):
    logger.exception("Webhook %s %s failed", request.method, request.path)
    if request.path == "/twilio/sms" and g.get("inbound_stored"):
        # The message is stored, so the worker hears that a person will
        # follow up. Before it is stored, a 500 makes Twilio retry it or
        # hand it to the fallback URL.
        settings = current_app.config["HOTLINE"]
        response = MessagingResponse()
        response.message(render("utter_service_unavailable", settings.default_language).sms)
        return twiml(response)
    if request.path.startswith("/twilio/voice") and request.endpoint in VOICE_STEPS:
        # A caller hears a calm sentence and a person follows up, never silence.
        settings = current_app.config["HOTLINE"]
        prompt = render("utter_service_unavailable", settings.default_language, channel="voice")
        return twiml(goodbye([{"text": prompt.text, "language": prompt.language}], lambda *_: ""))
    return {"error": "internal error"}, 500
