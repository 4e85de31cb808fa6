"""Exceptions of the gateway, each carrying the context a caller needs."""


class HotlineError(Exception):
    """Base class of the gateway's own errors."""


class ConfigError(HotlineError):
    """A setting is missing or invalid; the message names it and the fix."""


class DialogueUnavailable(HotlineError):
    """The Rasa server could not be reached or answered with an error."""

    def __init__(self, message: str, *, conversation_id: str):
        super().__init__(message)
        self.conversation_id = conversation_id


class TwilioRequestError(HotlineError):
    """A Twilio webhook lacks a parameter it must carry."""

    def __init__(self, parameter: str):
        super().__init__(f"missing form parameter {parameter!r}")
        self.parameter = parameter
