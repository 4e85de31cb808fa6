"""Bearer tokens of the gateway's own callers (Rasa's NLG requests, auditors' tools)."""

import hmac

from flask import request

PREFIX = "Bearer "


def has_bearer_token(expected: str) -> bool:
    """Tell whether the request's Authorization header carries ``expected``, compared in constant time."""
    header = request.headers.get("Authorization", "")
    token = header[len(PREFIX):] if header.startswith(PREFIX) else ""
    return bool(token) and hmac.compare_digest(token, expected)
