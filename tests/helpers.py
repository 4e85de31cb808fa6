"""Helpers for tests that talk to the running hotline."""

import re
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
        # The gateway sends the second part while it handles the status
        # callback above. Each later part follows the double's own callback
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




# -- voice -------------------------------------------------------------------

BCP47 = re.compile(r"^[a-z]{2,3}(-[A-Z][a-z]{3})?-[A-Z]{2}$")
VERBS = {"Say", "Play", "Gather", "Redirect", "Hangup", "Pause"}
GATHER_CHILDREN = {"Say", "Play", "Pause"}
GATHER_ATTRIBUTES = {
    "input", "action", "method", "timeout", "language", "speechTimeout",
    "numDigits", "profanityFilter", "actionOnEmptyResult",
}


@dataclass
class Twiml:
    """A parsed and checked TwiML document of the voice webhooks."""

    raw: str
    root: ElementTree.Element

    @property
    def gather(self):
        return self.root.find("Gather")

    @property
    def spoken(self) -> List[ElementTree.Element]:
        return [e for e in self.root.iter() if e.tag in ("Say", "Play")]

    @property
    def text(self) -> str:
        return " ".join(e.text or "" for e in self.root.iter("Say"))

    @property
    def languages(self) -> set:
        return {e.get("language") for e in self.root.iter("Say")}

    @property
    def hangs_up(self) -> bool:
        return self.root.find("Hangup") is not None

    @property
    def redirect(self) -> str:
        element = self.root.find("Redirect")
        return element.text if element is not None else None


def parse_twiml(raw: str) -> Twiml:
    """Parse a voice TwiML document and check it is what Twilio accepts."""
    assert raw.startswith('<?xml version="1.0" encoding="UTF-8"?>'), raw[:60]
    assert "&#" not in raw, "non-ASCII text was escaped into character references"
    root = ElementTree.fromstring(raw.encode("utf-8"))
    assert root.tag == "Response"
    for element in root:
        assert element.tag in VERBS, element.tag
    for say in root.iter("Say"):
        assert (say.text or "").strip(), "empty <Say>"
        assert BCP47.match(say.get("language") or ""), say.get("language")
        assert say.get("voice"), "a <Say> without a voice"
    for play in root.iter("Play"):
        assert (play.text or "").startswith("http"), play.text
    gathers = root.findall("Gather")
    assert len(gathers) <= 1
    for gather in gathers:
        assert set(gather.attrib) <= GATHER_ATTRIBUTES, gather.attrib
        assert gather.get("input") in ("dtmf", "speech", "dtmf speech")
        assert gather.get("action", "").startswith("http")
        assert gather.get("method") == "POST"
        if "speech" in gather.get("input"):
            assert BCP47.match(gather.get("language") or ""), gather.get("language")
        for child in gather:
            assert child.tag in GATHER_CHILDREN, child.tag
        # Silence must lead somewhere: Twilio runs the verbs after the Gather.
        assert root.find("Redirect") is not None or root.find("Hangup") is not None
    assert gathers or root.find("Hangup") is not None, "the call would end without a goodbye"
    return Twiml(raw=raw, root=root)


@dataclass
class Call:
    """A call between a fictional worker and the running gateway, as Twilio places it."""

    phone: "Phone"
    call_sid: str = field(default_factory=lambda: new_sid("CA"))
    outbound: bool = False
    callback_id: int = None
    last: Twiml = None
    # The URLs a dialer gave Twilio, when the hotline placed the call.
    url: str = None
    status_url: str = None

    @property
    def voice_url(self) -> str:
        return self.phone.settings.public_base_url + "/twilio/voice"

    def _params(self, **extra) -> dict:
        hotline, worker = HOTLINE_NUMBER, self.phone.number
        params = {
            "AccountSid": TEST_ACCOUNT_SID,
            "CallSid": self.call_sid,
            "From": hotline if self.outbound else worker,
            "To": worker if self.outbound else hotline,
            "Direction": "outbound-api" if self.outbound else "inbound",
            "CallStatus": "in-progress" if self.outbound else "ringing",
            "ApiVersion": "2010-04-01",
        }
        params.update(extra)
        return params

    def post(self, url: str, **extra) -> requests.Response:
        return post_signed(TEST_AUTH_TOKEN, url, self._params(**extra))

    def _turn(self, url: str, **extra) -> Twiml:
        response = self.post(url, **extra)
        assert response.status_code == 200, response.text
        self.last = parse_twiml(response.text)
        return self.last

    def start(self, **extra) -> Twiml:
        url = self.url or self.voice_url + (f"?callback={self.callback_id}" if self.callback_id else "")
        return self._turn(url, **extra)

    def press(self, digits: str) -> Twiml:
        return self._turn(self.last.gather.get("action"), Digits=digits, CallStatus="in-progress")

    def say(self, speech: str, confidence: str = "0.92") -> Twiml:
        return self._turn(self.last.gather.get("action"), SpeechResult=speech, Confidence=confidence, CallStatus="in-progress")

    def silence(self) -> Twiml:
        return self._turn(self.last.redirect, CallStatus="in-progress")

    def end(self, status: str = "completed", **extra) -> requests.Response:
        url = self.status_url or self.voice_url + "/status" + (f"?callback={self.callback_id}" if self.callback_id else "")
        return self.post(url, CallStatus=status, CallDuration="95", **extra)


def assert_no_phone_numbers(numbers: List[str], redis_client, log_dir) -> None:
    """Check that no number appears in Redis (keys, values, trackers, jobs) or in the logs."""
    import redis as redis_lib

    kwargs = dict(redis_client.connection_pool.connection_kwargs, decode_responses=False)
    raw = redis_lib.Redis(**kwargs)
    digits = [number.lstrip("+") for number in numbers]
    for key in raw.scan_iter("*"):
        kind = raw.type(key).decode()
        if kind == "string":
            values = [raw.get(key) or b""]
        elif kind == "hash":
            values = [k + b"=" + v for k, v in raw.hgetall(key).items()]
        elif kind == "zset":
            values = raw.zrange(key, 0, -1)
        elif kind == "list":
            values = raw.lrange(key, 0, -1)
        elif kind == "set":
            values = list(raw.smembers(key))
        else:
            values = []
        # Pickled rq jobs are binary; latin-1 keeps every byte searchable.
        text = " ".join(value.decode("latin-1") for value in values)
        name = key.decode("latin-1")
        for number in digits:
            assert number not in name, name
            assert number not in text, name
            assert number[-9:] not in text, name
    raw.close()

    for log in log_dir.glob("*.log"):
        text = log.read_text(errors="replace")
        for number in digits:
            assert number not in text, log.name
            assert number[-9:] not in text, log.name
