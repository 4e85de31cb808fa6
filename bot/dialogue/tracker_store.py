"""Rasa's Redis tracker store, with every tracker encrypted at rest.

A tracker holds the worker's words and form answers, so Redis, and any
snapshot it writes to disk, keeps only Fernet tokens made with the same
ENCRYPTION_KEYS as the relational store. Rasa loads this class by name
from endpoints.yml.
"""

import os
from typing import Any, Optional, Text

from rasa.core.tracker_store import RedisTrackerStore
from rasa.shared.core.trackers import DialogueStateTracker

from bot.privacy import Vault


class EncryptedRedisTrackerStore(RedisTrackerStore):
    def __init__(self, domain=None, encryption_keys: Optional[Text] = None, **kwargs: Any) -> None:
        super().__init__(domain, **kwargs)
        # Values expanded from the environment arrive as strings.
        if self.record_exp:
            self.record_exp = int(float(self.record_exp))
        keys = encryption_keys or os.environ.get("ENCRYPTION_KEYS")
        if not keys:
            raise ValueError("ENCRYPTION_KEYS is missing: the tracker store needs it to encrypt trackers")
        self._vault = Vault(keys)

    def serialise_tracker(self, tracker: DialogueStateTracker) -> Text:
        plain = RedisTrackerStore.serialise_tracker(tracker)
        return self._vault.encrypt(plain).decode("ascii")

    def deserialise_tracker(self, sender_id: Text, serialised_tracker) -> Optional[DialogueStateTracker]:
        token = serialised_tracker.encode("ascii") if isinstance(serialised_tracker, str) else serialised_tracker
        return super().deserialise_tracker(sender_id, self._vault.decrypt(token))
