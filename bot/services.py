"""The services a process of the hotline shares: store, Redis, Rasa, Twilio."""

import logging
from dataclasses import dataclass
from functools import cached_property

import redis

from bot.config import Settings
from bot.db.session import Database
from bot.dialogue.rasa import RasaClient
from bot.escalations import EscalationQueue
from bot.language.detect import LanguageDetector
from bot.privacy import Vault, normalise_number, number_country, pseudonymise
from bot.telephony.rest import SmsSender, make_client

logger = logging.getLogger(__name__)


@dataclass
class Identity:
    """A worker's number with its pseudonym and country."""

    e164: str
    pseudonym: str
    country: str


class Services:
    def __init__(self, settings: Settings):
        self.settings = settings
        self.db = Database(settings.database_url)
        self.vault = Vault(settings.encryption_keys)
        self.redis = redis.Redis.from_url(
            settings.redis_url, socket_timeout=2, socket_connect_timeout=2, decode_responses=True
        )
        self.queue = EscalationQueue(self.redis, settings.redis_prefix)
        self.rasa = RasaClient(settings.rasa_url, settings.rasa_timeout_seconds)

    @cached_property
    def detector(self) -> LanguageDetector:
        return LanguageDetector.from_nlu_data()

    @cached_property
    def twilio_client(self):
        return make_client(
            self.settings.twilio_account_sid,
            self.settings.twilio_auth_token,
            self.settings.twilio_api_base_url,
        )

    @cached_property
    def sms_sender(self) -> SmsSender:
        return SmsSender(self.twilio_client, self.settings.twilio_sms_from)

    def identify(self, raw_number: str) -> Identity:
        e164 = normalise_number(raw_number)
        return Identity(
            e164=e164,
            pseudonym=pseudonymise(e164, self.settings.pseudonym_key),
            country=number_country(e164),
        )

    def key(self, *parts: str) -> str:
        return ":".join((self.settings.redis_prefix, *parts))

    def close(self) -> None:
        self.db.dispose()
        self.redis.close()
