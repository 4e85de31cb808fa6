"""Pseudonyms and encryption at rest for workers' phone numbers and words.

A worker is known everywhere outside the workers table by a keyed HMAC of
their E.164 number: Rasa's conversation id, Redis keys, escalation records
and logs all use it. The number itself, and every message body and report,
is stored only encrypted with a Fernet key ring (the first key encrypts,
all of them decrypt, so keys can be rotated).
"""

import hashlib
import hmac
from typing import Optional

import phonenumbers
from cryptography.fernet import Fernet, InvalidToken, MultiFernet

PSEUDONYM_PREFIX = "w"
PSEUDONYM_HEX_DIGITS = 32


def normalise_number(raw: str, default_region: Optional[str] = None) -> str:
    """Parse a phone number to E.164.

    Twilio sends E.164 already; anything that does not parse (a short code,
    an alphanumeric sender) is kept verbatim so the message is not lost.
    """
    raw = raw.strip()
    try:
        parsed = phonenumbers.parse(raw, default_region)
    except phonenumbers.NumberParseException:
        return raw
    if not phonenumbers.is_possible_number(parsed):
        return raw
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def number_country(e164: str) -> Optional[str]:
    """Return the ISO 3166 region of an E.164 number, or None when unknown."""
    try:
        parsed = phonenumbers.parse(e164, None)
    except phonenumbers.NumberParseException:
        return None
    # An unallocated number has no region of its own; its country code's
    # main region is still the best prior for the worker's language.
    region = phonenumbers.region_code_for_number(parsed)
    if region is None:
        region = phonenumbers.region_code_for_country_code(parsed.country_code)
    return None if region in (None, "ZZ", "001") else region


def pseudonymise(e164: str, key: str) -> str:
    """Return the stable pseudonym of a number under ``key``."""
    digest = hmac.new(key.encode(), e164.encode(), hashlib.sha256).hexdigest()
    return f"{PSEUDONYM_PREFIX}{digest[:PSEUDONYM_HEX_DIGITS]}"


class Vault:
    """Encrypts and decrypts text with the configured key ring."""

    def __init__(self, keys: str):
        self._fernet = MultiFernet(
            [Fernet(key.strip().encode()) for key in keys.split(",") if key.strip()]
        )

    def encrypt(self, text: Optional[str]) -> Optional[bytes]:
        if text is None:
            return None
        return self._fernet.encrypt(text.encode("utf-8"))

    def decrypt(self, token: Optional[bytes]) -> Optional[str]:
        if token is None:
            return None
        try:
            return self._fernet.decrypt(bytes(token)).decode("utf-8")
        except InvalidToken:
            raise ValueError(
                "stored ciphertext does not decrypt with any key in ENCRYPTION_KEYS"
            ) from None
