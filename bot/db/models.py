"""Tables of the relational store.

Columns named ``*_ciphertext`` hold Fernet tokens made by ``bot.privacy.Vault``;
nothing in these tables shows a phone number or a worker's words in clear.
"""

from datetime import datetime, timezone

from sqlalchemy import (
    Boolean,
    Column,
    Date,
    DateTime,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import declarative_base, relationship

Base = declarative_base()


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def as_utc(moment):
    """Return a stored datetime as timezone-aware UTC; SQLite returns it naive."""
    if moment is None:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


class Worker(Base):
    __tablename__ = "workers"

    id = Column(Integer, primary_key=True)
    pseudonym = Column(String(40), nullable=False, unique=True)
    phone_ciphertext = Column(LargeBinary, nullable=False)
    country = Column(String(2))
    language = Column(String(8))
    opted_out = Column(Boolean, nullable=False, default=False)
    opted_out_at = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    conversations = relationship("Conversation", back_populates="worker")


class Conversation(Base):
    """A run of messages with one worker on one channel, split after a pause."""

    __tablename__ = "conversations"

    id = Column(Integer, primary_key=True)
    worker_id = Column(ForeignKey("workers.id"), nullable=False, index=True)
    channel = Column(String(10), nullable=False)
    language = Column(String(8))
    started_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    last_message_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    worker = relationship("Worker", back_populates="conversations")
    messages = relationship("Message", back_populates="conversation", order_by="Message.id")


class Message(Base):
    """One inbound or outbound message; ``provider_sid`` makes inbound ones unique."""

    __tablename__ = "messages"
    __table_args__ = (UniqueConstraint("provider_sid", name="uq_messages_provider_sid"),)

    id = Column(Integer, primary_key=True)
    conversation_id = Column(ForeignKey("conversations.id"), nullable=False, index=True)
    direction = Column(String(8), nullable=False)
    channel = Column(String(10), nullable=False)
    provider_sid = Column(String(64))
    body_ciphertext = Column(LargeBinary, nullable=False)
    language = Column(String(8))
    # Inbound: received, processed, failed, ignored. Outbound: queued, then
    # Twilio's own statuses (sending, sent, delivered, undelivered, failed).
    status = Column(String(16), nullable=False)
    error_code = Column(String(16))
    segments = Column(Integer)
    part_index = Column(Integer)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    conversation = relationship("Conversation", back_populates="messages")


class Factory(Base):
    """A factory whose workers hold a hotline card printed with its code."""

    __tablename__ = "factories"

    id = Column(Integer, primary_key=True)
    code = Column(String(16), nullable=False, unique=True)
    name = Column(String(200), nullable=False)
    country = Column(String(2))


class Case(Base):
    """A grievance, known to the worker by its reference code."""

    __tablename__ = "cases"

    id = Column(Integer, primary_key=True)
    reference_code = Column(String(8), nullable=False, unique=True)
    worker_id = Column(ForeignKey("workers.id"), nullable=False, index=True)
    conversation_id = Column(ForeignKey("conversations.id"))
    factory_id = Column(ForeignKey("factories.id"))
    category = Column(String(40), nullable=False)
    severity = Column(String(10), nullable=False)
    status = Column(String(20), nullable=False, default="new")
    language = Column(String(8))
    channel = Column(String(10))
    description_ciphertext = Column(LargeBinary, nullable=False)
    factory_reported_ciphertext = Column(LargeBinary)
    since_when_ciphertext = Column(LargeBinary)
    still_happening = Column(String(10))
    others_affected = Column(String(10))
    callback_safe = Column(String(10))
    callback_time_ciphertext = Column(LargeBinary)
    callback_id = Column(ForeignKey("callbacks.id"))
    recording_url_ciphertext = Column(LargeBinary)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    factory = relationship("Factory")


class Escalation(Base):
    """A request for a person to call a worker back; agents work these in order."""

    __tablename__ = "escalations"

    id = Column(Integer, primary_key=True)
    worker_id = Column(ForeignKey("workers.id"), nullable=False, index=True)
    case_id = Column(ForeignKey("cases.id"))
    reason = Column(String(30), nullable=False)
    severity = Column(String(10), nullable=False)
    status = Column(String(12), nullable=False, default="queued")
    language = Column(String(8))
    channel = Column(String(10))
    callback_time_ciphertext = Column(LargeBinary)
    claimed_by = Column(ForeignKey("accounts.id"))
    claimed_at = Column(DateTime(timezone=True))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)

    case = relationship("Case")


class Audit(Base):
    """A factory audit whose interviewed workers are called back afterwards."""

    __tablename__ = "audits"

    id = Column(Integer, primary_key=True)
    reference = Column(String(64), nullable=False, unique=True)
    factory_id = Column(ForeignKey("factories.id"))
    factory_code = Column(String(16))
    supplier_reference = Column(String(64))
    country = Column(String(2))
    timezone = Column(String(64))
    last_day = Column(Date)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class Callback(Base):
    """A post-audit call to one interviewed worker."""

    __tablename__ = "callbacks"

    id = Column(Integer, primary_key=True)
    __table_args__ = (UniqueConstraint("audit_id", "worker_id", name="uq_callbacks_audit_worker"),)

    audit_id = Column(ForeignKey("audits.id"), nullable=False, index=True)
    worker_id = Column(ForeignKey("workers.id"), nullable=False, index=True)
    language = Column(String(8), nullable=False)
    # scheduled, dialing, in_progress, completed, reschedule_requested,
    # unreached, opted_out. The outcome of each try is in call_attempts.
    status = Column(String(24), nullable=False, default="scheduled")
    call_sid = Column(String(64))
    reschedule_ciphertext = Column(LargeBinary)
    window_start = Column(String(5))
    window_end = Column(String(5))
    preferred_date = Column(Date)
    consent = Column(Boolean, nullable=False, default=True)
    due_at = Column(DateTime(timezone=True), index=True)
    late = Column(Boolean, nullable=False, default=False)
    attempts = Column(Integer, nullable=False, default=0)
    last_outcome = Column(String(16))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    updated_at = Column(DateTime(timezone=True), nullable=False, default=utcnow, onupdate=utcnow)

    audit = relationship("Audit")


class QuestionnaireAnswer(Base):
    """One answer of the retaliation questionnaire, kept per callback and audit."""

    __tablename__ = "questionnaire_answers"
    __table_args__ = (UniqueConstraint("callback_id", "question", name="uq_answers_callback_question"),)

    id = Column(Integer, primary_key=True)
    callback_id = Column(ForeignKey("callbacks.id"), nullable=False, index=True)
    audit_id = Column(ForeignKey("audits.id"), nullable=False, index=True)
    question = Column(String(32), nullable=False)
    # yes, no, not_sure, unclear (no usable answer after retries),
    # no_answer (the call ended first), not_asked (skipped by the flow)
    answer = Column(String(12), nullable=False)
    input_method = Column(String(8))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class CallAttempt(Base):
    """One call placed for a callback, with the outcome Twilio reported."""

    __tablename__ = "call_attempts"
    __table_args__ = (UniqueConstraint("callback_id", "number", name="uq_attempts_callback_number"),)

    id = Column(Integer, primary_key=True)
    callback_id = Column(ForeignKey("callbacks.id"), nullable=False, index=True)
    number = Column(Integer, nullable=False)
    call_sid = Column(String(64), unique=True)
    # queued, initiated, ringing, in-progress, then a final one: completed,
    # no_answer, busy, failed, machine, canceled
    status = Column(String(16), nullable=False, default="queued")
    answered_by = Column(String(24))
    error_code = Column(String(16))
    placed_at = Column(DateTime(timezone=True))
    ended_at = Column(DateTime(timezone=True))


class Account(Base):
    """A person who signs in to the console: agent, supervisor, analyst or administrator."""

    __tablename__ = "accounts"

    id = Column(Integer, primary_key=True)
    username = Column(String(64), nullable=False, unique=True)
    password_hash = Column(String(256), nullable=False)
    role = Column(String(16), nullable=False)
    active = Column(Boolean, nullable=False, default=True)
    failed_logins = Column(Integer, nullable=False, default=0)
    locked_until = Column(DateTime(timezone=True))
    language = Column(String(8), nullable=False, default="en")
    # The agent's own phone, which the hotline rings for a masked call.
    phone_ciphertext = Column(LargeBinary)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class AuditTrail(Base):
    """A record of one action in the console: who, what, and when."""

    __tablename__ = "audit_trail"

    id = Column(Integer, primary_key=True)
    account_id = Column(ForeignKey("accounts.id"))
    action = Column(String(40), nullable=False)
    subject = Column(String(40))
    detail = Column(String(400))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class CaseNote(Base):
    """An agent's note on a case, encrypted like everything the worker said."""

    __tablename__ = "case_notes"

    id = Column(Integer, primary_key=True)
    case_id = Column(ForeignKey("cases.id"), nullable=False, index=True)
    account_id = Column(ForeignKey("accounts.id"), nullable=False)
    body_ciphertext = Column(LargeBinary, nullable=False)
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)


class RevealRequest(Base):
    """An agent's request to see a worker's number, which a supervisor must approve."""

    __tablename__ = "reveal_requests"

    id = Column(Integer, primary_key=True)
    escalation_id = Column(ForeignKey("escalations.id"), nullable=False, index=True)
    requested_by = Column(ForeignKey("accounts.id"), nullable=False)
    reason = Column(String(400), nullable=False)
    # pending, approved, rejected, shown
    status = Column(String(12), nullable=False, default="pending")
    decided_by = Column(ForeignKey("accounts.id"))
    created_at = Column(DateTime(timezone=True), nullable=False, default=utcnow)
    decided_at = Column(DateTime(timezone=True))
