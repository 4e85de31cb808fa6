"""The post-audit retaliation questionnaire: its questions and stored answers.

Every question of a callback ends with a stored answer, so analysts can count
retaliation per audit. The answer is the worker's own, or ``unclear`` when no
usable answer came after retries. A question the flow skipped is
``not_asked``, and one the call ended before is ``no_answer``.
"""

import logging
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Callback, QuestionnaireAnswer

logger = logging.getLogger(__name__)

QUESTIONS = ("safe_to_talk", "asked_about_audit", "punished", "unsafe_problem")
ANSWERS = ("yes", "no", "not_sure", "unclear", "no_answer", "not_asked")
FINAL_CALLBACK_STATUSES = frozenset(
    {"completed", "reschedule_requested", "no_answer", "busy", "failed", "machine", "unreached", "opted_out"}
)


def record_answer(
    session: Session, callback: Callback, question: str, answer: str, input_method: Optional[str] = None
) -> None:
    """Store one answer; a later answer to the same question replaces it."""
    if question not in QUESTIONS:
        raise ValueError(f"question {question!r} is invalid: use one of {', '.join(QUESTIONS)}")
    if answer not in ANSWERS:
        raise ValueError(f"answer {answer!r} is invalid: use one of {', '.join(ANSWERS)}")

    existing = session.execute(
        select(QuestionnaireAnswer).where(
            QuestionnaireAnswer.callback_id == callback.id, QuestionnaireAnswer.question == question
        )
    ).scalar_one_or_none()
    if existing is not None:
        existing.answer = answer
        existing.input_method = input_method
        return
    try:
        with session.begin_nested():
            session.add(QuestionnaireAnswer(
                callback_id=callback.id, audit_id=callback.audit_id,
                question=question, answer=answer, input_method=input_method,
            ))
    except IntegrityError:
        # The same step was stored by a concurrent request.
        pass
    logger.info("Callback %s: %s answered %s by %s", callback.id, question, answer, input_method or "unknown")


def fill_unanswered(session: Session, callback: Callback) -> int:
    """Record ``no_answer`` (or ``not_asked`` after a "not now") for every open question."""
    answered = {
        row.question: row.answer
        for row in session.execute(
            select(QuestionnaireAnswer).where(QuestionnaireAnswer.callback_id == callback.id)
        ).scalars()
    }
    skipped = answered.get("safe_to_talk") in ("no", "not_sure", "unclear")
    filled = 0
    for question in QUESTIONS:
        if question not in answered:
            record_answer(session, callback, question, "not_asked" if skipped else "no_answer")
            filled += 1
    return filled


def set_callback_status(callback: Callback, status: str) -> bool:
    """Move a callback to ``status`` unless it already has a final outcome."""
    if callback.status in FINAL_CALLBACK_STATUSES:
        logger.info("Callback %s: status %s ignored after %s", callback.id, status, callback.status)
        return False
    callback.status = status
    return True
