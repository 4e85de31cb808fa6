"""Reading yes, no and not sure from a turn, by intent or keypad digit."""

from typing import Optional

from rasa_sdk import Tracker

from bot.language.catalogue import leading_answer

ANSWER_BY_INTENT = {"affirm": "yes", "deny": "no", "dont_know": "not_sure"}
ANSWER_BY_DIGIT = {"1": "yes", "2": "no", "3": "not_sure"}
# The model's confidence below which a one-word yes or no is not trusted.
MIN_CONFIDENCE = 0.5


def answer_of(tracker: Tracker, text: Optional[str]) -> Optional[str]:
    """Return ``yes``, ``no`` or ``not_sure`` for the latest turn, or None."""
    intent = (tracker.latest_message or {}).get("intent") or {}
    answer = ANSWER_BY_INTENT.get(intent.get("name"))
    if answer and (intent.get("confidence") or 0) >= MIN_CONFIDENCE:
        return answer
    digit = ANSWER_BY_DIGIT.get((text or "").strip())
    if digit:
        return digit
    return leading_answer(text or "") if text and not text.startswith("/") else None


def is_substantive(text: Optional[str]) -> bool:
    """Tell whether a message describes something, not just names a menu choice."""
    text = (text or "").strip()
    if not text or text.startswith("/"):
        return False
    han = sum(1 for ch in text if "\u4e00" <= ch <= "\u9fff")
    return han >= 6 or len(text.split()) >= 4
