"""The relational store: workers, conversations, messages, cases, escalations."""

from bot.db.models import (  # noqa: F401
    Base,
    Case,
    Conversation,
    Escalation,
    Factory,
    Message,
    Worker,
)
from bot.db.session import Database, upgrade_schema  # noqa: F401
