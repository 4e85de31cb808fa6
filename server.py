"""Entry point of the gateway.

Development: ``python server.py`` (or ``./hotline up`` for the whole stack).
Production: ``gunicorn 'server:create_app()'``, configured by the environment.
"""

import os

from bot import create_app as _create_app
from bot.logs import configure_logging


def create_app():
    """Build the gateway from the environment, logging to standard error."""
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    return _create_app()


if __name__ == "__main__":
    create_app().run(host="127.0.0.1", port=int(os.environ.get("GATEWAY_PORT", "5000")))
