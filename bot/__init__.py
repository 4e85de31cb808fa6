"""The hotline's webhook gateway: Twilio in, Rasa behind, the store beside."""

import logging
from typing import Optional

from flask import Flask

from bot.config import Settings, load_settings

logger = logging.getLogger(__name__)


def create_app(settings: Optional[Settings] = None, **overrides) -> Flask:
    """Build the gateway.

    Args:
        settings: complete settings, as tests pass them; read from the
            environment when omitted.
        overrides: single settings to replace, by field name.
    """
    from bot.channels import errors, nlg, rosters, sms, status, voice
    from bot import console
    from bot.services import Services

    settings = settings or load_settings(**overrides)
    app = Flask(__name__)
    app.config["HOTLINE"] = settings
    app.config["SECRET_KEY"] = settings.secret_key
    app.config.update(
        SESSION_COOKIE_HTTPONLY=True,
        SESSION_COOKIE_SAMESITE="Lax",
        SESSION_COOKIE_SECURE=settings.is_production,
        PERMANENT_SESSION_LIFETIME=8 * 3600,
    )
    app.extensions["hotline"] = Services(settings)

    app.register_blueprint(sms.blueprint)
    app.register_blueprint(status.blueprint)
    app.register_blueprint(nlg.blueprint)
    app.register_blueprint(voice.blueprint)
    app.register_blueprint(rosters.blueprint)
    app.register_blueprint(console.blueprint)
    errors.register(app)

    _restore_escalation_queue(app.extensions["hotline"])

    @app.get("/healthz")
    def healthz():
        return {"status": "ok"}

    logger.info("Gateway: created in %s mode", settings.env)
    return app


def _restore_escalation_queue(services) -> None:
    """Put queued escalations back in Redis, which may have restarted empty."""
    import redis
    from sqlalchemy.exc import SQLAlchemyError

    from bot.escalations import requeue_missing

    try:
        with services.db.session() as session:
            requeue_missing(session, services.queue)
    except (redis.RedisError, SQLAlchemyError) as error:
        logger.warning("Gateway: escalation queue not checked at start-up (%s)", error)
