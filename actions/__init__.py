"""Custom actions of the hotline's dialogue, served by the rasa_sdk action server."""

from actions import callbacks, conversation, grievance, questionnaire  # noqa: F401
