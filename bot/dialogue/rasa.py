"""Client of the Rasa server's REST channel."""

import logging
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import requests

from bot.errors import DialogueUnavailable

logger = logging.getLogger(__name__)

REST_WEBHOOK_PATH = "/webhooks/rest/webhook"


@dataclass
class Utterance:
    """One message of the bot, with what the NLG endpoint said about it."""

    text: str
    prompt: Optional[str] = None
    language: Optional[str] = None
    audio: Optional[str] = None
    ends_call: bool = False


@dataclass
class BotReply:
    """What Rasa answered to one turn: messages in order, and the last keypad menu."""

    utterances: List[Utterance] = field(default_factory=list)
    keypad: Dict[str, str] = field(default_factory=dict)

    @property
    def texts(self) -> List[str]:
        return [utterance.text for utterance in self.utterances if utterance.text]

    @property
    def prompts(self) -> List[str]:
        return [utterance.prompt for utterance in self.utterances if utterance.prompt]

    @property
    def ends_call(self) -> bool:
        return bool(self.utterances) and self.utterances[-1].ends_call


class RasaClient:
    def __init__(self, base_url: str, timeout: float, session: Optional[requests.Session] = None):
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self._http = session or requests.Session()

    def send(self, conversation_id: str, text: str, metadata: Dict[str, object]) -> BotReply:
        """Send one user turn and collect the bot's responses.

        Raises:
            DialogueUnavailable: Rasa did not answer in time, or answered
                with an error.
        """
        payload = {"sender": conversation_id, "message": text, "metadata": metadata}
        try:
            response = self._http.post(
                self.base_url + REST_WEBHOOK_PATH, json=payload, timeout=self.timeout
            )
            response.raise_for_status()
            messages = response.json()
        except (requests.RequestException, ValueError) as error:
            raise DialogueUnavailable(
                f"Rasa at {self.base_url} failed: {type(error).__name__}",
                conversation_id=conversation_id,
            ) from error
        return parse_reply(messages)


def parse_reply(messages: List[dict]) -> BotReply:
    """Fold the REST channel's list of messages into one reply.

    The NLG endpoint puts the prompt's name and keypad in ``custom``; Rasa's
    REST channel returns that as a separate message after the text.
    """
    reply = BotReply()
    for message in messages or []:
        custom = message.get("custom") or {}
        if message.get("text"):
            reply.utterances.append(Utterance(text=message["text"]))
        if custom.get("prompt") and reply.utterances and reply.utterances[-1].prompt is None:
            utterance = reply.utterances[-1]
            utterance.prompt = custom["prompt"]
            utterance.language = custom.get("language")
            utterance.audio = custom.get("audio")
            utterance.ends_call = bool(custom.get("ends_call"))
            reply.keypad = dict(custom.get("keypad") or {})
    return reply
