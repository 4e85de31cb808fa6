"""Outbound SMS delivery status, and replies too long for one message.

When a reply needs several SMS, they are chained: the part after each one is
sent through Twilio's REST API only once Twilio reports that one sent, so the
worker's phone shows them in order. Redis maps each part's message id to the
next one; claiming an entry removes it, so a repeated status callback cannot
send a part twice.
"""

import logging
from typing import List, Optional

import redis
from flask import url_for

from bot.db.models import Message, Worker
from bot.services import Services
from bot.telephony.rest import ERROR_UNSUBSCRIBED_RECIPIENT
from bot.workers import set_opt_out

logger = logging.getLogger(__name__)

STATUS_RANK = {
    "queued": 0,
    "accepted": 1,
    "sending": 2,
    "sent": 3,
    "delivered": 4,
    "undelivered": 4,
    "failed": 4,
    "read": 5,
}
FINAL_STATUSES = frozenset({"delivered", "undelivered", "failed", "read"})
_CHAIN_TTL_SECONDS = 24 * 3600


def _chain_key(services: Services) -> str:
    return services.key("outbox", "next")


def queue_remaining_parts(services: Services, message_ids: List[int]) -> None:
    if len(message_ids) < 2:
        return
    links = {str(a): str(b) for a, b in zip(message_ids, message_ids[1:])}
    try:
        services.redis.hset(_chain_key(services), mapping=links)
        services.redis.expire(_chain_key(services), _CHAIN_TTL_SECONDS)
    except redis.RedisError as error:
        logger.error("Outbox: parts after message %s not queued (%s)", message_ids[0], error)


def record_status(
    services: Services,
    message_id: int,
    status: str,
    provider_sid: Optional[str],
    error_code: Optional[str],
) -> bool:
    """Apply a delivery status unless the message already has a later one.

    Returns:
        True when the status was applied.
    """
    with services.db.session() as session:
        message = session.get(Message, message_id)
        if message is None or message.direction != "outbound":
            logger.warning("Status callback: message %s not found", message_id)
            return False
        if provider_sid and not message.provider_sid:
            message.provider_sid = provider_sid
        if not _is_progress(message.status, status):
            logger.info("Message %s: late status %s ignored after %s", message_id, status, message.status)
            return False
        message.status = status
        message.error_code = error_code
        if error_code == str(ERROR_UNSUBSCRIBED_RECIPIENT):
            worker = session.get(Worker, message.conversation.worker_id)
            set_opt_out(session, worker, True)
    return True


def _is_progress(current: str, new: str) -> bool:
    if new not in STATUS_RANK:
        return False
    if current in FINAL_STATUSES:
        return current == "delivered" and new == "read"
    return STATUS_RANK[new] > STATUS_RANK.get(current, -1)


def send_next_part(services: Services, message_id: int) -> Optional[int]:
    """Send the part chained after ``message_id``, once; return its id."""
    try:
        pipeline = services.redis.pipeline()
        pipeline.hget(_chain_key(services), str(message_id))
        pipeline.hdel(_chain_key(services), str(message_id))
        next_id, claimed = pipeline.execute()
    except redis.RedisError as error:
        logger.error("Outbox: part after message %s unknown (%s)", message_id, error)
        return None
    if not claimed:
        return None

    next_id = int(next_id)
    with services.db.session() as session:
        message = session.get(Message, next_id)
        worker = session.get(Worker, message.conversation.worker_id)
        if worker.opted_out:
            message.status = "failed"
            message.error_code = str(ERROR_UNSUBSCRIBED_RECIPIENT)
            return None
        phone = services.vault.decrypt(worker.phone_ciphertext)
        body = services.vault.decrypt(message.body_ciphertext)

    callback = services.settings.public_base_url.rstrip("/") + url_for(
        "status.message_status", message=next_id
    )
    sid, error_code = services.sms_sender.send(phone, body, status_callback=callback)
    record_status(services, next_id, "accepted" if sid else "failed", sid, error_code)
    logger.info("Message %s: part %s sent through the REST API", message_id, next_id)
    return next_id


def drop_chain_after(services: Services, message_id: int) -> None:
    """Forget the parts after a message that failed, so none arrives out of context."""
    try:
        while message_id is not None:
            next_id = services.redis.hget(_chain_key(services), str(message_id))
            services.redis.hdel(_chain_key(services), str(message_id))
            message_id = int(next_id) if next_id else None
            if message_id is not None:
                record_status(services, message_id, "failed", None, "chain_broken")
    except redis.RedisError as error:
        logger.error("Outbox: chain after message %s not dropped (%s)", message_id, error)
