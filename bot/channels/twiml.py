"""TwiML responses."""

from flask import Response
from twilio.twiml.messaging_response import MessagingResponse

TWIML_MIMETYPE = "application/xml"


def twiml(document) -> Response:
    return Response(str(document), mimetype=TWIML_MIMETYPE)


def empty_messaging_response() -> Response:
    return twiml(MessagingResponse())
