"""The relational store: workers, conversations, messages, cases, escalations."""

from bot.db.models import (  # noqa: F401
    Audit,
    Base,
    Callback,
    CallAttempt,
    Case,
    Conversation,
    Escalation,
    Factory,
    Message,
    QuestionnaireAnswer,
    Worker,
)
from bot.db.session import Database, upgrade_schema  # noqa: F401
