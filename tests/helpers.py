"""Helpers for tests that talk to the running hotline."""

import time
import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import List

import requests
from sqlalchemy import select

from bot.db.models import Case, Conversation, Escalation, Message, Worker
from bot.db.session import Database
from bot.privacy import pseudonymise
from bot.simulator.signing import new_sid, post_signed, sms_params
from bot.simulator.twilio_double import TwilioDouble

TEST_ACCOUNT_SID = "AC" + "1" * 32
TEST_AUTH_TOKEN = "test-auth-token-0123456789abcdef"
HOTLINE_NUMBER = "+15005550006"


@dataclass
class Phone:
    """A fictional worker's phone, texting the running gateway as Twilio would."""

    number: str
    settings: object
    twilio: TwilioDouble
    sent_sids: List[str] = field(default_factory=list)

    @property
    def sms_url(self) -> str:
        return self.settings.public_base_url + "/twilio/sms"

    @property
    def pseudonym(self) -> str:
        return pseudonymise(self.number, self.settings.pseudonym_key)

    def post(self, body: str, message_sid: str = None, **extra) -> requests.Response:
        params = sms_params(TEST_ACCOUNT_SID, self.number, HOTLINE_NUMBER, body, message_sid)
        params.update(extra)
        self.sent_sids.append(params["MessageSid"])
        return post_signed(TEST_AUTH_TOKEN, self.sms_url, params)

    def text(self, body: str) -> List[str]:
        """Send one SMS and return every reply part, in the order they arrived."""
        already = len(self.rest_messages())
        response = self.post(body)
        assert response.status_code == 200, response.text
        messages = [(m.text or "", m.get("action")) for m in ElementTree.fromstring(response.text).iter("Message")]
        for _, action in messages:
            if action:
                # As Twilio does: the TwiML reply is sent, which releases the next part.
                report_status(action, "sent")
        return [text for text, _ in messages] + self._rest_parts_since(already)

    def rest_messages(self):
        return [m for m in self.twilio.messages if m.to == self.number]

    def _rest_parts_since(self, already: int, quiet_seconds: float = 0.6) -> List[str]:
        # The gateway sends the second part while handling the status
        # callback above; each later one follows the double's own callback
        # for the part before, so wait until the chain has been quiet a while.
        seen = len(self.rest_messages())
        if seen == already:
            return []
        deadline = time.monotonic() + quiet_seconds
        while time.monotonic() < deadline:
            time.sleep(0.05)
            current = len(self.rest_messages())
            if current != seen:
                seen = current
                deadline = time.monotonic() + quiet_seconds
        return [m.body for m in self.rest_messages()[already:]]


def report_status(url: str, status: str, **extra) -> requests.Response:
    params = {"MessageSid": new_sid("SM"), "MessageStatus": status, "AccountSid": TEST_ACCOUNT_SID}
    params.update(extra)
    return post_signed(TEST_AUTH_TOKEN, url, params)


def worker_of(db: Database, phone: Phone):
    with db.session() as session:
        return session.execute(select(Worker).where(Worker.pseudonym == phone.pseudonym)).scalar_one_or_none()


def cases_of(db: Database, phone: Phone) -> List[Case]:
    with db.session() as session:
        worker = session.execute(select(Worker).where(Worker.pseudonym == phone.pseudonym)).scalar_one()
        return list(session.execute(select(Case).where(Case.worker_id == worker.id).order_by(Case.id)).scalars())


def escalations_of(db: Database, phone: Phone) -> List[Escalation]:
    with db.session() as session:
        worker = session.execute(select(Worker).where(Worker.pseudonym == phone.pseudonym)).scalar_one()
        return list(session.execute(select(Escalation).where(Escalation.worker_id == worker.id).order_by(Escalation.id)).scalars())


def messages_of(db: Database, phone: Phone, direction: str = None) -> List[Message]:
    with db.session() as session:
        worker = session.execute(select(Worker).where(Worker.pseudonym == phone.pseudonym)).scalar_one_or_none()
        if worker is None:
            return []
        query = select(Message).join(Conversation).where(Conversation.worker_id == worker.id)
        if direction:
            query = query.where(Message.direction == direction)
        return list(session.execute(query.order_by(Message.id)).scalars())


def rasa_tracker(settings, pseudonym: str) -> dict:
    response = requests.get(
        f"{settings.rasa_url}/conversations/{pseudonym}/tracker",
        params={"token": settings.rasa_token},
        timeout=10,
    )
    response.raise_for_status()
    return response.json()


