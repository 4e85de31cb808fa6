"""What an agent reads about an escalation: the case, the answers and the transcript."""

from dataclasses import dataclass, field
from typing import List, Optional

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.console.translation import Translation, translate_all
from bot.db.models import Audit, Callback, Case, Conversation, Escalation, Factory, Message, QuestionnaireAnswer

TRANSCRIPT_MESSAGES = 200


@dataclass
class TranscriptLine:
    direction: str
    channel: str
    language: Optional[str]
    sent_at: str
    translation: Translation


@dataclass
class CaseView:
    escalation: Escalation
    case: Optional[Case]
    details: dict = field(default_factory=dict)
    answers: List[QuestionnaireAnswer] = field(default_factory=list)
    transcript: List[TranscriptLine] = field(default_factory=list)


def case_view(session: Session, vault, escalation_id: int, agent_language: str, translate_base_url: Optional[str]) -> Optional[CaseView]:
    escalation = session.get(Escalation, escalation_id)
    if escalation is None:
        return None
    case = session.get(Case, escalation.case_id) if escalation.case_id else None
    view = CaseView(escalation=escalation, case=case)
    if case is not None:
        factory = session.get(Factory, case.factory_id) if case.factory_id else None
        callback = session.get(Callback, case.callback_id) if case.callback_id else None
        audit = session.get(Audit, callback.audit_id) if callback else None
        view.details = {
            "Description": vault.decrypt(case.description_ciphertext),
            "Factory": factory.name if factory else vault.decrypt(case.factory_reported_ciphertext),
            "Audit": audit.reference if audit else None,
            "Since when": vault.decrypt(case.since_when_ciphertext),
            "Still happening": case.still_happening,
            "Others affected": case.others_affected,
            "Safe to call back": case.callback_safe,
        }
        if callback is not None:
            view.answers = list(session.execute(
                select(QuestionnaireAnswer).where(QuestionnaireAnswer.callback_id == callback.id)
            ).scalars())
    view.details["Safe time for a call back"] = vault.decrypt(escalation.callback_time_ciphertext)

    messages = list(session.execute(
        select(Message).join(Conversation).where(Conversation.worker_id == escalation.worker_id)
        .order_by(Message.id.desc()).limit(TRANSCRIPT_MESSAGES)
    ).scalars())[::-1]
    texts = [vault.decrypt(message.body_ciphertext) for message in messages]
    foreign = [i for i, message in enumerate(messages) if (message.language or "") != agent_language]
    translated = translate_all([texts[i] for i in foreign], agent_language, translate_base_url or None)
    by_index = dict(zip(foreign, translated))
    for index, message in enumerate(messages):
        translation = by_index.get(index) or Translation(original=texts[index], text=texts[index], source=message.language)
        view.transcript.append(TranscriptLine(
            direction=message.direction, channel=message.channel, language=message.language,
            sent_at=message.created_at.strftime("%Y-%m-%d %H:%M"), translation=translation,
        ))
    return view


class CaseChangeError(ValueError):
    """A change to a case is not allowed; the message gives the reason."""


def change_case(session: Session, vault, case: Case, account, note: str, category: str, status: str) -> List[str]:
    """Apply an agent's note, category and status to a case; return what changed.

    A closed case is reopened by a supervisor only. Every change enters the
    audit trail; the worker's reference code reports the new status.
    """
    from bot.cases import CATEGORIES, STATUSES, severity_of
    from bot.console.accounts import record
    from bot.db.models import CaseNote

    changed = []
    if category and category != case.category:
        if category not in CATEGORIES:
            raise CaseChangeError(f"category {category!r} is invalid: use one of {', '.join(CATEGORIES)}")
        record(session, account.id, "changed_category", subject=f"case:{case.id}", detail=f"{case.category} -> {category}")
        case.category, case.severity = category, severity_of(category)
        changed.append("category")
    if status and status != case.status:
        if status not in STATUSES:
            raise CaseChangeError(f"status {status!r} is invalid: use one of {', '.join(STATUSES)}")
        if case.status == "closed" and account.role != "supervisor":
            raise CaseChangeError("a closed case is reopened by a supervisor only")
        record(session, account.id, "changed_status", subject=f"case:{case.id}", detail=f"{case.status} -> {status}")
        case.status = status
        changed.append("status")
    if note.strip():
        session.add(CaseNote(case_id=case.id, account_id=account.id, body_ciphertext=vault.encrypt(note.strip())))
        record(session, account.id, "added_note", subject=f"case:{case.id}")
        changed.append("note")
    return changed


def case_notes(session: Session, vault, case_id: int):
    from bot.db.models import Account, CaseNote

    rows = session.execute(
        select(CaseNote, Account.username).join(Account, CaseNote.account_id == Account.id)
        .where(CaseNote.case_id == case_id).order_by(CaseNote.id)
    ).all()
    return [(username, note.created_at.strftime("%Y-%m-%d %H:%M"), vault.decrypt(note.body_ciphertext)) for note, username in rows]
