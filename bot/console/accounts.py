"""Console accounts: hashed passwords, roles, and lockout after repeated failures."""

import logging
from datetime import datetime, timedelta, timezone
from typing import Optional

from sqlalchemy import select
from sqlalchemy.orm import Session
from werkzeug.security import check_password_hash, generate_password_hash

from bot.db.models import Account, AuditTrail, as_utc

logger = logging.getLogger(__name__)

ROLES = ("agent", "supervisor", "analyst", "administrator")
# The permissions of each role; every console route names the one it needs.
# An administrator manages accounts and reads no case content.
PERMISSIONS = {
    "view_queue": {"agent", "supervisor"},
    "claim_escalation": {"agent", "supervisor"},
    "read_case": {"agent", "supervisor"},
    "manage_case": {"agent", "supervisor"},
    "call_worker": {"agent", "supervisor"},
    "request_reveal": {"agent", "supervisor"},
    "approve_reveal": {"supervisor"},
    "manage_accounts": {"administrator"},
}
MAX_FAILED_LOGINS = 5
LOCKOUT = timedelta(minutes=15)
MIN_PASSWORD_LENGTH = 12


class AccountError(ValueError):
    """An account cannot be created or changed as requested; the message gives the reason."""


def allowed(role: str, permission: str) -> bool:
    return role in PERMISSIONS.get(permission, set())


def record(session: Session, account_id: Optional[int], action: str, subject: str = None, detail: str = None) -> None:
    """Add a line to the audit trail."""
    session.add(AuditTrail(account_id=account_id, action=action, subject=subject, detail=detail))


def create_account(
    session: Session, username: str, password: str, role: str, language: str = "en",
    phone: Optional[str] = None, vault=None,
) -> Account:
    username = username.strip().lower()
    if not username or not username.replace(".", "").replace("-", "").replace("_", "").isalnum():
        raise AccountError("username is invalid: use letters, digits, dots, dashes or underscores")
    if role not in ROLES:
        raise AccountError(f"role {role!r} is invalid: use one of {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD_LENGTH:
        raise AccountError(f"password is too short: use at least {MIN_PASSWORD_LENGTH} characters")
    if session.execute(select(Account).where(Account.username == username)).scalar_one_or_none():
        raise AccountError(f"username {username!r} is taken")
    phone_ciphertext = None
    if phone:
        from bot.privacy import normalise_number

        e164 = normalise_number(phone)
        if not e164.startswith("+"):
            raise AccountError("phone is invalid: give it in international form, such as +44 7700 900123")
        phone_ciphertext = vault.encrypt(e164)
    account = Account(
        username=username, password_hash=generate_password_hash(password), role=role, language=language,
        phone_ciphertext=phone_ciphertext,
    )
    session.add(account)
    session.flush()
    return account



def authenticate(session: Session, username: str, password: str, now: Optional[datetime] = None):
    """Check a sign-in; return ``(account, None)`` or ``(None, reason)``.

    The reason never reveals whether the username exists.
    """
    now = now or datetime.now(timezone.utc)
    account = session.execute(
        select(Account).where(Account.username == (username or "").strip().lower())
    ).scalar_one_or_none()
    if account is None or not account.active:
        # Hash anyway, so a missing account takes as long as a wrong password.
        check_password_hash(generate_password_hash("timing"), password or "")
        return None, "invalid username or password"
    locked_until = as_utc(account.locked_until)
    if locked_until and locked_until > now:
        return None, "account locked after repeated failures; try again later"
    if not check_password_hash(account.password_hash, password or ""):
        account.failed_logins += 1
        if account.failed_logins >= MAX_FAILED_LOGINS:
            account.locked_until, account.failed_logins = now + LOCKOUT, 0
            record(session, account.id, "account_locked")
            logger.warning("Console: account %s locked after repeated failed sign-ins", account.id)
        return None, "invalid username or password"
    account.failed_logins, account.locked_until = 0, None
    record(session, account.id, "signed_in")
    return account, None
