"""Placing due callbacks through Twilio, and acting on how each call ended.

``dispatch_due`` claims the callbacks whose time has come and puts one rq
job per callback on the ``calls`` queue. rq workers on any machine run
``place_call``. A token in Redis spaces calls out to ``CALLS_PER_SECOND``
across all workers, and a per-worker lock keeps a worker from ever having
two calls in flight.

Outcomes follow the retry policy: an error is retried soon, no answer,
busy or an answering machine at the worker's next preferred slot, up to
``MAX_CALL_ATTEMPTS``. After the last attempt the worker gets an SMS
inviting them to call or text for free, and the callback ends unreached.
"""

import logging
import time
from datetime import datetime, timedelta, timezone
from functools import lru_cache
from typing import Optional
from zoneinfo import ZoneInfo

import redis
import requests
from rq import Queue
from sqlalchemy import select, update
from twilio.base.exceptions import TwilioRestException

from bot.campaigns.importer import preference_of
from bot.campaigns.schedule import NoSlotError, next_preferred_slot, next_slot
from bot.db.models import Audit, CallAttempt, Callback, Conversation, Message, Worker, as_utc
from bot.language.catalogue import render
from bot.questionnaire import fill_unanswered
from bot.sms.segments import segment_count
from bot.telephony.rest import CONNECTION_ERROR

logger = logging.getLogger(__name__)

QUEUE_NAME = "calls"
QUEUE_AHEAD_SECONDS = 60
IN_FLIGHT_TTL_SECONDS = 2 * 3600
# How long a callback waits when its worker already has a call in flight.
BUSY_WORKER_DELAY = timedelta(minutes=15)
FINAL_ATTEMPT_STATUSES = frozenset({"completed", "no_answer", "busy", "failed", "machine", "canceled"})
ATTEMPT_RANK = {"queued": 0, "initiated": 1, "ringing": 2, "in-progress": 3}
TWILIO_FINAL = {
    "completed": "completed",
    "no-answer": "no_answer",
    "busy": "busy",
    "failed": "failed",
    "canceled": "canceled",
}
RETRY_AT_NEXT_SLOT = frozenset({"no_answer", "busy", "machine"})
MACHINE_ANSWERS = ("machine_start", "machine_end_beep", "machine_end_silence", "machine_end_other", "fax")

# Spaces calls by one interval, shared by every worker through Redis; returns
# the time at which the caller may place its call.
_NEXT_CALL_SCRIPT = """
local now = tonumber(ARGV[1])
local interval = tonumber(ARGV[2])
local next_at = tonumber(redis.call('GET', KEYS[1]) or '0')
if next_at < now then next_at = now end
redis.call('SET', KEYS[1], tostring(next_at + interval), 'EX', 3600)
return tostring(next_at)
"""


def rq_connection(redis_url: str) -> redis.Redis:
    return redis.Redis.from_url(redis_url)


def calls_queue(services) -> Queue:
    return Queue(QUEUE_NAME, connection=rq_connection(services.settings.redis_url))


def dispatch_due(services, now: Optional[datetime] = None, limit: int = 500) -> int:
    """Claim up to ``limit`` due callbacks and queue a call for each; return how many.

    The queue never contains more than about a minute of calls at the
    configured rate, so a claimed callback is placed soon after its claim.
    """
    now = now or datetime.now(timezone.utc)
    queue = calls_queue(services)
    room = max(0, int(services.settings.calls_per_second * QUEUE_AHEAD_SECONDS) + 1 - queue.count)
    limit = min(limit, room)
    if limit == 0:
        return 0
    with services.db.session() as session:
        due_ids = session.execute(
            select(Callback.id)
            .where(Callback.status == "scheduled", Callback.due_at <= now)
            .order_by(Callback.due_at)
            .limit(limit)
        ).scalars().all()
        # Claiming row by row inside one transaction: a callback another
        # dispatcher claimed first no longer matches and is skipped.
        claimed = [
            callback_id for callback_id in due_ids
            if session.execute(
                update(Callback)
                .where(Callback.id == callback_id, Callback.status == "scheduled")
                .values(status="dialing")
            ).rowcount
        ]
    if not claimed:
        return 0
    try:
        queue.enqueue_many([
            Queue.prepare_data(place_call, args=(callback_id,), timeout=300, failure_ttl=7 * 24 * 3600)
            for callback_id in claimed
        ])
    except redis.RedisError:
        # Give the claims back, so the next pass queues them.
        with services.db.session() as session:
            session.execute(
                update(Callback).where(Callback.id.in_(claimed), Callback.status == "dialing").values(status="scheduled")
            )
        raise
    logger.info("Dispatcher: %s due callbacks queued", len(claimed))
    return len(claimed)


# A callback claimed this long ago whose call never reached Twilio was lost
# by a worker that died. A call that Twilio never reported as ended is
# treated as failed after the longer wait.
STUCK_BEFORE_PLACING = timedelta(minutes=15)
STUCK_IN_CALL = timedelta(hours=3)


def recover_stuck(services, now: Optional[datetime] = None) -> int:
    """Put callbacks that a dead worker or a lost status callback left hanging back in play."""
    now = now or datetime.now(timezone.utc)
    recovered = 0
    with services.db.session() as session:
        hanging = session.execute(
            select(Callback).where(
                Callback.status.in_(("dialing", "in_progress")),
                Callback.updated_at < now - STUCK_BEFORE_PLACING,
            )
        ).scalars().all()
        stuck = []
        for callback in hanging:
            attempt = session.execute(
                select(CallAttempt).where(CallAttempt.callback_id == callback.id)
                .order_by(CallAttempt.number.desc()).limit(1)
            ).scalar_one_or_none()
            placed = attempt is not None and attempt.call_sid is not None and attempt.status not in FINAL_ATTEMPT_STATUSES
            updated = as_utc(callback.updated_at)
            if not placed:
                if attempt is not None and attempt.status not in FINAL_ATTEMPT_STATUSES:
                    attempt.status, attempt.error_code, attempt.ended_at = "failed", "lost", now
                callback.status, callback.due_at = "scheduled", now
                services.redis.delete(_in_flight_key(services, callback.worker_id))
                recovered += 1
            elif now - updated > STUCK_IN_CALL:
                stuck.append((callback.id, attempt.number))
    for callback_id, number in stuck:
        record_attempt_outcome(services, callback_id, number, "failed", error_code="no_status")
        recovered += 1
    if recovered:
        logger.warning("Dispatcher: %s callbacks were left hanging and are back in play", recovered)
    return recovered


@lru_cache(maxsize=1)
def worker_services():
    """Services of an rq worker process, built once from the environment."""
    from bot.config import load_settings
    from bot.services import Services

    return Services(load_settings())


def _wait_for_call_slot(services) -> None:
    interval = 1.0 / services.settings.calls_per_second
    script = services.redis.register_script(_NEXT_CALL_SCRIPT)
    allowed_at = float(script(keys=[services.key("calls", "next")], args=[time.time(), interval]))
    delay = allowed_at - time.time()
    if delay > 0:
        time.sleep(delay)


def _in_flight_key(services, worker_id: int) -> str:
    return services.key("calls", "in-flight", str(worker_id))


def place_call(callback_id: int, services=None) -> Optional[str]:
    """Place the next attempt of a claimed callback; return Twilio's call SID."""
    services = services or worker_services()
    now = datetime.now(timezone.utc)

    with services.db.session() as session:
        callback = session.get(Callback, callback_id)
        if callback is None or callback.status != "dialing":
            logger.info("Callback %s: no longer due, not called", callback_id)
            return None
        audit = session.get(Audit, callback.audit_id)
        zone = ZoneInfo(audit.timezone)
        allowed = next_slot(now, preference_of(callback), services.settings.calling_rules(), zone)
        if allowed > now + timedelta(minutes=1):
            # The job waited past the end of the allowed slot.
            callback.status, callback.due_at = "scheduled", allowed
            logger.info("Callback %s: outside its allowed hours now, moved to %s", callback_id, allowed.isoformat())
            return None
        worker = session.get(Worker, callback.worker_id)
        phone = services.vault.decrypt(worker.phone_ciphertext)
        worker_id = worker.id

    if not services.redis.set(_in_flight_key(services, worker_id), str(callback_id), nx=True, ex=IN_FLIGHT_TTL_SECONDS):
        with services.db.session() as session:
            callback = session.get(Callback, callback_id)
            callback.status, callback.due_at = "scheduled", now + BUSY_WORKER_DELAY
        logger.info("Callback %s: worker %s already has a call in flight, retrying later", callback_id, worker_id)
        return None

    with services.db.session() as session:
        callback = session.get(Callback, callback_id)
        callback.attempts += 1
        attempt = CallAttempt(callback_id=callback_id, number=callback.attempts, status="queued", placed_at=now)
        session.add(attempt)
        session.flush()
        number = attempt.number

    _wait_for_call_slot(services)
    base = services.settings.public_base_url.rstrip("/")
    query = f"callback={callback_id}&attempt={number}"
    try:
        call = services.twilio_client.calls.create(
            to=phone,
            from_=services.settings.caller_id,
            url=f"{base}/twilio/voice?{query}",
            method="POST",
            status_callback=f"{base}/twilio/voice/status?{query}",
            status_callback_event=["initiated", "ringing", "answered", "completed"],
            status_callback_method="POST",
            machine_detection="Enable",
            timeout=30,
        )
    except TwilioRestException as error:
        logger.error("Callback %s: attempt %s not placed, Twilio error %s", callback_id, number, error.code)
        record_attempt_outcome(services, callback_id, number, "failed", error_code=str(error.code or error.status))
        return None
    except requests.RequestException as error:
        logger.error("Callback %s: attempt %s not placed, Twilio API unreachable (%s)", callback_id, number, type(error).__name__)
        record_attempt_outcome(services, callback_id, number, "failed", error_code=CONNECTION_ERROR)
        return None

    with services.db.session() as session:
        attempt = session.execute(
            select(CallAttempt).where(CallAttempt.callback_id == callback_id, CallAttempt.number == number)
        ).scalar_one()
        attempt.call_sid = call.sid
        if attempt.status == "queued":
            attempt.status = "initiated"
        session.get(Callback, callback_id).call_sid = call.sid
    logger.info("Callback %s: attempt %s placed as call %s", callback_id, number, call.sid)
    return call.sid


def record_call_status(
    services,
    callback_id: int,
    attempt_number: Optional[int],
    call_status: str,
    answered_by: Optional[str] = None,
    error_code: Optional[str] = None,
    call_sid: Optional[str] = None,
) -> None:
    """Apply one status callback of a callback's call, ignoring late and repeated ones."""
    with services.db.session() as session:
        query = select(CallAttempt).where(CallAttempt.callback_id == callback_id)
        if attempt_number is not None:
            query = query.where(CallAttempt.number == attempt_number)
        elif call_sid:
            query = query.where(CallAttempt.call_sid == call_sid)
        attempt = session.execute(query.order_by(CallAttempt.number.desc()).limit(1)).scalar_one_or_none()
        if attempt is None:
            logger.warning("Callback %s: status %s for an unknown attempt", callback_id, call_status)
            return
        if answered_by:
            attempt.answered_by = answered_by
        number = attempt.number
        if attempt.status in FINAL_ATTEMPT_STATUSES:
            logger.info("Callback %s: late status %s ignored after %s", callback_id, call_status, attempt.status)
            return
        if call_status in ATTEMPT_RANK:
            if ATTEMPT_RANK[call_status] > ATTEMPT_RANK.get(attempt.status, -1):
                attempt.status = call_status
            return
        outcome = TWILIO_FINAL.get(call_status)
        if outcome is None:
            logger.warning("Callback %s: unknown call status %s", callback_id, call_status)
            return
        if outcome == "completed" and (attempt.answered_by or "").startswith(MACHINE_ANSWERS):
            outcome = "machine"
    record_attempt_outcome(services, callback_id, number, outcome, error_code=error_code)


def record_attempt_outcome(services, callback_id: int, number: int, outcome: str, error_code: Optional[str] = None) -> None:
    """Close an attempt and decide what happens to its callback next."""
    now = datetime.now(timezone.utc)
    settings = services.settings
    send_fallback = False
    with services.db.session() as session:
        attempt = session.execute(
            select(CallAttempt).where(CallAttempt.callback_id == callback_id, CallAttempt.number == number)
        ).scalar_one()
        if attempt.status in FINAL_ATTEMPT_STATUSES:
            return
        attempt.status, attempt.error_code, attempt.ended_at = outcome, error_code, now
        callback = session.get(Callback, callback_id)
        callback.last_outcome = outcome
        worker_id = callback.worker_id

        if outcome == "completed" and callback.status in ("in_progress", "completed") and _reached_first_question(session, callback):
            callback.status = "completed"
            fill_unanswered(session, callback)
        elif callback.status == "reschedule_requested":
            # The worker answered and asked for another time: try their next slot.
            fill_unanswered(session, callback)
            _schedule_retry(session, callback, now, settings, at_next_slot=True)
        elif callback.status in ("dialing", "in_progress"):
            # A call that completed without reaching the questionnaire was
            # hung up at once, which counts like no answer.
            at_next_slot = outcome in RETRY_AT_NEXT_SLOT or outcome == "completed"
            send_fallback = not _schedule_retry(session, callback, now, settings, at_next_slot=at_next_slot)
    services.redis.delete(_in_flight_key(services, worker_id))
    logger.info("Callback %s: attempt %s ended %s", callback_id, number, outcome)
    if send_fallback:
        send_unreached_sms(services, callback_id)


def _reached_first_question(session, callback: Callback) -> bool:
    """Tell whether the worker answered whether now is a safe time to talk.

    A call that ended before that answer (hung up, silent, or left with the
    safe exit) has not given the worker their chance, so it is retried.
    """
    from bot.db.models import QuestionnaireAnswer

    return session.execute(
        select(QuestionnaireAnswer.id).where(
            QuestionnaireAnswer.callback_id == callback.id, QuestionnaireAnswer.question == "safe_to_talk"
        )
    ).first() is not None


def _schedule_retry(session, callback: Callback, now: datetime, settings, at_next_slot: bool) -> bool:
    """Plan the next attempt; return False when the attempts are used up."""
    if callback.attempts >= settings.max_attempts:
        callback.status = "unreached"
        callback.due_at = None
        return False
    audit = session.get(Audit, callback.audit_id)
    zone, rules, preference = ZoneInfo(audit.timezone), settings.calling_rules(), preference_of(callback)
    try:
        if at_next_slot:
            due = next_preferred_slot(now, preference, rules, zone)
        else:
            due = next_slot(now + timedelta(minutes=settings.retry_after_error_minutes), preference, rules, zone)
    except NoSlotError:
        callback.status, callback.due_at = "unreached", None
        return False
    callback.status, callback.due_at = "scheduled", due
    return True


def send_unreached_sms(services, callback_id: int) -> None:
    """Invite a worker the hotline could not reach to call or text for free."""
    with services.db.session() as session:
        callback = session.get(Callback, callback_id)
        worker = session.get(Worker, callback.worker_id)
        if worker.opted_out:
            logger.info("Callback %s: worker opted out of SMS, no invitation sent", callback_id)
            return
        text = render("utter_callback_unreached", callback.language).sms
        phone = services.vault.decrypt(worker.phone_ciphertext)
        conversation = Conversation(worker_id=worker.id, channel="sms", language=callback.language)
        session.add(conversation)
        session.flush()
        message = Message(
            conversation_id=conversation.id, direction="outbound", channel="sms",
            body_ciphertext=services.vault.encrypt(text), language=callback.language,
            status="queued", segments=segment_count(text), part_index=0,
        )
        session.add(message)
        session.flush()
        message_id = message.id

    base = services.settings.public_base_url.rstrip("/")
    sid, error_code = services.sms_sender.send(phone, text, status_callback=f"{base}/twilio/status?message={message_id}")
    with services.db.session() as session:
        message = session.get(Message, message_id)
        message.provider_sid, message.status = sid, ("accepted" if sid else "failed")
        message.error_code = error_code
    logger.info("Callback %s: unreached, invitation SMS %s", callback_id, "sent" if sid else f"failed ({error_code})")


def mark_answered(
    services, callback_id: int, attempt_number: Optional[int], answered_by: Optional[str], call_sid: str
) -> bool:
    """Record that a callback's call was answered; return False for a machine.

    A call the dialer did not place (an agent's, say) is recorded as a new
    attempt, so its outcome is handled the same way.
    """
    machine = (answered_by or "").startswith(MACHINE_ANSWERS)
    with services.db.session() as session:
        query = select(CallAttempt).where(CallAttempt.callback_id == callback_id)
        if attempt_number is not None:
            query = query.where(CallAttempt.number == attempt_number)
        else:
            query = query.where(CallAttempt.call_sid == call_sid)
        attempt = session.execute(query.limit(1)).scalar_one_or_none()
        if attempt is None and attempt_number is None:
            # A call answered under another call SID than the one placed
            # (as the simulator does) belongs to the attempt still open.
            attempt = session.execute(
                select(CallAttempt)
                .where(CallAttempt.callback_id == callback_id, CallAttempt.status.not_in(FINAL_ATTEMPT_STATUSES))
                .order_by(CallAttempt.number.desc()).limit(1)
            ).scalar_one_or_none()
            if attempt is not None:
                attempt.call_sid = call_sid
        if attempt is None:
            callback = session.get(Callback, callback_id)
            callback.attempts += 1
            attempt = CallAttempt(
                callback_id=callback_id, number=callback.attempts, call_sid=call_sid,
                status="in-progress", placed_at=datetime.now(timezone.utc),
            )
            session.add(attempt)
        attempt.answered_by = answered_by
        if attempt.status not in FINAL_ATTEMPT_STATUSES:
            attempt.status = "in-progress"
    return not machine

