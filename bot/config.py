"""Configuration of the gateway, read once at start-up from the environment."""

import logging
import os
from dataclasses import dataclass, fields, replace
from pathlib import Path
from typing import Mapping, Optional

from bot.errors import ConfigError

logger = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parent.parent
VAR_DIR = PROJECT_ROOT / "var"

ENVIRONMENTS = ("development", "test", "production")

# Development defaults. They let a fresh checkout run and let the simulator sign
# requests with the same token, and production refuses every one of them.
DEV_TWILIO_AUTH_TOKEN = "dev-twilio-auth-token-not-secret"
DEV_PSEUDONYM_KEY = "dev-pseudonym-key-not-secret"
DEV_ENCRYPTION_KEY = "ZGV2LWVuY3J5cHRpb24ta2V5LW5vdC1zZWNyZXQtISE="
DEV_SECRET_KEY = "dev-flask-secret-key-not-secret"
DEV_NLG_TOKEN = "dev-nlg-token-not-secret"
DEV_RASA_TOKEN = "dev-rasa-token-not-secret"
DEV_ROSTER_API_TOKEN = "dev-roster-api-token-not-secret"

DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'hotline.db'}"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6390/0"
DEFAULT_RASA_URL = "http://127.0.0.1:5005"
DEFAULT_PUBLIC_BASE_URL = "http://127.0.0.1:5000"
DEFAULT_TWILIO_API_BASE_URL = "https://api.twilio.com"
DEFAULT_TWILIO_ACCOUNT_SID = "AC00000000000000000000000000000000"
DEFAULT_SMS_FROM = "+15005550006"

# Twilio gives up on a webhook after 15 s, one retry included, so a turn of the
# dialogue gets well under half of that.
DEFAULT_RASA_TIMEOUT_SECONDS = 6.0
DEFAULT_MISUNDERSTOOD_LIMIT = 3
# Rasa's default session length; the gateway groups messages into
# conversations the same way.
DEFAULT_SESSION_MINUTES = 60


@dataclass(frozen=True)
class Settings:
    """Every setting of the gateway, with the environment variable that sets it."""

    env: str = "development"
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str = DEFAULT_REDIS_URL
    redis_prefix: str = "hotline"
    rasa_url: str = DEFAULT_RASA_URL
    rasa_token: str = DEV_RASA_TOKEN
    rasa_timeout_seconds: float = DEFAULT_RASA_TIMEOUT_SECONDS
    public_base_url: str = DEFAULT_PUBLIC_BASE_URL
    twilio_account_sid: str = DEFAULT_TWILIO_ACCOUNT_SID
    twilio_auth_token: str = DEV_TWILIO_AUTH_TOKEN
    twilio_api_base_url: str = DEFAULT_TWILIO_API_BASE_URL
    twilio_sms_from: str = DEFAULT_SMS_FROM
    twilio_handles_opt_out: bool = True
    pseudonym_key: str = DEV_PSEUDONYM_KEY
    encryption_keys: str = DEV_ENCRYPTION_KEY
    secret_key: str = DEV_SECRET_KEY
    nlg_token: str = DEV_NLG_TOKEN
    default_language: str = "en"
    voice_recording: bool = False
    caller_id: str = DEFAULT_SMS_FROM
    quiet_hours: str = "21:00-08:00"
    blocked_days: str = ""
    max_attempts: int = 3
    retry_after_error_minutes: int = 10
    calls_per_second: float = 1.0
    callback_delay_days: int = 5
    roster_api_token: str = DEV_ROSTER_API_TOKEN
    translate_base_url: str = ""
    sla_critical_hours: int = 4
    sla_normal_hours: int = 72
    misunderstood_limit: int = DEFAULT_MISUNDERSTOOD_LIMIT
    session_minutes: int = DEFAULT_SESSION_MINUTES

    @property
    def is_production(self) -> bool:
        return self.env == "production"

    def calling_rules(self):
        """Return the quiet hours and blocked days as ``CallingRules``."""
        from bot.campaigns.schedule import CallingRules, parse_blocked_days, parse_quiet_hours

        quiet_start, quiet_end = parse_quiet_hours(self.quiet_hours)
        weekdays, dates = parse_blocked_days(self.blocked_days)
        return CallingRules(quiet_start, quiet_end, weekdays, dates)


ENV_NAMES = {
    "env": "HOTLINE_ENV",
    "database_url": "DATABASE_URL",
    "redis_url": "REDIS_URL",
    "redis_prefix": "REDIS_PREFIX",
    "rasa_url": "RASA_URL",
    "rasa_token": "RASA_TOKEN",
    "rasa_timeout_seconds": "RASA_TIMEOUT_SECONDS",
    "public_base_url": "PUBLIC_BASE_URL",
    "twilio_account_sid": "TWILIO_ACCOUNT_SID",
    "twilio_auth_token": "TWILIO_AUTH_TOKEN",
    "twilio_api_base_url": "TWILIO_API_BASE_URL",
    "twilio_sms_from": "TWILIO_SMS_FROM",
    "twilio_handles_opt_out": "TWILIO_HANDLES_OPT_OUT",
    "pseudonym_key": "PSEUDONYM_KEY",
    "encryption_keys": "ENCRYPTION_KEYS",
    "secret_key": "SECRET_KEY",
    "nlg_token": "NLG_TOKEN",
    "default_language": "HOTLINE_DEFAULT_LANGUAGE",
    "voice_recording": "VOICE_RECORDING",
    "caller_id": "CALLER_ID",
    "quiet_hours": "QUIET_HOURS",
    "blocked_days": "BLOCKED_DAYS",
    "max_attempts": "MAX_CALL_ATTEMPTS",
    "retry_after_error_minutes": "RETRY_AFTER_ERROR_MINUTES",
    "calls_per_second": "CALLS_PER_SECOND",
    "callback_delay_days": "CALLBACK_DELAY_DAYS",
    "roster_api_token": "ROSTER_API_TOKEN",
    "translate_base_url": "TRANSLATE_BASE_URL",
    "sla_critical_hours": "SLA_CRITICAL_HOURS",
    "sla_normal_hours": "SLA_NORMAL_HOURS",
    "misunderstood_limit": "MISUNDERSTOOD_LIMIT",
    "session_minutes": "SESSION_MINUTES",
}

# Secrets that production must set to a value of its own.
PRODUCTION_SECRETS = {
    "twilio_auth_token": DEV_TWILIO_AUTH_TOKEN,
    "pseudonym_key": DEV_PSEUDONYM_KEY,
    "encryption_keys": DEV_ENCRYPTION_KEY,
    "secret_key": DEV_SECRET_KEY,
    "nlg_token": DEV_NLG_TOKEN,
    "rasa_token": DEV_RASA_TOKEN,
    "roster_api_token": DEV_ROSTER_API_TOKEN,
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _convert(name: str, raw: str, default):
    env_name = ENV_NAMES[name]
    if isinstance(default, bool):
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{env_name}={raw!r} is invalid: use true or false.")
    if isinstance(default, (int, float)):
        try:
            value = type(default)(raw)
        except ValueError:
            kind = "an integer" if isinstance(default, int) else "a number"
            raise ConfigError(f"{env_name}={raw!r} is invalid: use {kind}.") from None
        if value <= 0:
            raise ConfigError(f"{env_name}={raw!r} is invalid: it must be positive.")
        return value
    return raw.strip()


def load_settings(
    environ: Optional[Mapping[str, str]] = None, **overrides
) -> Settings:
    """Build the settings from the environment, then apply ``overrides``.

    Raises:
        ConfigError: a value is invalid, or production runs on a development
            secret.
    """
    environ = os.environ if environ is None else environ
    defaults = Settings()
    values = {}
    for field in fields(Settings):
        raw = environ.get(ENV_NAMES[field.name])
        if raw is not None and raw.strip() != "":
            values[field.name] = _convert(field.name, raw, getattr(defaults, field.name))

    settings = replace(defaults, **values)
    settings = replace(settings, **overrides)
    validate_settings(settings)
    return settings


def validate_settings(settings: Settings) -> None:
    """Check the settings as a whole, raising ConfigError on the first problem."""
    from bot.language.catalogue import supported_languages

    if settings.env not in ENVIRONMENTS:
        raise ConfigError(
            f"HOTLINE_ENV={settings.env!r} is invalid: use one of {', '.join(ENVIRONMENTS)}."
        )

    languages = supported_languages()
    if settings.default_language not in languages:
        raise ConfigError(
            f"HOTLINE_DEFAULT_LANGUAGE={settings.default_language!r} is invalid: "
            f"use one of {', '.join(languages)}."
        )

    for name in ("public_base_url", "rasa_url", "twilio_api_base_url"):
        url = getattr(settings, name)
        if not url.startswith(("http://", "https://")):
            raise ConfigError(
                f"{ENV_NAMES[name]}={url!r} is invalid: it must start with http:// or https://."
            )

    if settings.is_production:
        reused = [
            ENV_NAMES[name]
            for name, dev_value in PRODUCTION_SECRETS.items()
            if getattr(settings, name) == dev_value
        ]
        if reused:
            raise ConfigError(
                "HOTLINE_ENV=production needs secrets of its own: set "
                + ", ".join(reused)
                + " (they still hold the development defaults)."
            )
        if not settings.public_base_url.startswith("https://"):
            raise ConfigError(
                f"PUBLIC_BASE_URL={settings.public_base_url!r} must use https:// in production."
            )

    for key in settings.encryption_keys.split(","):
        _check_fernet_key(key.strip())

    from bot.campaigns.schedule import parse_blocked_days, parse_quiet_hours

    for name, parse in (("quiet_hours", parse_quiet_hours), ("blocked_days", parse_blocked_days)):
        try:
            parse(getattr(settings, name))
        except ValueError as error:
            raise ConfigError(f"{ENV_NAMES[name]}: {error}") from None


def _check_fernet_key(key: str) -> None:
    from cryptography.fernet import Fernet

    try:
        Fernet(key.encode())
    except ValueError:
        raise ConfigError(
            "ENCRYPTION_KEYS holds an invalid key: each comma-separated key must be "
            "32 url-safe base64-encoded bytes, as made by "
            "`python -c 'from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())'`."
        ) from None
