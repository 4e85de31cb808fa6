"""Workers and their conversations."""

import logging
from datetime import timedelta
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Conversation, Worker, as_utc, utcnow
from bot.privacy import Vault

logger = logging.getLogger(__name__)


def find_worker(session: Session, pseudonym: str) -> Optional[Worker]:
    return session.execute(
        select(Worker).where(Worker.pseudonym == pseudonym)
    ).scalar_one_or_none()


def find_or_create_worker(
    session: Session, vault: Vault, pseudonym: str, e164: str, country: Optional[str]
) -> Worker:
    """Return the worker of ``pseudonym``, creating the row on first contact."""
    worker = find_worker(session, pseudonym)
    if worker is not None:
        return worker

    worker = Worker(pseudonym=pseudonym, phone_ciphertext=vault.encrypt(e164), country=country)
    try:
        with session.begin_nested():
            session.add(worker)
    except IntegrityError:
        # A concurrent first message created the row first.
        worker = find_worker(session, pseudonym)
    else:
        logger.info("Worker %s: first contact", pseudonym)
    return worker



def current_conversation(
    session: Session, worker: Worker, channel: str, session_minutes: int
) -> Conversation:
    """Return the worker's open conversation on ``channel``, or start one."""
    latest = session.execute(
        select(Conversation)
        .where(Conversation.worker_id == worker.id, Conversation.channel == channel)
        .order_by(Conversation.id.desc())
        .limit(1)
    ).scalar_one_or_none()

    now = utcnow()
    if latest is not None and now - as_utc(latest.last_message_at) < timedelta(minutes=session_minutes):
        latest.last_message_at = now
        return latest

    conversation = Conversation(worker_id=worker.id, channel=channel, language=worker.language)
    session.add(conversation)
    session.flush()
    return conversation


def set_opt_out(session: Session, worker: Worker, opted_out: bool) -> None:
    worker.opted_out = opted_out
    worker.opted_out_at = utcnow() if opted_out else None
    logger.info("Worker %s: opted %s", worker.pseudonym, "out" if opted_out else "back in")
