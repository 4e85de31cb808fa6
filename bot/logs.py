"""Logging set-up shared by the gateway, the action server and the commands."""

import logging
import re

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Defence in depth: code never logs a number, but a library or a traceback
# might. A phone number here is "+" and 8 to 15 digits, spaces or dashes
# allowed, or a bare run of 10 to 15 digits. Dates, IP addresses and short
# ids are left alone.
_PHONE_LIKE = re.compile(r"\+\d(?:[ -]?\d){7,14}(?!\d)|(?<![\w.])\d{10,15}(?![\w.])")


def redact(text: str) -> str:
    return _PHONE_LIKE.sub("[redacted]", text)


class RedactingFormatter(logging.Formatter):
    """Formats a record, traceback included, with phone numbers masked."""

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record))


def configure_logging(level: str = "INFO") -> None:
    """Log to standard error in one plain format, with numbers redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(RedactingFormatter(LOG_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # twilio-python logs request URLs and query parameters at INFO, and
    # Alembic lists its plugins at INFO on every start.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    logging.getLogger("alembic").setLevel(logging.WARNING)
