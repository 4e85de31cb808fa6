"""Each request Twilio makes during a call, from the first ring to the hang-up.

A call never ends in silence or in the middle of a question: silence is
re-asked twice, then the keypad is offered, then a call back from a person,
and only then does the call end, with a goodbye.
"""

import logging
from dataclasses import dataclass
from typing import Callable, Optional

from sqlalchemy.exc import IntegrityError

from bot.db.models import Callback, Case, Message, Worker
from bot.dialogue.rasa import BotReply
from bot.errors import DialogueUnavailable
from bot.escalations import escalate
from bot.language.catalogue import languages, render, supported_languages
from bot.campaigns.dialer import mark_answered, record_call_status
from bot.services import Services
from bot.voice import twiml
from bot.voice.calls import CallState, CallStore
from bot.workers import current_conversation, find_or_create_worker

logger = logging.getLogger(__name__)

CHANNEL = "voice"
SAFE_EXIT_KEY = "*"
# Below this speech confidence (Twilio reports 0.0 to 1.0) the words are
# treated as not understood.
MIN_SPEECH_CONFIDENCE = 0.3
MAX_MISHEARD = 3
SILENCES_BEFORE_KEYPAD = 2
QUESTIONNAIRE_TRIGGER = "/EXTERNAL_questionnaire_start"
CALL_ENDED_TRIGGER = "/EXTERNAL_call_ended"
# Callbacks whose questionnaire is over; a call for one is hung up.
CLOSED_CALLBACKS = frozenset({"completed", "unreached", "opted_out"})
FINAL_CALL_STATUSES = frozenset({"completed", "busy", "no-answer", "failed", "canceled"})


@dataclass
class VoiceRequest:
    """The parameters of one Twilio voice webhook that the flow uses."""

    call_sid: str
    from_number: str
    to_number: str
    direction: str = "inbound"
    call_status: str = ""
    step: int = 0
    digits: Optional[str] = None
    speech: Optional[str] = None
    confidence: Optional[float] = None
    callback_id: Optional[int] = None
    attempt: Optional[int] = None
    answered_by: Optional[str] = None
    error_code: Optional[str] = None
    recording_url: Optional[str] = None

    @property
    def outbound(self) -> bool:
        return self.direction.startswith("outbound")


@dataclass
class Links:
    """Absolute URLs of the voice routes, as Twilio must request them."""

    gather: Callable[[int], str]
    silence: Callable[[int], str]
    language: Callable[[int], str]
    audio: Callable[[str, str], str]
    recording: Callable[[], str]


class VoiceFlow:
    def __init__(self, services: Services, links: Links):
        self.services = services
        self.links = links
        self.calls = CallStore(services.redis, services.settings.redis_prefix)

    # -- entry points, one per route -------------------------------------

    def start(self, request: VoiceRequest) -> str:
        """Respond to the first webhook of a call, inbound or a post-audit callback."""
        claimed = self.calls.claim(request.call_sid, "start", 0)
        if claimed is not None:
            return claimed
        return self._complete(request, "start", 0, lambda: self._start(request))

    def gather(self, request: VoiceRequest) -> str:
        return self._once(request, "gather", self._gather)

    def choose_language(self, request: VoiceRequest) -> str:
        return self._once(request, "language", self._choose_language)

    def silence(self, request: VoiceRequest) -> str:
        return self._once(request, "silence", self._silence)

    def status(self, request: VoiceRequest) -> None:
        """Record a call's progress; for a callback, apply the outcome and retry policy."""
        state = self.calls.load(request.call_sid)
        if state is not None and request.call_status in FINAL_CALL_STATUSES and state.awaiting != "closed":
            self._close_dialogue(state)
        callback_id = request.callback_id or (state.callback_id if state else None)
        if callback_id is not None:
            record_call_status(
                self.services, callback_id, request.attempt, request.call_status,
                answered_by=request.answered_by, error_code=request.error_code, call_sid=request.call_sid,
            )
        logger.info("Call %s: status %s", request.call_sid, request.call_status)

    def _close_dialogue(self, state: CallState) -> None:
        """Tell Rasa the call is over, so a report cut short is kept, escalated if critical."""
        state.awaiting = "closed"
        self.calls.save(state)
        metadata = {"language": state.language, "channel": CHANNEL, "callback_id": state.callback_id}
        try:
            self.services.rasa.send(state.rasa_conversation_id, CALL_ENDED_TRIGGER, metadata)
        except DialogueUnavailable as error:
            logger.warning("Call %s: end of call not sent to Rasa (%s)", state.call_sid, error)

    def recording(self, request: VoiceRequest) -> None:
        """Keep the recording of a caller's account with the case of that call."""
        state = self.calls.load(request.call_sid)
        if state is None or not request.recording_url:
            return
        with self.services.db.session() as session:
            self._store_inbound(session, state, f"[recording] {request.recording_url}", f"{request.call_sid}:recording")
            case = (
                session.query(Case)
                .filter(Case.conversation_id == state.conversation_id)
                .order_by(Case.id.desc())
                .first()
            )
            if case is not None:
                case.recording_url_ciphertext = self.services.vault.encrypt(request.recording_url)
        logger.info("Call %s: recording stored", request.call_sid)

    # -- steps -------------------------------------------------------------

    def _once(self, request: VoiceRequest, kind: str, handler) -> str:
        state = self.calls.load(request.call_sid)
        if state is None:
            logger.warning("Call %s: %s for an unknown call, ending it", request.call_sid, kind)
            return self._goodbye_text("utter_voice_goodbye_silence", self.services.settings.default_language)
        claimed = self.calls.claim(request.call_sid, kind, request.step)
        if claimed is not None:
            return claimed
        return self._complete(request, kind, request.step, lambda: handler(request, state))

    def _complete(self, request: VoiceRequest, kind: str, step: int, produce) -> str:
        try:
            document = produce()
        except Exception:
            self.calls.release(request.call_sid, kind, step)
            raise
        self.calls.complete(request.call_sid, kind, step, document)
        return document

    def _start(self, request: VoiceRequest) -> str:
        number = request.to_number if request.outbound else request.from_number
        identity = self.services.identify(number)

        with self.services.db.session() as session:
            worker = find_or_create_worker(
                session, self.services.vault, identity.pseudonym, identity.e164, identity.country
            )
            worker_id, pseudonym, language = worker.id, worker.pseudonym, worker.language

        if request.callback_id is not None:
            callback_language = self._answer_callback(request, worker_id)
            if callback_language is None:
                return str(twiml.goodbye([], self.links.audio))
            language = callback_language

        with self.services.db.session() as session:
            worker = session.get(Worker, worker_id)
            conversation = current_conversation(session, worker, CHANNEL, self.services.settings.session_minutes)
            conversation_id = conversation.id
        state = CallState(
            call_sid=request.call_sid,
            pseudonym=pseudonym,
            worker_id=worker_id,
            conversation_id=conversation_id,
            direction="outbound" if request.outbound else "inbound",
            language=language,
            callback_id=request.callback_id,
            country=identity.country,
        )
        logger.info("Call %s: %s call started for worker %s", request.call_sid, state.direction, state.pseudonym)

        if state.language is None:
            return self._language_menu(state)
        return self._dialogue(state, self._opening(state), "none")

    def _answer_callback(self, request: VoiceRequest, worker_id: int) -> Optional[str]:
        """Check a post-audit callback was answered by its worker; return its language."""
        with self.services.db.session() as session:
            callback = session.get(Callback, request.callback_id)
            if callback is None or callback.worker_id != worker_id:
                logger.error("Call %s: callback %s does not match the called worker", request.call_sid, request.callback_id)
                return None
            if callback.status in CLOSED_CALLBACKS or not callback.consent:
                logger.warning("Call %s: callback %s is %s, not asked again", request.call_sid, callback.id, callback.status)
                return None
        if not mark_answered(self.services, request.callback_id, request.attempt, request.answered_by, request.call_sid):
            # An answering machine: nothing is said, the next attempt follows.
            logger.info("Call %s: machine detected, hanging up", request.call_sid)
            return None
        with self.services.db.session() as session:
            callback = session.get(Callback, request.callback_id)
            callback.status = "in_progress"
            callback.call_sid = request.call_sid
            return callback.language

    def _opening(self, state: CallState) -> str:
        return QUESTIONNAIRE_TRIGGER if state.callback_id is not None else "/greet"

    def _gather(self, request: VoiceRequest, state: CallState) -> str:
        digits = (request.digits or "").strip()
        speech = (request.speech or "").strip()
        if not digits and not speech:
            return self._silence(request, state)

        with self.services.db.session() as session:
            body = speech if speech else f"[keypad] {digits}"
            message_id = self._store_inbound(session, state, body, f"{state.call_sid}:{request.step}")
        state.silences = 0

        if SAFE_EXIT_KEY in digits:
            return self._leave_safely(state)
        if state.awaiting == "callback_offer":
            return self._answer_callback_offer(state, digits)

        if digits:
            intent = state.keypad.get(digits) if len(digits) == 1 else None
            if intent is None and len(digits) == 1 and len(state.keypad) > 1:
                # A key the menu does not offer.
                intent = "nlu_fallback"
            text, method = (f"/{intent}" if intent else digits), "dtmf"
        else:
            if request.confidence is not None and request.confidence < MIN_SPEECH_CONFIDENCE:
                return self._misheard(state)
            text, method = speech, "speech"
        return self._dialogue(state, text, method, message_id)

    def _choose_language(self, request: VoiceRequest, state: CallState) -> str:
        digits = (request.digits or "").strip()
        codes = supported_languages()
        if SAFE_EXIT_KEY in digits:
            return self._leave_safely(state)
        if not digits.isdigit() or not 1 <= int(digits) <= len(codes):
            return self._language_menu(state)
        return self._set_language(state, codes[int(digits) - 1])

    def _silence(self, request: VoiceRequest, state: CallState) -> str:
        state.silences += 1
        language = state.language or self.services.settings.default_language

        if state.awaiting == "language":
            if state.silences <= SILENCES_BEFORE_KEYPAD:
                return self._language_menu(state)
            prior = self.services.detector.prior(state.country, self.services.settings.default_language)
            return self._set_language(state, max(prior, key=prior.get))

        if state.awaiting == "callback_offer":
            return self._end(state, "utter_voice_goodbye_silence")
        if state.silences <= SILENCES_BEFORE_KEYPAD:
            lead = self._utterance("utter_voice_not_heard", language)
            return self._ask(state, [lead] + state.last_utterances)
        if state.silences == SILENCES_BEFORE_KEYPAD + 1:
            lead = self._utterance("utter_voice_use_keypad", language)
            return self._ask(state, [lead] + state.last_utterances, keypad_only=True)
        state.awaiting = "callback_offer"
        offer = render("utter_voice_offer_callback", language, channel=CHANNEL)
        return self._ask(state, [self._utterance_of(offer)], keypad=offer.keypad, keypad_only=True, remember=False)

    # -- pieces --------------------------------------------------------------

    def _set_language(self, state: CallState, code: str) -> str:
        state.language = code
        state.awaiting = "dialogue"
        state.silences = 0
        with self.services.db.session() as session:
            worker = session.get(Worker, state.worker_id)
            if worker.language is None:
                worker.language = code
        logger.info("Call %s: language set to %s", state.call_sid, code)
        return self._dialogue(state, self._opening(state), "none")

    def _dialogue(self, state: CallState, text: str, method: str, message_id: Optional[int] = None) -> str:
        metadata = {
            "language": state.language,
            "channel": CHANNEL,
            "message_id": message_id,
            "country": state.country,
            "callback_id": state.callback_id,
            "input": method,
        }
        try:
            reply = self.services.rasa.send(state.rasa_conversation_id, text, metadata)
            if not reply.texts:
                raise DialogueUnavailable("Rasa returned no message", conversation_id=state.rasa_conversation_id)
        except DialogueUnavailable as error:
            logger.error("Call %s: %s; escalating to a person", state.call_sid, error)
            self._escalate(state, "dialogue_unavailable")
            return self._end(state, "utter_service_unavailable")

        state.misheard = 0
        self._store_replies(state, reply)
        if self.services.settings.voice_recording and "utter_ask_grievance_description" in reply.prompts:
            self._start_recording(state)
        utterances = [self._utterance_dict(u.text, u.language or state.language, u.audio) for u in reply.utterances]
        if reply.ends_call:
            state.awaiting = "ended"
            self.calls.save(state)
            return str(twiml.goodbye(utterances, self.links.audio))
        return self._ask(state, utterances, keypad=reply.keypad)

    def _ask(self, state, utterances, keypad=None, keypad_only=False, remember=True) -> str:
        if remember:
            state.last_utterances = [u for u in utterances if u.get("prompt") != "lead"]
            state.keypad = dict(keypad or {})
            state.awaiting = "dialogue"
        state.step += 1
        self.calls.save(state)
        language = languages()[state.language or self.services.settings.default_language]
        document = twiml.question(
            utterances,
            language,
            self.links.gather(state.step),
            self.links.silence(state.step),
            self.links.audio,
            keypad=keypad if keypad is not None else state.keypad,
            keypad_only=keypad_only,
        )
        return str(document)

    def _language_menu(self, state: CallState) -> str:
        state.awaiting = "language"
        state.step += 1
        self.calls.save(state)
        options = []
        for position, code in enumerate(supported_languages(), start=1):
            prompt = render("utter_language_menu_option", code, {"digit": position}, CHANNEL)
            options.append(self._utterance_of(prompt))
        return str(twiml.language_menu(
            options, self.links.language(state.step), self.links.silence(state.step), self.links.audio
        ))

    def _misheard(self, state: CallState) -> str:
        state.misheard += 1
        language = state.language or self.services.settings.default_language
        if state.misheard >= MAX_MISHEARD:
            self._escalate(state, "misunderstood")
            return self._end(state, "utter_escalated_misunderstood")
        lead = self._utterance("utter_voice_not_understood", language)
        return self._ask(state, [lead] + state.last_utterances, keypad=state.keypad, remember=False)

    def _leave_safely(self, state: CallState) -> str:
        logger.info("Call %s: caller pressed the safe exit key", state.call_sid)
        try:
            # Closes any form in Rasa so the next call starts clean.
            self.services.rasa.send(state.rasa_conversation_id, "/unsafe_now", {"language": state.language, "channel": CHANNEL})
        except DialogueUnavailable as error:
            logger.warning("Call %s: safe exit not sent to Rasa (%s)", state.call_sid, error)
        return self._end(state, "utter_unsafe_goodbye")

    def _answer_callback_offer(self, state: CallState, digits: str) -> str:
        if digits == "1":
            self._escalate(state, "human_requested")
            return self._end(state, "utter_voice_callback_arranged")
        return self._end(state, "utter_voice_goodbye_silence")

    def _end(self, state: CallState, prompt_name: str) -> str:
        state.awaiting = "ended"
        self.calls.save(state)
        language = state.language or self.services.settings.default_language
        self._store_outbound_text(state, render(prompt_name, language, channel=CHANNEL).text)
        return self._goodbye_text(prompt_name, language)

    def _goodbye_text(self, prompt_name: str, language: str) -> str:
        prompt = render(prompt_name, language, channel=CHANNEL)
        return str(twiml.goodbye([self._utterance_of(prompt)], self.links.audio))

    def _start_recording(self, state: CallState) -> None:
        """Ask Twilio to record the rest of the call, for the caller's own account."""
        try:
            self.services.twilio_client.calls(state.call_sid).recordings.create(
                recording_status_callback=self.links.recording(),
                recording_status_callback_event=["completed"],
            )
        except Exception as error:  # the account is still taken as speech
            logger.error("Call %s: recording could not start (%s)", state.call_sid, error)
        else:
            logger.info("Call %s: recording started", state.call_sid)

    def _escalate(self, state: CallState, reason: str) -> None:
        with self.services.db.session() as session:
            worker = session.get(Worker, state.worker_id)
            escalate(
                session, self.services.vault, self.services.queue, worker,
                reason=reason, language=state.language, channel=CHANNEL,
            )

    def _utterance(self, name: str, language: str) -> dict:
        utterance = self._utterance_of(render(name, language, channel=CHANNEL))
        utterance["prompt"] = "lead"
        return utterance

    @staticmethod
    def _utterance_of(prompt) -> dict:
        return {"text": prompt.text, "language": prompt.language, "audio": prompt.audio, "prompt": prompt.name}

    @staticmethod
    def _utterance_dict(text: str, language: Optional[str], audio: Optional[str]) -> dict:
        return {"text": text, "language": language, "audio": audio}

    # -- storage -------------------------------------------------------------

    def _store_inbound(self, session, state: CallState, body: str, provider_sid: str) -> Optional[int]:
        message = Message(
            conversation_id=state.conversation_id,
            direction="inbound",
            channel=CHANNEL,
            provider_sid=provider_sid,
            body_ciphertext=self.services.vault.encrypt(body),
            language=state.language,
            status="processed",
        )
        try:
            with session.begin_nested():
                session.add(message)
        except IntegrityError:
            return None
        return message.id

    def _store_replies(self, state: CallState, reply: BotReply) -> None:
        for utterance in reply.utterances:
            self._store_outbound_text(state, utterance.text)

    def _store_outbound_text(self, state: CallState, text: str) -> None:
        with self.services.db.session() as session:
            session.add(Message(
                conversation_id=state.conversation_id,
                direction="outbound",
                channel=CHANNEL,
                body_ciphertext=self.services.vault.encrypt(text),
                language=state.language,
                status="spoken",
            ))


def speech_confidence(raw: Optional[str]) -> Optional[float]:
    try:
        return float(raw) if raw not in (None, "") else None
    except ValueError:
        return None


def parse_step(raw: Optional[str]) -> int:
    return int(raw) if raw and raw.isdigit() else 0
