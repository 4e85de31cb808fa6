"""Logging set-up shared by the gateway, the action server and the commands."""

import logging
import re

LOG_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Defence in depth: code never logs a number, but a library might.
_PHONE_LIKE = re.compile(r"(?<![\w+])\+?\d[\d\s().-]{7,}\d(?!\w)")


class RedactPhoneNumbers(logging.Filter):
    """Masks anything shaped like a phone number in a log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        redacted = _PHONE_LIKE.sub("[redacted]", message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        return True


def configure_logging(level: str = "INFO") -> None:
    """Log to standard error in one plain format, with numbers redacted."""
    handler = logging.StreamHandler()
    handler.setFormatter(logging.Formatter(LOG_FORMAT))
    handler.addFilter(RedactPhoneNumbers())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    # twilio-python logs request URLs and query parameters at INFO.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
