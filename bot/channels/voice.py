"""Twilio's Voice webhooks: ``POST /twilio/voice`` and the routes under it."""

import logging

from flask import Blueprint, abort, current_app, request, send_from_directory, url_for

from bot.channels.twiml import TWIML_MIMETYPE
from bot.errors import TwilioRequestError
from bot.language.catalogue import AUDIO_DIR, supported_languages
from bot.telephony.signature import twilio_request
from bot.voice.turns import Links, VoiceFlow, VoiceRequest, parse_step, speech_confidence

logger = logging.getLogger(__name__)

blueprint = Blueprint("voice", __name__, url_prefix="/twilio/voice")


def _absolute(endpoint: str, **values) -> str:
    settings = current_app.config["HOTLINE"]
    return settings.public_base_url.rstrip("/") + url_for(endpoint, **values)


def _flow() -> VoiceFlow:
    links = Links(
        gather=lambda step: _absolute("voice.gather", step=step),
        silence=lambda step: _absolute("voice.silence", step=step),
        language=lambda step: _absolute("voice.language", step=step),
        audio=lambda language, name: _absolute("voice.audio", language=language, name=name),
        recording=lambda: _absolute("voice.recording"),
    )
    return VoiceFlow(current_app.extensions["hotline"], links)


def _voice_request() -> VoiceRequest:
    call_sid = request.form.get("CallSid")
    if not call_sid:
        raise TwilioRequestError("CallSid")
    callback = request.args.get("callback")
    attempt = request.args.get("attempt")
    return VoiceRequest(
        call_sid=call_sid,
        from_number=request.form.get("From", ""),
        to_number=request.form.get("To", ""),
        direction=request.form.get("Direction", "inbound"),
        call_status=request.form.get("CallStatus", ""),
        step=parse_step(request.args.get("step")),
        digits=request.form.get("Digits"),
        speech=request.form.get("SpeechResult"),
        confidence=speech_confidence(request.form.get("Confidence")),
        callback_id=int(callback) if callback and callback.isdigit() else None,
        attempt=int(attempt) if attempt and attempt.isdigit() else None,
        answered_by=request.form.get("AnsweredBy"),
        error_code=request.form.get("ErrorCode"),
        recording_url=request.form.get("RecordingUrl"),
    )


def _twiml(document: str):
    return current_app.response_class(document, mimetype=TWIML_MIMETYPE)


@blueprint.post("")
@twilio_request
def incoming():
    return _twiml(_flow().start(_voice_request()))


@blueprint.post("/gather")
@twilio_request
def gather():
    return _twiml(_flow().gather(_voice_request()))


@blueprint.post("/language")
@twilio_request
def language():
    return _twiml(_flow().choose_language(_voice_request()))


@blueprint.post("/silence")
@twilio_request
def silence():
    return _twiml(_flow().silence(_voice_request()))


@blueprint.post("/status")
@twilio_request
def status():
    _flow().status(_voice_request())
    return "", 204


@blueprint.post("/recording")
@twilio_request
def recording():
    _flow().recording(_voice_request())
    return "", 204


@blueprint.post("/bridge")
@twilio_request
def bridge():
    """Connect an agent who answered a masked call to the escalation's worker."""
    from bot.console.calls import bridge_twiml

    escalation = request.args.get("escalation", type=int)
    if escalation is None:
        return {"error": "expected an escalation query parameter"}, 400
    services = current_app.extensions["hotline"]
    with services.db.session() as session:
        return _twiml(bridge_twiml(session, services, escalation))


@blueprint.get("/audio/<language>/<path:name>")
def audio(language: str, name: str):
    """Serve a recorded prompt; Twilio fetches it for <Play>."""
    if language not in supported_languages():
        abort(404)
    return send_from_directory(AUDIO_DIR / language, name)
