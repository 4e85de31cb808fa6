"""Twilio's Messaging webhook: ``POST /twilio/sms``."""

import logging

from flask import Blueprint, current_app, g, request, url_for
from twilio.twiml.messaging_response import MessagingResponse

from bot.channels.twiml import twiml
from bot.conversation import InboundSms, receive_sms
from bot.errors import TwilioRequestError
from bot.outbox import queue_remaining_parts
from bot.telephony.signature import twilio_request

logger = logging.getLogger(__name__)

blueprint = Blueprint("sms", __name__, url_prefix="/twilio")


def _required(name: str) -> str:
    value = request.form.get(name)
    if not value:
        raise TwilioRequestError(name)
    return value


@blueprint.post("/sms")
@twilio_request
def inbound_sms():
    inbound = InboundSms(
        message_sid=_required("MessageSid"),
        from_number=_required("From"),
        body=request.form.get("Body", ""),
        opt_out_type=request.form.get("OptOutType"),
    )
    services = current_app.extensions["hotline"]
    outcome = receive_sms(services, inbound, on_stored=_mark_stored)

    response = MessagingResponse()
    if outcome.parts:
        # The first part goes back in the TwiML; each further part is sent
        # when Twilio reports the previous one sent, so they arrive in order.
        response.message(outcome.parts[0], action=status_url(outcome.message_ids[0]), method="POST")
        queue_remaining_parts(services, outcome.message_ids)
    return twiml(response)


def _mark_stored() -> None:
    g.inbound_stored = True


def status_url(message_id: int) -> str:
    settings = current_app.config["HOTLINE"]
    return settings.public_base_url.rstrip("/") + url_for("status.message_status", message=message_id)
