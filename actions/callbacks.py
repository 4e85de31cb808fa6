"""Requests for a person: a callback at a time the worker says is safe."""

import logging
from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType, SlotSet

from actions.context import channel_of, context, language_of, worker_of
from bot.escalations import escalate

logger = logging.getLogger(__name__)


class ActionStartCallback(Action):
    def name(self) -> Text:
        return "action_start_callback"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        intent = ((tracker.latest_message or {}).get("intent") or {}).get("name")
        reason = "human_requested" if intent == "request_human" else "callback_requested"
        return [SlotSet("callback_reason", reason), SlotSet("retries", 0)]


class ActionRequestCallback(Action):
    def name(self) -> Text:
        return "action_request_callback"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        ctx = context()
        callback_time = tracker.get_slot("callback_time")
        with ctx.db.session() as session:
            worker = worker_of(session, tracker)
            if worker is None:
                dispatcher.utter_message(response="utter_service_unavailable")
                return []
            escalate(
                session, ctx.vault, ctx.queue, worker,
                reason=tracker.get_slot("callback_reason") or "callback_requested",
                language=language_of(tracker), channel=channel_of(tracker),
                callback_time=callback_time,
            )
        dispatcher.utter_message(response="utter_escalated_human", callback_time=callback_time)
        return [SlotSet("callback_time", None), SlotSet("callback_reason", None)]
