"""State of a call in progress, and exactly-once processing of its steps.

Every TwiML document the gateway returns names the step its answer belongs
to (``?step=N`` in the action URL). The first request for a step claims it;
a repeated request, as Twilio sends after a timeout, gets the stored
response of the first one instead of being processed again.
"""

import json
import logging
import time
from dataclasses import asdict, dataclass, field
from typing import Dict, List, Optional

import redis

logger = logging.getLogger(__name__)

CALL_TTL_SECONDS = 6 * 3600
_PENDING = "pending"
# How long a repeated request waits for the first one to finish.
REPEAT_WAIT_SECONDS = 10.0


@dataclass
class CallState:
    call_sid: str
    pseudonym: str
    worker_id: int
    conversation_id: int
    direction: str
    language: Optional[str] = None
    callback_id: Optional[int] = None
    country: Optional[str] = None
    step: int = 0
    silences: int = 0
    misheard: int = 0
    # The utterances of the last question, repeated after silence or noise.
    last_utterances: List[dict] = field(default_factory=list)
    keypad: Dict[str, str] = field(default_factory=dict)
    free_text: bool = False
    awaiting: str = "dialogue"

    @property
    def rasa_conversation_id(self) -> str:
        # One Rasa conversation per call, so a half-finished SMS form and a
        # call never mix; the actions strip the suffix to find the worker.
        return f"{self.pseudonym}.call-{self.call_sid[-12:]}"


class CallStore:
    def __init__(self, client: redis.Redis, prefix: str):
        self.redis = client
        self.prefix = prefix

    def _state_key(self, call_sid: str) -> str:
        return f"{self.prefix}:voice:call:{call_sid}"

    def _step_key(self, call_sid: str, kind: str, step: int) -> str:
        return f"{self.prefix}:voice:step:{call_sid}:{kind}:{step}"

    def load(self, call_sid: str) -> Optional[CallState]:
        raw = self.redis.get(self._state_key(call_sid))
        return CallState(**json.loads(raw)) if raw else None

    def save(self, state: CallState) -> None:
        self.redis.set(self._state_key(state.call_sid), json.dumps(asdict(state)), ex=CALL_TTL_SECONDS)

    def forget(self, call_sid: str) -> None:
        self.redis.delete(self._state_key(call_sid))

    def claim(self, call_sid: str, kind: str, step: int) -> Optional[str]:
        """Claim a step; return None when claimed, else the first request's response."""
        key = self._step_key(call_sid, kind, step)
        if self.redis.set(key, _PENDING, nx=True, ex=CALL_TTL_SECONDS):
            return None
        deadline = time.monotonic() + REPEAT_WAIT_SECONDS
        while time.monotonic() < deadline:
            stored = self.redis.get(key)
            if stored and stored != _PENDING:
                logger.info("Call %s: step %s %s repeated, returning the first response", call_sid, kind, step)
                return stored
            time.sleep(0.1)
        logger.warning("Call %s: step %s %s repeated while the first is still running", call_sid, kind, step)
        return ""

    def complete(self, call_sid: str, kind: str, step: int, twiml: str) -> None:
        self.redis.set(self._step_key(call_sid, kind, step), twiml, ex=CALL_TTL_SECONDS)

    def release(self, call_sid: str, kind: str, step: int) -> None:
        """Let a step that failed be processed again when Twilio repeats it."""
        self.redis.delete(self._step_key(call_sid, kind, step))
