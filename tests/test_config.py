"""Settings: safe defaults for development, and no development secret in production."""

import pytest

from bot.config import DEV_ENCRYPTION_KEY, load_settings
from bot.errors import ConfigError

PRODUCTION_SECRETS = {
    "HOTLINE_ENV": "production",
    "PUBLIC_BASE_URL": "https://hotline.example.org",
    "TWILIO_AUTH_TOKEN": "a-real-token",
    "PSEUDONYM_KEY": "a-real-pseudonym-key",
    "ENCRYPTION_KEYS": "bGl2ZS1lbmNyeXB0aW9uLWtleS1mb3ItdGVzdHMtMTI=",
    "SECRET_KEY": "a-real-secret",
    "NLG_TOKEN": "a-real-nlg-token",
    "RASA_TOKEN": "a-real-rasa-token",
    "ROSTER_API_TOKEN": "a-real-roster-token",
}


def test_development_defaults_load():
    settings = load_settings(environ={})
    assert settings.env == "development"
    assert settings.encryption_keys == DEV_ENCRYPTION_KEY


def test_production_with_real_secrets_loads():
    assert load_settings(environ=PRODUCTION_SECRETS).is_production


@pytest.mark.parametrize("missing", ["TWILIO_AUTH_TOKEN", "PSEUDONYM_KEY", "ENCRYPTION_KEYS", "NLG_TOKEN"])
def test_production_refuses_development_secret(missing):
    environ = {k: v for k, v in PRODUCTION_SECRETS.items() if k != missing}
    with pytest.raises(ConfigError, match=missing):
        load_settings(environ=environ)


@pytest.mark.parametrize(
    "name, value, message",
    [
        ("HOTLINE_ENV", "staging", "use one of development, test, production"),
        ("RASA_TIMEOUT_SECONDS", "soon", "use a number"),
        ("RASA_TIMEOUT_SECONDS", "-1", "must be positive"),
        ("TWILIO_HANDLES_OPT_OUT", "maybe", "use true or false"),
        ("RASA_URL", "localhost:5005", "must start with http"),
        ("ENCRYPTION_KEYS", "short", "invalid key"),
        ("HOTLINE_DEFAULT_LANGUAGE", "fr", "use one of en, zh, vi"),
    ],
)
def test_invalid_value_is_rejected_with_the_fix(name, value, message):
    with pytest.raises(ConfigError, match=message):
        load_settings(environ={name: value})


def test_production_requires_https_public_url():
    environ = dict(PRODUCTION_SECRETS, PUBLIC_BASE_URL="http://hotline.example.org")
    with pytest.raises(ConfigError, match="https"):
        load_settings(environ=environ)
