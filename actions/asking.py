"""Asking for a form slot again, in other words, when the first answer was unclear."""

from typing import List, Text

from rasa_sdk import Action, Tracker
from rasa_sdk.events import EventType

from actions.context import channel_of


class AskAgain(Action):
    """Asks for a form slot, with a hint first when the last answer was unclear.

    On a call the question itself follows the hint, since a caller cannot
    scroll back to it.
    """

    slot: str = ""
    retry_prompt: str = ""

    def name(self) -> Text:
        return f"action_ask_{self.slot}"

    async def run(self, dispatcher, tracker: Tracker, domain) -> List[EventType]:
        question = f"utter_ask_{self.slot}"
        if not tracker.get_slot("retries"):
            dispatcher.utter_message(response=question)
            return []
        dispatcher.utter_message(response=self.retry_prompt)
        if channel_of(tracker) == "voice":
            dispatcher.utter_message(response=question)
        return []
