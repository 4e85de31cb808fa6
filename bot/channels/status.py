"""Twilio's status callbacks: ``POST /twilio/status``."""

import logging

from flask import Blueprint, current_app, request

from bot.outbox import FINAL_STATUSES, drop_chain_after, record_status, send_next_part
from bot.telephony.signature import twilio_request

logger = logging.getLogger(__name__)

blueprint = Blueprint("status", __name__, url_prefix="/twilio")

# Row ids are 64-bit integers in every database the store supports.
MAX_ROW_ID = 2**63


@blueprint.post("/status")
@twilio_request
def message_status():
    services = current_app.extensions["hotline"]
    message_id = request.args.get("message", type=int)
    status = (request.form.get("MessageStatus") or request.form.get("SmsStatus") or "").lower()
    if message_id is None or not status or not 0 < message_id < MAX_ROW_ID:
        return {"error": "expected a message query parameter (a message id) and a MessageStatus form parameter"}, 400

    applied = record_status(
        services,
        message_id,
        status,
        request.form.get("MessageSid"),
        request.form.get("ErrorCode"),
    )
    if applied and status in ("sent", "delivered"):
        send_next_part(services, message_id)
    elif applied and status in FINAL_STATUSES:
        drop_chain_after(services, message_id)
    return "", 204
