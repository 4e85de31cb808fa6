"""Rasa's NLG endpoint: ``POST /rasa/nlg`` renders a response in the worker's language.

Rasa posts the response name, its arguments and the tracker; the language and
channel come from the metadata the gateway attached to the latest user turn.
"""

import logging

from flask import Blueprint, current_app, request

from bot.channels.bearer import has_bearer_token
from bot.language.catalogue import CHANNELS, has_prompt, render, supported_languages

logger = logging.getLogger(__name__)

blueprint = Blueprint("nlg", __name__, url_prefix="/rasa")


@blueprint.post("/nlg")
def generate():
    settings = current_app.config["HOTLINE"]
    if not has_bearer_token(settings.nlg_token):
        logger.warning("NLG: request with an invalid token rejected")
        return {"error": "invalid or missing token"}, 403

    body = request.get_json(silent=True) or {}
    name = body.get("response")
    if not name or not has_prompt(name):
        logger.error("NLG: no prompt named %r in the catalogue", name)
        return {"error": f"no prompt named {name!r}; add it to flows/prompts/"}, 404

    tracker = body.get("tracker") or {}
    metadata = (tracker.get("latest_message") or {}).get("metadata") or {}
    language = metadata.get("language")
    if language not in supported_languages():
        language = settings.default_language

    channel = metadata.get("channel")
    if channel not in CHANNELS:
        channel = "sms"

    values = dict(tracker.get("slots") or {})
    values.update(body.get("arguments") or {})
    prompt = render(name, language, values, channel)
    return {
        "text": prompt.text,
        "custom": {
            "prompt": prompt.name,
            "language": prompt.language,
            "keypad": dict(prompt.keypad),
            "audio": prompt.audio,
            "ends_call": prompt.ends_call,
        },
    }
