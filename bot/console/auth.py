"""Sessions and CSRF protection of the console."""

import functools
import hmac
import secrets

from flask import abort, current_app, g, redirect, request, session, url_for

from bot.console.accounts import allowed
from bot.db.models import Account

CSRF_FIELD = "csrf_token"


def csrf_token() -> str:
    """Return the session's CSRF token, creating it on first use."""
    if CSRF_FIELD not in session:
        session[CSRF_FIELD] = secrets.token_urlsafe(32)
    return session[CSRF_FIELD]


def check_csrf() -> None:
    """Reject a state-changing request whose form lacks the session's token with 400."""
    sent = request.form.get(CSRF_FIELD, "")
    expected = session.get(CSRF_FIELD, "")
    if not expected or not hmac.compare_digest(sent, expected):
        abort(400, description="invalid or missing CSRF token; reload the page and try again")


def sign_in(account: Account) -> None:
    # A new session at sign-in, so a token planted before it is worthless.
    session.clear()
    session.permanent = True
    session["account_id"] = account.id
    csrf_token()


def current_account():
    account_id = session.get("account_id")
    if account_id is None:
        return None
    services = current_app.extensions["hotline"]
    with services.db.session() as db_session:
        account = db_session.get(Account, account_id)
        if account is None or not account.active:
            session.clear()
            return None
        return account


def requires(permission: str):
    """Let the view run only for a signed-in account whose role has ``permission``."""

    def decorator(view):
        @functools.wraps(view)
        def wrapper(*args, **kwargs):
            account = current_account()
            if account is None:
                return redirect(url_for("console.sign_in_form", next=request.path))
            if not allowed(account.role, permission):
                abort(403, description="your role does not allow this page")
            if request.method == "POST":
                check_csrf()
            g.account = account
            return view(*args, **kwargs)

        return wrapper

    return decorator
