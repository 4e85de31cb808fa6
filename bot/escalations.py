"""Escalations to a human callback: a durable row and a place in the queue.

The row in the relational store is the record; the Redis sorted set is the
queue agents work from, critical first, then oldest first. Entries carry the
worker's pseudonym, never a number.
"""

import logging
from typing import Optional

import redis
from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Escalation, Worker
from bot.privacy import Vault

logger = logging.getLogger(__name__)

REASONS = (
    "critical_grievance",
    "human_requested",
    "callback_requested",
    "misunderstood",
    "dialogue_unavailable",
)
SEVERITY_RANK = {"critical": 0, "normal": 1}
# Puts every critical escalation ahead of every normal one, then by age.
_RANK_WEIGHT = 10**11


class EscalationQueue:
    """The Redis side of the queue."""

    def __init__(self, client: redis.Redis, prefix: str):
        self.redis = client
        self.queue_key = f"{prefix}:escalations:queue"
        self._record_prefix = f"{prefix}:escalations:record:"

    def record_key(self, escalation_id: int) -> str:
        return f"{self._record_prefix}{escalation_id}"

    def push(self, escalation: Escalation, worker: Worker, reference_code: Optional[str]) -> None:
        created = escalation.created_at.timestamp()
        score = SEVERITY_RANK[escalation.severity] * _RANK_WEIGHT + created
        record = {
            "id": escalation.id,
            "worker": worker.pseudonym,
            "reason": escalation.reason,
            "severity": escalation.severity,
            "language": escalation.language or "",
            "channel": escalation.channel or "",
            "case": reference_code or "",
            "created_at": escalation.created_at.isoformat(),
        }
        pipeline = self.redis.pipeline()
        pipeline.hset(self.record_key(escalation.id), mapping=record)
        pipeline.zadd(self.queue_key, {str(escalation.id): score})
        pipeline.execute()

    def ids(self):
        return [int(member) for member in self.redis.zrange(self.queue_key, 0, -1)]


def escalate(
    session: Session,
    vault: Vault,
    queue: Optional[EscalationQueue],
    worker: Worker,
    *,
    reason: str,
    severity: str = "normal",
    case=None,
    language: Optional[str] = None,
    channel: Optional[str] = None,
    callback_time: Optional[str] = None,
) -> Escalation:
    """Record an escalation and put it in the agents' queue.

    A second escalation of the same reason for a worker who already waits
    without a case is folded into the first. When Redis is down the row is
    still stored and ``requeue_missing`` puts it in the queue later.
    """
    if reason not in REASONS:
        raise ValueError(f"reason {reason!r} is invalid: use one of {', '.join(REASONS)}")

    if case is None:
        waiting = session.execute(
            select(Escalation).where(
                Escalation.worker_id == worker.id,
                Escalation.reason == reason,
                Escalation.case_id.is_(None),
                Escalation.status == "queued",
            )
        ).scalars().first()
        if waiting is not None:
            logger.info("Escalation %s: worker %s already waits, not queued twice", waiting.id, worker.pseudonym)
            return waiting

    escalation = Escalation(
        worker_id=worker.id,
        case_id=case.id if case is not None else None,
        reason=reason,
        severity=severity,
        status="queued",
        language=language,
        channel=channel,
        callback_time_ciphertext=vault.encrypt(callback_time),
    )
    session.add(escalation)
    session.flush()

    if queue is not None:
        try:
            queue.push(escalation, worker, case.reference_code if case is not None else None)
        except redis.RedisError as error:
            logger.error("Escalation %s: Redis unavailable (%s), stored only", escalation.id, error)
    logger.info(
        "Escalation %s: worker %s, reason %s, severity %s",
        escalation.id, worker.pseudonym, reason, severity,
    )
    return escalation


def requeue_missing(session: Session, queue: EscalationQueue) -> int:
    """Put every queued escalation that Redis lost back in the queue."""
    present = set(queue.ids())
    restored = 0
    rows = session.execute(select(Escalation).where(Escalation.status == "queued")).scalars()
    for escalation in rows:
        if escalation.id in present:
            continue
        worker = session.get(Worker, escalation.worker_id)
        queue.push(escalation, worker, escalation.case.reference_code if escalation.case else None)
        restored += 1
    if restored:
        logger.info("Escalation queue: restored %s entries from the database", restored)
    return restored
