"""A simulated phone call: Twilio's voice webhooks, signed, driven from a terminal."""

import xml.etree.ElementTree as ElementTree
from dataclasses import dataclass, field
from typing import List, Optional, Tuple

from bot.simulator.signing import new_sid, post_signed


@dataclass
class SimulatedCall:
    """Plays Twilio's side of one call against the gateway."""

    auth_token: str
    account_sid: str
    public_base: str
    gateway: str
    worker_number: str
    hotline_number: str
    callback_id: Optional[int] = None
    call_sid: str = field(default_factory=lambda: new_sid("CA"))
    root: Optional[ElementTree.Element] = None

    @property
    def outbound(self) -> bool:
        return self.callback_id is not None

    def _post(self, public_url: str, **extra) -> ElementTree.Element:
        params = {
            "AccountSid": self.account_sid,
            "CallSid": self.call_sid,
            "From": self.hotline_number if self.outbound else self.worker_number,
            "To": self.worker_number if self.outbound else self.hotline_number,
            "Direction": "outbound-api" if self.outbound else "inbound",
            "CallStatus": "in-progress",
            "ApiVersion": "2010-04-01",
        }
        params.update(extra)
        target = self.gateway + public_url[len(self.public_base):] if public_url.startswith(self.public_base) else public_url
        response = post_signed(self.auth_token, public_url, params, target_url=target)
        response.raise_for_status()
        self.root = ElementTree.fromstring(response.content) if response.content else None
        return self.root

    def start(self) -> ElementTree.Element:
        query = f"?callback={self.callback_id}" if self.callback_id else ""
        return self._post(f"{self.public_base}/twilio/voice{query}")

    @property
    def ended(self) -> bool:
        return self.root is None or self.root.find("Hangup") is not None or self.root.find("Gather") is None

    def press(self, digits: str) -> ElementTree.Element:
        return self._post(self.root.find("Gather").get("action"), Digits=digits)

    def say(self, words: str) -> ElementTree.Element:
        return self._post(self.root.find("Gather").get("action"), SpeechResult=words, Confidence="0.9")

    def silence(self) -> ElementTree.Element:
        return self._post(self.root.find("Redirect").text)

    def hang_up(self) -> None:
        query = f"?callback={self.callback_id}" if self.callback_id else ""
        post_signed(
            self.auth_token, f"{self.public_base}/twilio/voice/status{query}",
            {"AccountSid": self.account_sid, "CallSid": self.call_sid, "CallStatus": "completed"},
            target_url=f"{self.gateway}/twilio/voice/status{query}",
        )

    def heard(self) -> List[Tuple[str, str]]:
        """Return what the caller hears now: ("say", text) or ("play", url), in order."""
        if self.root is None:
            return []
        lines = []
        for element in self.root.iter():
            if element.tag == "Say":
                lines.append(("say", f"[{element.get('language')}] {element.text}"))
            elif element.tag == "Play":
                lines.append(("play", element.text))
        return lines

    def expects(self) -> str:
        gather = self.root.find("Gather") if self.root is not None else None
        if gather is None:
            return "nothing, the call has ended"
        return "keys" if gather.get("input") == "dtmf" else "keys or words"
