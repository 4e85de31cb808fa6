"""Actions around the grievance: misunderstandings, case status, opt-out, safe exit."""

import logging
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import ActiveLoop, AllSlotsReset, EventType, SlotSet

from actions.context import channel_of, context, language_of, worker_of
from actions.grievance import save_partial_grievance
from bot.cases import STATUSES, find_case_of_worker, find_reference_in_text, format_reference, is_valid_reference
from bot.escalations import escalate
from bot.workers import set_opt_out

logger = logging.getLogger(__name__)


class ActionMisunderstood(Action):
    """Re-offers the menu, and hands the worker to a person after repeated misses."""

    def name(self) -> Text:
        return "action_misunderstood"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        ctx = context()
        count = int(tracker.get_slot("misunderstood_count") or 0) + 1
        if count < ctx.settings.misunderstood_limit:
            dispatcher.utter_message(response="utter_misunderstood")
            return [SlotSet("misunderstood_count", count)]

        with ctx.db.session() as session:
            worker = worker_of(session, tracker)
            if worker is not None:
                escalate(
                    session, ctx.vault, ctx.queue, worker, reason="misunderstood",
                    language=language_of(tracker), channel=channel_of(tracker),
                )
        logger.info("Conversation %s: escalated after %s misunderstood turns", tracker.sender_id, count)
        dispatcher.utter_message(response="utter_escalated_misunderstood")
        return [SlotSet("misunderstood_count", 0)]


class ActionCaseStatus(Action):
    """Tells a worker the status of their own case, never of anyone else's."""

    def name(self) -> Text:
        return "action_case_status"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        text = (tracker.latest_message or {}).get("text") or ""
        code = find_reference_in_text(text) or tracker.get_slot("reference_code")
        if code is None:
            dispatcher.utter_message(response="utter_ask_reference_code")
            return []

        ctx = context()
        with ctx.db.session() as session:
            worker = worker_of(session, tracker)
            case = None
            if worker is not None and is_valid_reference(code):
                case = find_case_of_worker(session, worker, code)
            status = case.status if case is not None else None

        if status not in STATUSES:
            logger.info("Conversation %s: asked for a case it does not own or that does not exist", tracker.sender_id)
            dispatcher.utter_message(response="utter_case_not_found")
            return []
        dispatcher.utter_message(response=f"utter_case_status_{status}", reference_code=format_reference(code))
        return [SlotSet("reference_code", code)]


class ActionOptOut(Action):
    def name(self) -> Text:
        return "action_opt_out"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        save_partial_grievance(tracker)
        ctx = context()
        with ctx.db.session() as session:
            worker = worker_of(session, tracker)
            if worker is not None:
                set_opt_out(session, worker, True)
        dispatcher.utter_message(response="utter_opted_out")
        return [ActiveLoop(None), AllSlotsReset()]


class ActionLeaveSafely(Action):
    """Ends at once with a neutral goodbye that does not name the hotline."""

    def name(self) -> Text:
        return "action_leave_safely"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        logger.info("Conversation %s: worker cannot talk now, leaving", tracker.sender_id)
        save_partial_grievance(tracker)
        dispatcher.utter_message(response="utter_unsafe_goodbye")
        return [ActiveLoop(None), AllSlotsReset()]


class ActionCallEnded(Action):
    """Keeps an interrupted report when a call ends, and says nothing."""

    def name(self) -> Text:
        return "action_call_ended"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        save_partial_grievance(tracker)
        return [ActiveLoop(None), AllSlotsReset()]
