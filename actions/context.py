"""Shared context of the custom actions: the store, the queue, the worker and the language."""

import logging
from functools import lru_cache
from typing import Optional

import redis
from rasa_sdk import Tracker

from bot.config import load_settings
from bot.db.models import Message, Worker
from bot.db.session import Database
from bot.escalations import EscalationQueue
from bot.privacy import Vault
from bot.workers import find_worker

logger = logging.getLogger(__name__)


class ActionContext:
    """Services of the action server, built once from the environment."""

    def __init__(self):
        self.settings = load_settings()
        self.db = Database(self.settings.database_url)
        self.vault = Vault(self.settings.encryption_keys)
        client = redis.Redis.from_url(
            self.settings.redis_url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
        )
        self.queue = EscalationQueue(client, self.settings.redis_prefix)


@lru_cache(maxsize=1)
def context() -> ActionContext:
    return ActionContext()


def turn_metadata(tracker: Tracker) -> dict:
    return (tracker.latest_message or {}).get("metadata") or {}


def language_of(tracker: Tracker) -> Optional[str]:
    return turn_metadata(tracker).get("language")


def channel_of(tracker: Tracker) -> str:
    return turn_metadata(tracker).get("channel") or "sms"


def pseudonym_of(tracker: Tracker) -> str:
    """Return the worker's pseudonym; a call's conversation id adds ``.call-…`` to it."""
    return tracker.sender_id.split(".", 1)[0]


def worker_of(session, tracker: Tracker) -> Optional[Worker]:
    worker = find_worker(session, pseudonym_of(tracker))
    if worker is None:
        logger.error("Conversation %s: no worker with this pseudonym", tracker.sender_id)
    return worker


def conversation_id_of(session, tracker: Tracker) -> Optional[int]:
    message_id = turn_metadata(tracker).get("message_id")
    if message_id is None:
        return None
    message = session.get(Message, int(message_id))
    return message.conversation_id if message is not None else None
