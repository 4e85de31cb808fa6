"""The escalation queue as agents see it: severity first, then waiting time, with a service-level clock."""

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import List, Optional

import redis
from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.console.accounts import record
from bot.db.models import Account, Case, Escalation, as_utc
from bot.escalations import SEVERITY_RANK

logger = logging.getLogger(__name__)


@dataclass
class QueueRow:
    id: int
    severity: str
    reason: str
    language: Optional[str]
    channel: Optional[str]
    case: Optional[str]
    waiting: timedelta
    remaining: timedelta
    claimed_by: Optional[str]

    @property
    def overdue(self) -> bool:
        return self.remaining < timedelta(0)



def queue_rows(session: Session, settings, now: Optional[datetime] = None) -> List[QueueRow]:
    """Return the open escalations, critical first, then the longest waiting."""
    now = now or datetime.now(timezone.utc)
    rows = []
    open_escalations = session.execute(
        select(Escalation, Case.reference_code, Account.username)
        .outerjoin(Case, Escalation.case_id == Case.id)
        .outerjoin(Account, Escalation.claimed_by == Account.id)
        .where(Escalation.status.in_(("queued", "claimed")))
    ).all()
    for escalation, reference, claimer in open_escalations:
        created = as_utc(escalation.created_at)
        hours = settings.sla_critical_hours if escalation.severity == "critical" else settings.sla_normal_hours
        rows.append(QueueRow(
            id=escalation.id, severity=escalation.severity, reason=escalation.reason,
            language=escalation.language, channel=escalation.channel, case=reference,
            waiting=now - created, remaining=created + timedelta(hours=hours) - now, claimed_by=claimer,
        ))
    rows.sort(key=lambda row: (SEVERITY_RANK.get(row.severity, 9), -row.waiting.total_seconds()))
    return rows


def claim(session: Session, services, escalation_id: int, account: Account) -> bool:
    """Give an escalation, and every other open one of its worker, to one agent.

    Returns:
        False when another agent has already claimed this escalation or
        one of the same worker's, so no two agents take the same worker.
    """
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        return False
    held_by_other = session.execute(
        select(Escalation.id).where(
            Escalation.worker_id == escalation.worker_id,
            Escalation.status == "claimed",
            Escalation.claimed_by != account.id,
        )
    ).first()
    if held_by_other is not None:
        return False
    claimed = session.execute(
        update(Escalation)
        .where(Escalation.id == escalation_id, Escalation.status == "queued")
        .values(status="claimed", claimed_by=account.id, claimed_at=datetime.now(timezone.utc))
    ).rowcount
    if not claimed:
        return False
    others = session.execute(
        select(Escalation.id).where(Escalation.worker_id == escalation.worker_id, Escalation.status == "queued")
    ).scalars().all()
    if others:
        session.execute(
            update(Escalation).where(Escalation.id.in_(others), Escalation.status == "queued")
            .values(status="claimed", claimed_by=account.id, claimed_at=datetime.now(timezone.utc))
        )
    claimed_ids = [escalation_id, *others]
    for taken_id in claimed_ids:
        record(session, account.id, "claimed_escalation", subject=f"escalation:{taken_id}")
    try:
        services.queue.redis.zrem(services.queue.queue_key, *[str(taken_id) for taken_id in claimed_ids])
    except redis.RedisError as error:
        logger.warning("Escalation %s: claimed, but not removed from the Redis queue (%s)", escalation_id, error)
    logger.info("Escalation %s: claimed by account %s with %s more of the same worker", escalation_id, account.id, len(others))
    return True


def format_duration(delta: timedelta) -> str:
    seconds = int(abs(delta.total_seconds()))
    hours, minutes = seconds // 3600, (seconds % 3600) // 60
    text = f"{hours} h {minutes:02d} min" if hours else f"{minutes} min"
    return f"{text} overdue" if delta.total_seconds() < 0 else text
