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
