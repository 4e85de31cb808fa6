"""Revealing a worker's number: asked by an agent, approved by a supervisor, shown once."""

import logging
from datetime import datetime, timezone
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.accounts import record
from bot.db.models import Account, Escalation, RevealRequest, Worker

logger = logging.getLogger(__name__)


class RevealError(ValueError):
    """A reveal cannot happen as requested; the message gives the reason."""


def request_reveal(session: Session, escalation_id: int, account: Account, reason: str) -> RevealRequest:
    reason = reason.strip()
    if len(reason) < 10:
        raise RevealError("give the reason for seeing the number (at least 10 characters)")
    if session.get(Escalation, escalation_id) is None:
        raise RevealError(f"escalation {escalation_id} not found")
    request = RevealRequest(escalation_id=escalation_id, requested_by=account.id, reason=reason[:400])
    session.add(request)
    session.flush()
    record(session, account.id, "requested_reveal", subject=f"escalation:{escalation_id}", detail=f"request:{request.id}")
    return request


def pending_reveals(session: Session) -> List[tuple]:
    return session.execute(
        select(RevealRequest, Account.username)
        .join(Account, RevealRequest.requested_by == Account.id)
        .where(RevealRequest.status == "pending").order_by(RevealRequest.id)
    ).all()


def decide_reveal(session: Session, request_id: int, supervisor: Account, approve: bool) -> RevealRequest:
    request = session.get(RevealRequest, request_id)
    if request is None or request.status != "pending":
        raise RevealError(f"reveal request {request_id} is not pending")
    if request.requested_by == supervisor.id:
        raise RevealError("a supervisor cannot approve their own request")
    request.status = "approved" if approve else "rejected"
    request.decided_by, request.decided_at = supervisor.id, datetime.now(timezone.utc)
    record(session, supervisor.id, f"{request.status}_reveal", subject=f"escalation:{request.escalation_id}", detail=f"request:{request.id}")
    return request


def show_number(session: Session, vault, request_id: int, account: Account) -> Optional[str]:
    """Return the number once, to the agent whose approved request it is."""
    request = session.get(RevealRequest, request_id)
    if request is None or request.requested_by != account.id or request.status != "approved":
        return None
    escalation = session.get(Escalation, request.escalation_id)
    worker = session.get(Worker, escalation.worker_id)
    request.status = "shown"
    record(session, account.id, "saw_number", subject=f"escalation:{escalation.id}", detail=f"request:{request.id}")
    logger.info("Escalation %s: number shown to account %s under request %s", escalation.id, account.id, request.id)
    return vault.decrypt(worker.phone_ciphertext)
