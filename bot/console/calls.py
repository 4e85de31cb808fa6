"""Masked calls: the hotline rings the agent, then connects the worker.

Neither side sees the other's number: the agent's phone shows the
hotline's caller id, and the worker's number only ever reaches Twilio, in
the TwiML of the bridge.
"""

import logging

from twilio.twiml.voice_response import VoiceResponse

from bot.console.accounts import record
from bot.db.models import Account, Escalation, Worker

logger = logging.getLogger(__name__)


class MaskedCallError(ValueError):
    """A masked call cannot be placed; the message gives the reason."""


def place_masked_call(session, services, escalation: Escalation, account: Account) -> str:
    """Ring the agent's phone for an escalation they hold; return Twilio's call SID."""
    if escalation.claimed_by != account.id and account.role != "supervisor":
        raise MaskedCallError("claim the escalation before calling the worker")
    if account.phone_ciphertext is None:
        raise MaskedCallError("your account has no phone number; ask an administrator to add one")
    agent_phone = services.vault.decrypt(account.phone_ciphertext)
    base = services.settings.public_base_url.rstrip("/")
    call = services.twilio_client.calls.create(
        to=agent_phone,
        from_=services.settings.caller_id,
        url=f"{base}/twilio/voice/bridge?escalation={escalation.id}",
        method="POST",
    )
    record(session, account.id, "placed_masked_call", subject=f"escalation:{escalation.id}", detail=call.sid)
    logger.info("Escalation %s: masked call %s placed for account %s", escalation.id, call.sid, account.id)
    return call.sid


def bridge_twiml(session, services, escalation_id: int) -> str:
    """Return the TwiML that connects the agent, once they answer, to the worker."""
    response = VoiceResponse()
    escalation = session.get(Escalation, escalation_id)
    if escalation is None or escalation.status != "claimed":
        response.say("This call cannot be connected.", language="en-US", voice="Polly.Joanna")
        response.hangup()
        return str(response)
    worker = session.get(Worker, escalation.worker_id)
    response.say("Connecting you to the worker.", language="en-US", voice="Polly.Joanna")
    dial = response.dial(caller_id=services.settings.caller_id, timeout=30)
    dial.number(services.vault.decrypt(worker.phone_ciphertext))
    return str(response)
