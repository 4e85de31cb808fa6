"""One inbound SMS, from storage to the replies that go back.

The message is stored and committed first, so a later failure loses nothing.
Keywords, opt-out and language come next, then the dialogue.
"""

import logging
import unicodedata
from dataclasses import dataclass, field
from typing import Dict, List, Optional

import redis
from sqlalchemy.exc import IntegrityError

from bot.db.models import Message, Worker
from bot.dialogue.rasa import BotReply, Utterance
from bot.errors import DialogueUnavailable
from bot.escalations import escalate
from bot.language.catalogue import keywords, matches_keyword, render
from bot.language.detect import named_language
from bot.services import Services
from bot.sms.segments import compose, segment_count
from bot.workers import current_conversation, find_or_create_worker, set_opt_out

logger = logging.getLogger(__name__)

CHANNEL = "sms"


@dataclass
class InboundSms:
    message_sid: str
    from_number: str
    body: str
    opt_out_type: Optional[str] = None


@dataclass
class Outcome:
    """The SMS parts to send back, stored as outbound message rows."""

    parts: List[str]
    message_ids: List[int]
    duplicate: bool = False


@dataclass
class _Turn:
    message_id: int
    worker_id: int
    conversation_id: int
    pseudonym: str
    country: Optional[str]
    language: Optional[str]
    opted_out: bool


def receive_sms(services: Services, inbound: InboundSms, on_stored=None) -> Outcome:
    """Store an inbound SMS, run it through the dialogue, and store the replies.

    Args:
        on_stored: called once the message is committed, before anything
            that may fail afterwards.
    """
    turn = _store_inbound(services, inbound)
    if turn is None:
        logger.info("Message %s: duplicate delivery, ignored", inbound.message_sid)
        return Outcome(parts=[], message_ids=[], duplicate=True)
    if on_stored is not None:
        on_stored()

    try:
        texts, menu = _decide(services, inbound, turn)
    except Exception:
        _set_inbound_status(services, turn.message_id, "failed")
        raise

    parts = compose(texts) if texts else []
    message_ids = _store_outbound(services, turn, parts)
    _remember_menu(services, turn.pseudonym, menu)
    _set_inbound_status(services, turn.message_id, "processed" if texts or menu is not None else "ignored")
    return Outcome(parts=parts, message_ids=message_ids)


def _store_inbound(services: Services, inbound: InboundSms) -> Optional[_Turn]:
    identity = services.identify(inbound.from_number)
    try:
        with services.db.session() as session:
            worker = find_or_create_worker(
                session, services.vault, identity.pseudonym, identity.e164, identity.country
            )
            conversation = current_conversation(
                session, worker, CHANNEL, services.settings.session_minutes
            )
            message = Message(
                conversation_id=conversation.id,
                direction="inbound",
                channel=CHANNEL,
                provider_sid=inbound.message_sid,
                body_ciphertext=services.vault.encrypt(inbound.body),
                language=worker.language,
                status="received",
            )
            session.add(message)
            session.flush()
            return _Turn(
                message_id=message.id,
                worker_id=worker.id,
                conversation_id=conversation.id,
                pseudonym=worker.pseudonym,
                country=worker.country,
                language=worker.language,
                opted_out=worker.opted_out,
            )
    except IntegrityError:
        return None


def _decide(services: Services, inbound: InboundSms, turn: _Turn):
    """Return the texts to send and the menu they leave open (None keeps the old one)."""
    body = unicodedata.normalize("NFKC", inbound.body)
    # Twilio answers its own keywords only when the whole message is one.
    twilio_answers = bool(inbound.opt_out_type) or (
        services.settings.twilio_handles_opt_out
        and body.strip().casefold() in keywords()["twilio_defaults"]
    )

    if matches_keyword(body, "opt_out"):
        already = turn.opted_out
        _update_worker(services, turn, opted_out=True)
        _close_dialogue(services, turn)
        if already or twilio_answers:
            return [], Menu()
        return [_text(services, "utter_opted_out", turn)], Menu()
    if matches_keyword(body, "opt_in"):
        # Sent even after Twilio's own confirmation: ours is in the worker's
        # language and carries the menu.
        _update_worker(services, turn, opted_out=False)
        prompt = render("utter_opted_in", _language(services, turn))
        return [prompt.sms], Menu(prompt.name, prompt.keypad)
    if turn.opted_out:
        # NOTE: a worker who opted out and writes again gets no reply, because
        # Twilio blocks replies until START. The message is only stored.
        logger.info("Message %s: worker %s opted out, stored without reply", turn.message_id, turn.pseudonym)
        return [], None
    if matches_keyword(body, "help"):
        if twilio_answers:
            return [], None
        prompt = render("utter_help", _language(services, turn))
        return [prompt.sms], Menu(prompt.name, prompt.keypad)

    menu = _open_menu(services, turn.pseudonym)
    text, texts_before = _language_turn(services, body, turn, menu)
    text = menu.intent_for(text) or text
    reply = _ask_dialogue(services, turn, text)
    prompt = reply.prompts[-1] if reply.prompts else None
    return texts_before + reply.texts, Menu(prompt, reply.keypad)


def _language_turn(services: Services, body: str, turn: _Turn, menu: "Menu"):
    """Settle the worker's language; return the text for Rasa and texts to send first."""
    named = named_language(body)
    if not any(ch.isalnum() for ch in body):
        # An empty or emoji-only message is a worker testing the line.
        text = "/greet"
    else:
        text = body
    if turn.language is None:
        language = named or services.detector.detect(body, turn.country, services.settings.default_language)
        _update_worker(services, turn, language=language)
        logger.info("Worker %s: language set to %s", turn.pseudonym, language)
        return ("/greet" if named else text), []
    if named is not None and not menu.asks_free_text:
        _update_worker(services, turn, language=named)
        logger.info("Worker %s: switched language to %s", turn.pseudonym, named)
        return "/greet", [render("utter_language_switched", named).sms]
    return text, []


@dataclass
class Menu:
    """The last prompt sent to a worker, and the keypad digits it announced."""

    prompt: Optional[str] = None
    keypad: Dict[str, str] = field(default_factory=dict)

    @property
    def asks_free_text(self) -> bool:
        # A language name sent in answer to an open question ("since when?")
        # is an answer, not a request to switch.
        return bool(self.prompt) and self.prompt.startswith("utter_ask_") and not self.keypad

    def intent_for(self, text: str) -> Optional[str]:
        """Return the intent payload a digit stands for after this menu.

        A lone digit the menu does not offer is a misunderstanding, not a
        word for the model to guess at.
        """
        digit = text.strip()
        intent = self.keypad.get(digit)
        if intent:
            return f"/{intent}"
        if self.keypad and len(digit) == 1 and digit.isdigit():
            return "/nlu_fallback"
        return None


def _menu_key(services: Services, pseudonym: str) -> str:
    return services.key("menu", pseudonym)


def _open_menu(services: Services, pseudonym: str) -> Menu:
    try:
        stored = services.redis.hgetall(_menu_key(services, pseudonym))
    except redis.RedisError as error:
        logger.warning("Worker %s: last menu unavailable (%s)", pseudonym, error)
        return Menu()
    prompt = stored.pop("_prompt", None)
    return Menu(prompt=prompt, keypad=stored)


def _close_dialogue(services: Services, turn: _Turn) -> None:
    """Tell Rasa the worker opted out, so an open form is closed and its contents are kept."""
    metadata = {"language": turn.language, "channel": CHANNEL, "message_id": turn.message_id}
    try:
        services.rasa.send(turn.pseudonym, "/opt_out", metadata)
    except DialogueUnavailable as error:
        logger.warning("Worker %s: opt-out not sent to Rasa (%s)", turn.pseudonym, error)


def _ask_dialogue(services: Services, turn: _Turn, text: str) -> BotReply:
    metadata = {
        "language": turn.language,
        "channel": CHANNEL,
        "message_id": turn.message_id,
        "country": turn.country,
    }
    try:
        reply = services.rasa.send(turn.pseudonym, text, metadata)
        if not reply.texts:
            # Rasa carries on when a custom action fails, so a turn with no
            # answer means something was lost on its side.
            raise DialogueUnavailable("Rasa returned no message", conversation_id=turn.pseudonym)
        return reply
    except DialogueUnavailable as error:
        logger.error("Message %s: %s; escalating to a person", turn.message_id, error)
        _escalate_unavailable(services, turn)
        prompt = render("utter_service_unavailable", _language(services, turn))
        return BotReply(utterances=[Utterance(text=prompt.sms, prompt=prompt.name)], keypad={})


def _escalate_unavailable(services: Services, turn: _Turn) -> None:
    with services.db.session() as session:
        worker = session.get(Worker, turn.worker_id)
        escalate(
            session,
            services.vault,
            services.queue,
            worker,
            reason="dialogue_unavailable",
            language=turn.language,
            channel=CHANNEL,
        )


def _language(services: Services, turn: _Turn) -> str:
    return turn.language or services.settings.default_language


def _text(services: Services, name: str, turn: _Turn) -> str:
    return render(name, _language(services, turn)).sms


def _update_worker(services: Services, turn: _Turn, **changes) -> None:
    with services.db.session() as session:
        worker = session.get(Worker, turn.worker_id)
        if "opted_out" in changes:
            set_opt_out(session, worker, changes["opted_out"])
            turn.opted_out = changes["opted_out"]
        if "language" in changes:
            worker.language = changes["language"]
            turn.language = changes["language"]
            session.get(Message, turn.message_id).language = changes["language"]


def _store_outbound(services: Services, turn: _Turn, parts: List[str]) -> List[int]:
    ids = []
    with services.db.session() as session:
        for index, part in enumerate(parts):
            message = Message(
                conversation_id=turn.conversation_id,
                direction="outbound",
                channel=CHANNEL,
                body_ciphertext=services.vault.encrypt(part),
                language=turn.language,
                status="queued",
                segments=segment_count(part),
                part_index=index,
            )
            session.add(message)
            session.flush()
            ids.append(message.id)
    return ids


def _remember_menu(services: Services, pseudonym: str, menu: Optional[Menu]) -> None:
    if menu is None:
        return
    key = _menu_key(services, pseudonym)
    try:
        pipeline = services.redis.pipeline()
        pipeline.delete(key)
        fields = dict(menu.keypad)
        if menu.prompt:
            fields["_prompt"] = menu.prompt
        if fields:
            pipeline.hset(key, mapping=fields)
            pipeline.expire(key, services.settings.session_minutes * 60)
        pipeline.execute()
    except redis.RedisError as error:
        logger.warning("Worker %s: last menu not saved (%s)", pseudonym, error)


def _set_inbound_status(services: Services, message_id: int, status: str) -> None:
    with services.db.session() as session:
        session.get(Message, message_id).status = status
