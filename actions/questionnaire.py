"""The post-audit retaliation questionnaire, asked when the hotline calls a worker back.

Each answer is stored the moment it is given, so a call that drops halfway
still counts. A yes to "punished for talking to the auditor" is retaliation:
a critical case and an escalation. A yes to "a problem you did not feel safe
to mention" leads into grievance intake.
"""

import logging
from typing import Any, Dict, List, Optional, Text

from rasa_sdk import Action, FormValidationAction, Tracker
from rasa_sdk.events import EventType, FollowupAction, SlotSet
from rasa_sdk.executor import CollectingDispatcher

from actions.answers import answer_of
from actions.asking import AskAgain
from actions.context import channel_of, context, conversation_id_of, language_of, turn_metadata, worker_of
from actions.grievance import FORM_SLOTS, MAX_RETRIES
from bot.cases import Grievance, create_case
from bot.db.models import Audit, Callback
from bot.escalations import escalate
from bot.questionnaire import record_answer, set_callback_status

logger = logging.getLogger(__name__)

YES_NO_QUESTIONS = ("safe_to_talk", "asked_about_audit", "punished", "unsafe_problem")
QUESTIONNAIRE_SLOTS = YES_NO_QUESTIONS + ("reschedule_time",)
# The case text agents read when the worker answered by keypad only.
RETALIATION_DESCRIPTION = (
    "Post-audit callback for audit {audit}: the worker answered yes to having been "
    "punished, fined, moved, threatened or treated worse for talking to the auditor."
)


def _callback_id(tracker: Tracker) -> Optional[int]:
    value = tracker.get_slot("callback_id") or turn_metadata(tracker).get("callback_id")
    return int(value) if value not in (None, "") else None


def _input_method(tracker: Tracker) -> Optional[str]:
    return turn_metadata(tracker).get("input")


class ActionStartQuestionnaire(Action):
    def name(self) -> Text:
        return "action_start_questionnaire"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        callback_id = _callback_id(tracker)
        if callback_id is None:
            logger.error("Conversation %s: questionnaire started without a callback id", tracker.sender_id)
        events = [SlotSet(slot, None) for slot in QUESTIONNAIRE_SLOTS]
        return events + [SlotSet("callback_id", str(callback_id) if callback_id else None), SlotSet("retries", 0)]


class ValidateQuestionnaireForm(FormValidationAction):
    def name(self) -> Text:
        return "validate_questionnaire_form"

    async def required_slots(self, domain_slots, dispatcher, tracker, domain) -> List[Text]:
        safe = tracker.get_slot("safe_to_talk")
        if safe is None:
            return ["safe_to_talk"]
        if safe == "yes":
            return ["safe_to_talk", "asked_about_audit", "punished", "unsafe_problem"]
        return ["safe_to_talk", "reschedule_time"]

    def _store(self, tracker: Tracker, question: str, answer: str) -> None:
        callback_id = _callback_id(tracker)
        if callback_id is None:
            return
        ctx = context()
        with ctx.db.session() as session:
            callback = session.get(Callback, callback_id)
            if callback is not None:
                record_answer(session, callback, question, answer, _input_method(tracker))

    def _yes_no(self, question: str, value, tracker: Tracker) -> Dict[Text, Any]:
        answer = answer_of(tracker, value)
        if answer is None:
            retries = int(tracker.get_slot("retries") or 0) + 1
            if retries < MAX_RETRIES:
                return {question: None, "retries": retries}
            answer = "unclear"
        self._store(tracker, question, answer)
        return {question: answer, "retries": 0}

    def validate_safe_to_talk(self, value, dispatcher, tracker, domain):
        return self._yes_no("safe_to_talk", value, tracker)

    def validate_asked_about_audit(self, value, dispatcher, tracker, domain):
        return self._yes_no("asked_about_audit", value, tracker)

    def validate_punished(self, value, dispatcher, tracker, domain):
        return self._yes_no("punished", value, tracker)

    def validate_unsafe_problem(self, value, dispatcher, tracker, domain):
        return self._yes_no("unsafe_problem", value, tracker)

    def validate_reschedule_time(self, value, dispatcher, tracker, domain):
        text = (value or "").strip()
        return {"reschedule_time": text or "unknown", "retries": 0}


class ActionAskSafeToTalk(AskAgain):
    slot = "safe_to_talk"
    retry_prompt = "utter_please_answer_yes_no"


class ActionAskAskedAboutAudit(AskAgain):
    slot = "asked_about_audit"
    retry_prompt = "utter_please_answer_yes_no"


class ActionAskPunished(AskAgain):
    slot = "punished"
    retry_prompt = "utter_please_answer_yes_no"


class ActionAskUnsafeProblem(AskAgain):
    slot = "unsafe_problem"
    retry_prompt = "utter_please_answer_yes_no"


class ActionSubmitQuestionnaire(Action):
    def name(self) -> Text:
        return "action_submit_questionnaire"

    async def run(self, dispatcher: CollectingDispatcher, tracker: Tracker, domain) -> List[EventType]:
        slot = tracker.get_slot
        callback_id = _callback_id(tracker)
        reset = [SlotSet(name, None) for name in QUESTIONNAIRE_SLOTS]

        if slot("safe_to_talk") != "yes":
            self._reschedule(callback_id, slot("reschedule_time"))
            dispatcher.utter_message(response="utter_questionnaire_reschedule_goodbye")
            return reset

        if slot("punished") == "yes":
            self._report_retaliation(tracker, callback_id)
            dispatcher.utter_message(response="utter_questionnaire_retaliation_noted")

        if slot("unsafe_problem") == "yes":
            # Straight into grievance intake, with the category from the account.
            intake = [SlotSet(name, None) for name in FORM_SLOTS]
            intake += [SlotSet("grievance_category", "other"), SlotSet("retries", 0)]
            return reset + intake + [FollowupAction("grievance_form")]

        if slot("punished") != "yes":
            dispatcher.utter_message(response="utter_questionnaire_thanks")
        return reset

    def _reschedule(self, callback_id: Optional[int], when: Optional[str]) -> None:
        if callback_id is None:
            return
        ctx = context()
        with ctx.db.session() as session:
            callback = session.get(Callback, callback_id)
            if callback is not None:
                callback.reschedule_ciphertext = ctx.vault.encrypt(when)
                set_callback_status(callback, "reschedule_requested")
        logger.info("Callback %s: worker asked to be called at another time", callback_id)

    def _report_retaliation(self, tracker: Tracker, callback_id: Optional[int]) -> None:
        ctx = context()
        with ctx.db.session() as session:
            worker = worker_of(session, tracker)
            if worker is None:
                return
            callback = session.get(Callback, callback_id) if callback_id else None
            audit = session.get(Audit, callback.audit_id) if callback else None
            grievance = Grievance(
                category="retaliation",
                description=RETALIATION_DESCRIPTION.format(audit=audit.reference if audit else "unknown"),
                factory_id=audit.factory_id if audit else None,
                language=language_of(tracker),
                channel=channel_of(tracker),
            )
            case = create_case(session, ctx.vault, worker, grievance, conversation_id_of(session, tracker))
            case.callback_id = callback_id
            escalate(
                session, ctx.vault, ctx.queue, worker,
                reason="critical_grievance", severity="critical", case=case,
                language=grievance.language, channel=grievance.channel,
            )
        logger.info("Callback %s: retaliation reported, case %s", callback_id, case.id)
