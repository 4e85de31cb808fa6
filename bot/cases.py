"""Grievance cases and their reference codes.

A reference code is eight digits, seven random ones and a Damm check digit,
so a worker can read it out, type it on any keypad, and a single wrong digit
or two swapped neighbours are caught before a look-up.
"""

import logging
import re
import secrets
from dataclasses import dataclass
from typing import Optional

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from bot.db.models import Case, Factory, Worker
from bot.privacy import Vault

logger = logging.getLogger(__name__)

CATEGORIES = (
    "wages",
    "working_hours",
    "child_labour",
    "forced_labour",
    "harassment_abuse",
    "health_safety",
    "discrimination",
    "freedom_of_association",
    "living_conditions",
    "retaliation",
    "other",
)
# Grievances that go to a person at once. Harassment and abuse covers
# violence and sexual abuse, so it is critical as a whole.
CRITICAL_CATEGORIES = frozenset(
    {"child_labour", "forced_labour", "harassment_abuse", "retaliation"}
)
STATUSES = ("new", "triaged", "investigating", "action_requested", "remediated", "closed")

REFERENCE_DIGITS = 8
_CODE_IN_TEXT = re.compile(r"(?<!\d)(\d{4})[\s.-]?(\d{4})(?!\d)")
_MAX_CODE_ATTEMPTS = 10

# Damm's quasigroup of order 10 (H. M. Damm, 2004).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm_digit(digits: str) -> str:
    interim = 0
    for digit in digits:
        interim = _DAMM[interim][int(digit)]
    return str(interim)


def is_valid_reference(code: str) -> bool:
    return len(code) == REFERENCE_DIGITS and code.isdigit() and damm_digit(code) == "0"


def new_reference_code() -> str:
    body = "".join(secrets.choice("0123456789") for _ in range(REFERENCE_DIGITS - 1))
    return body + damm_digit(body)


def format_reference(code: str) -> str:
    """Return the code as it is shown to a worker: ``4821 3307``."""
    return f"{code[:4]} {code[4:]}"


def find_reference_in_text(text: str) -> Optional[str]:
    """Return the first eight-digit code written in ``text``, valid or not."""
    match = _CODE_IN_TEXT.search(text or "")
    return match.group(1) + match.group(2) if match else None


def severity_of(category: str) -> str:
    return "critical" if category in CRITICAL_CATEGORIES else "normal"


@dataclass
class Grievance:
    """What the intake form collected, in the worker's own words."""

    category: str
    description: str
    factory_text: Optional[str] = None
    factory_id: Optional[int] = None
    since_when: Optional[str] = None
    still_happening: Optional[str] = None
    others_affected: Optional[str] = None
    callback_safe: Optional[str] = None
    callback_time: Optional[str] = None
    language: Optional[str] = None
    channel: str = "sms"


def create_case(
    session: Session,
    vault: Vault,
    worker: Worker,
    grievance: Grievance,
    conversation_id: Optional[int] = None,
) -> Case:
    """Store a grievance as a new case with a unique reference code."""
    if grievance.category not in CATEGORIES:
        raise ValueError(
            f"category {grievance.category!r} is invalid: use one of {', '.join(CATEGORIES)}"
        )

    for _ in range(_MAX_CODE_ATTEMPTS):
        case = Case(
            reference_code=new_reference_code(),
            worker_id=worker.id,
            conversation_id=conversation_id,
            factory_id=grievance.factory_id,
            category=grievance.category,
            severity=severity_of(grievance.category),
            status="new",
            language=grievance.language,
            channel=grievance.channel,
            description_ciphertext=vault.encrypt(grievance.description),
            factory_reported_ciphertext=vault.encrypt(grievance.factory_text),
            since_when_ciphertext=vault.encrypt(grievance.since_when),
            still_happening=grievance.still_happening,
            others_affected=grievance.others_affected,
            callback_safe=grievance.callback_safe,
            callback_time_ciphertext=vault.encrypt(grievance.callback_time),
        )
        try:
            with session.begin_nested():
                session.add(case)
        except IntegrityError:
            continue
        logger.info(
            "Case %s: created for worker %s, category %s, severity %s",
            case.id, worker.pseudonym, case.category, case.severity,
        )
        return case
    raise RuntimeError("no free reference code after several attempts")


def find_case_of_worker(session: Session, worker: Worker, code: str) -> Optional[Case]:
    """Return the case with ``code`` only if it belongs to ``worker``."""
    return session.execute(
        select(Case).where(Case.reference_code == code, Case.worker_id == worker.id)
    ).scalar_one_or_none()


def find_factory(session: Session, text: str) -> Optional[Factory]:
    """Match a factory by the code on the hotline card, else by its exact name."""
    cleaned = text.strip()
    if not cleaned:
        return None
    by_code = session.execute(
        select(Factory).where(Factory.code == cleaned.upper().replace(" ", ""))
    ).scalar_one_or_none()
    if by_code is not None:
        return by_code
    for factory in session.execute(select(Factory)).scalars():
        if factory.name.casefold() == cleaned.casefold():
            return factory
    return None
