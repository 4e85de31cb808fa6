"""Grievance intake: the form, its validators, and storing the case."""

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, SlotSet
from rasa_sdk.executor import CollectingDispatcher
from rasa_sdk.types import DomainDict

from actions.answers import answer_of, is_substantive
from actions.asking import AskAgain
from actions.context import channel_of, context, conversation_id_of, language_of, worker_of
from bot.cases import CRITICAL_CATEGORIES, Grievance, create_case, find_factory, format_reference, severity_of
from bot.escalations import escalate

logger = logging.getLogger(__name__)

GRIEVANCE_PREFIX = "grievance_"
FORM_SLOTS = (
    "grievance_category",
    "grievance_description",
    "factory",
    "factory_id",
    "since_when",
    "still_happening",
    "others_affected",
    "callback_safe",
    "callback_time",
)
# Answers after which an unclear reply is stored as "unknown" and the form
# moves on, so a worker is never asked the same question forever.
MAX_RETRIES = 2
MIN_CATEGORY_CONFIDENCE = 0.5
# A critical category this likely anywhere in the ranking wins over the top
# intent: "he hits us and does not pay" must reach a person.
MIN_CRITICAL_CONFIDENCE = 0.2
PARTIAL_DESCRIPTION = "(The worker left before describing it.)"


def _category_of(intent: Optional[dict]) -> Optional[str]:
    name = (intent or {}).get("name") or ""
    if not name.startswith(GRIEVANCE_PREFIX):
        return None
    if (intent.get("confidence") or 0) < MIN_CATEGORY_CONFIDENCE:
        return None
    return name[len(GRIEVANCE_PREFIX):]


def category_of_message(message: Optional[dict]) -> Optional[str]:
    """Return a message's grievance category: a likely critical one first, else the top intent's."""
    message = message or {}
    for ranked in message.get("intent_ranking") or []:
        name = ranked.get("name") or ""
        category = name[len(GRIEVANCE_PREFIX):] if name.startswith(GRIEVANCE_PREFIX) else None
        if category in CRITICAL_CATEGORIES and (ranked.get("confidence") or 0) >= MIN_CRITICAL_CONFIDENCE:
            return category
    return _category_of(message.get("intent"))


def refine_category(current: Optional[str], seen: Optional[str]) -> str:
    """Keep the most telling category: a critical one, else a specific one."""
    current = current or "other"
    if seen is None or seen == current:
        return current
    if seen in CRITICAL_CATEGORIES and current not in CRITICAL_CATEGORIES:
        return seen
    if current == "other":
        return seen
    return current


class ActionStartGrievance(Action):
    def name(self) -> Text:
        return "action_start_grievance"

    async def run(self, dispatcher, tracker: Tracker, domain: DomainDict) -> List[EventType]:
        message = tracker.latest_message or {}
        category = category_of_message(message) or "other"
        text = message.get("text")
        events = [SlotSet(slot, None) for slot in FORM_SLOTS]
        events += [SlotSet("grievance_category", category), SlotSet("retries", 0)]
        if category != "other" and is_substantive(text):
            # The message already describes what happened, so the form skips
            # that question. "I want to report a problem" describes nothing.
            events.append(SlotSet("grievance_description", text))
        return events


class ValidateGrievanceForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_grievance_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        if tracker.get_slot("callback_safe") == "yes":
            return domain_slots
        return [slot for slot in domain_slots if slot != "callback_time"]

    def _retry(self, tracker, slot: str) -> Dict[Text, Any]:
        # The form asks again, and the ask actions below word the second request.
        retries = int(tracker.get_slot("retries") or 0) + 1
        if retries >= MAX_RETRIES:
            logger.info("Conversation %s: %s left unknown after %s tries", tracker.sender_id, slot, retries)
            return {slot: "unknown", "retries": 0}
        return {slot: None, "retries": retries}

    def validate_grievance_description(self, value, dispatcher, tracker, domain):
        text = (value or "").strip()
        if len(text) < 2:
            return self._retry(tracker, "grievance_description")
        seen = category_of_message(tracker.latest_message)
        category = refine_category(tracker.get_slot("grievance_category"), seen)
        return {"grievance_description": text, "grievance_category": category, "retries": 0}

    def validate_factory(self, value, dispatcher, tracker, domain):
        text = (value or "").strip()
        ctx = context()
        with ctx.db.session() as session:
            factory = find_factory(session, text)
            if factory is not None:
                return {"factory": text, "factory_id": str(factory.id), "retries": 0}
        looks_like_code = bool(text) and " " not in text and any(ch.isdigit() for ch in text)
        if looks_like_code and not tracker.get_slot("retries"):
            return {"factory": None, "retries": 1}
        if not text:
            return self._retry(tracker, "factory")
        # An unknown name is kept as the worker wrote it, for an agent to match.
        return {"factory": text, "factory_id": None, "retries": 0}

    def validate_since_when(self, value, dispatcher, tracker, domain):
        text = (value or "").strip()
        if not text:
            return self._retry(tracker, "since_when")
        return {"since_when": text, "retries": 0}

    def _yes_no(self, slot, value, dispatcher, tracker):
        answer = answer_of(tracker, value)
        if answer is None:
            return self._retry(tracker, slot)
        return {slot: answer, "retries": 0}

    def validate_still_happening(self, value, dispatcher, tracker, domain):
        return self._yes_no("still_happening", value, dispatcher, tracker)

    def validate_others_affected(self, value, dispatcher, tracker, domain):
        return self._yes_no("others_affected", value, dispatcher, tracker)

    def validate_callback_safe(self, value, dispatcher, tracker, domain):
        return self._yes_no("callback_safe", value, dispatcher, tracker)

    def validate_callback_time(self, value, dispatcher, tracker, domain):
        text = (value or "").strip()
        if not text:
            return self._retry(tracker, "callback_time")
        return {"callback_time": text, "retries": 0}


class ActionAskFactory(AskAgain):
    slot = "factory"
    retry_prompt = "utter_factory_not_found"


class ActionAskStillHappening(AskAgain):
    slot = "still_happening"
    retry_prompt = "utter_please_answer_yes_no"


class ActionAskOthersAffected(AskAgain):
    slot = "others_affected"
    retry_prompt = "utter_please_answer_yes_no"


class ActionAskCallbackSafe(AskAgain):
    slot = "callback_safe"
    retry_prompt = "utter_please_answer_yes_no"


class ActionSubmitGrievance(Action):
    def name(self) -> Text:
        return "action_submit_grievance"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List[EventType]:
        ctx = context()
        slot = tracker.get_slot
        callback_safe = slot("callback_safe")
        grievance = Grievance(
            category=slot("grievance_category") or "other",
            description=slot("grievance_description") or "",
            factory_text=slot("factory"),
            factory_id=int(slot("factory_id")) if slot("factory_id") else None,
            since_when=slot("since_when"),
            still_happening=slot("still_happening"),
            others_affected=slot("others_affected"),
            callback_safe=callback_safe,
            callback_time=slot("callback_time") if callback_safe == "yes" else None,
            language=language_of(tracker),
            channel=channel_of(tracker),
        )

        with ctx.db.session() as session:
            worker = worker_of(session, tracker)
            if worker is None:
                dispatcher.utter_message(response="utter_service_unavailable")
                return []
            if grievance.factory_id is None and grievance.factory_text:
                factory = find_factory(session, grievance.factory_text)
                grievance.factory_id = factory.id if factory else None
            case = create_case(
                session, ctx.vault, worker, grievance, conversation_id_of(session, tracker)
            )
            code = case.reference_code
            if case.severity == "critical":
                escalate(
                    session, ctx.vault, ctx.queue, worker,
                    reason="critical_grievance", severity="critical", case=case,
                    language=grievance.language, channel=grievance.channel,
                    callback_time=grievance.callback_time,
                )
            elif callback_safe == "yes":
                escalate(
                    session, ctx.vault, ctx.queue, worker,
                    reason="callback_requested", case=case,
                    language=grievance.language, channel=grievance.channel,
                    callback_time=grievance.callback_time,
                )

        dispatcher.utter_message(response="utter_case_created", reference_code=format_reference(code))
        if case.severity == "critical":
            dispatcher.utter_message(response="utter_escalated_critical")
        elif callback_safe == "yes":
            dispatcher.utter_message(response="utter_case_created_callback", callback_time=grievance.callback_time)
        else:
            dispatcher.utter_message(response="utter_case_created_no_callback")

        events = [SlotSet(name, None) for name in FORM_SLOTS]
        return events + [SlotSet("reference_code", code), SlotSet("retries", 0)]


def save_partial_grievance(tracker: Tracker) -> Optional[int]:
    """Store what an interrupted intake already holds, and escalate it if critical.

    Called when a worker leaves in the middle of a report (not safe to talk,
    or stop): nothing serious they said may be lost.
    """
    if (tracker.active_loop or {}).get("name") != "grievance_form":
        return None
    slot = tracker.get_slot
    category = slot("grievance_category") or "other"
    description = slot("grievance_description")
    if not description and severity_of(category) != "critical":
        return None

    ctx = context()
    grievance = Grievance(
        category=category,
        description=description or PARTIAL_DESCRIPTION,
        factory_text=slot("factory"),
        factory_id=int(slot("factory_id")) if slot("factory_id") else None,
        since_when=slot("since_when"),
        still_happening=slot("still_happening"),
        others_affected=slot("others_affected"),
        language=language_of(tracker),
        channel=channel_of(tracker),
    )
    with ctx.db.session() as session:
        worker = worker_of(session, tracker)
        if worker is None:
            return None
        case = create_case(session, ctx.vault, worker, grievance, conversation_id_of(session, tracker))
        if case.severity == "critical":
            # NOTE: the worker left before giving a safe time for a call back,
            # so the escalation has none and an agent must not call blindly.
            escalate(
                session, ctx.vault, ctx.queue, worker,
                reason="critical_grievance", severity="critical", case=case,
                language=grievance.language, channel=grievance.channel,
            )
        logger.info("Conversation %s: interrupted report kept as case %s", tracker.sender_id, case.id)
        return case.id
