"""Campaign reports: each callback's state, and counts per outcome.

Reports show callback ids, languages and states, never a number: they may
be read by a brand's staff.
"""

from collections import Counter
from dataclasses import dataclass
from typing import List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.db.models import Audit, Callback, as_utc

STATES = ("scheduled", "dialing", "in_progress", "completed", "reschedule_requested", "unreached", "opted_out")


@dataclass
class CallbackRow:
    id: int
    language: str
    status: str
    attempts: int
    last_outcome: Optional[str]
    next_local: Optional[str]
    next_utc: Optional[str]
    late: bool


def find_audit(session: Session, reference: str) -> Audit:
    audit = session.execute(select(Audit).where(Audit.reference == reference)).scalar_one_or_none()
    if audit is None:
        raise LookupError(f"audit {reference!r} not found; import its roster first")
    return audit



def callback_rows(session: Session, reference: str) -> List[CallbackRow]:
    audit = find_audit(session, reference)
    zone = ZoneInfo(audit.timezone)
    rows = []
    for callback in session.execute(
        select(Callback).where(Callback.audit_id == audit.id).order_by(Callback.id)
    ).scalars():
        due = as_utc(callback.due_at) if callback.status == "scheduled" else None
        rows.append(CallbackRow(
            id=callback.id,
            language=callback.language,
            status=callback.status,
            attempts=callback.attempts,
            last_outcome=callback.last_outcome,
            next_local=due.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z") if due else None,
            next_utc=due.strftime("%Y-%m-%d %H:%M UTC") if due else None,
            late=callback.late,
        ))
    return rows


def progress(session: Session, reference: str) -> Counter:
    audit = find_audit(session, reference)
    counts = Counter({state: 0 for state in STATES})
    for (status,) in session.execute(select(Callback.status).where(Callback.audit_id == audit.id)):
        counts[status] += 1
    return counts


def format_rows(rows: List[CallbackRow]) -> str:
    header = f"{'callback':>8}  {'lang':4}  {'state':20}  {'tries':>5}  {'last outcome':12}  next attempt (factory time / UTC)"
    lines = [header, "-" * len(header)]
    for row in rows:
        due = f"{row.next_local} / {row.next_utc}" if row.next_local else "-"
        if row.late:
            due += "  (late)"
        lines.append(
            f"{row.id:>8}  {row.language:4}  {row.status:20}  {row.attempts:>5}  {(row.last_outcome or '-'):12}  {due}"
        )
    return "\n".join(lines)


def format_progress(reference: str, counts: Counter, width: int = 40) -> str:
    total = sum(counts.values()) or 1
    done = counts["completed"] + counts["unreached"] + counts["opted_out"]
    filled = round(width * done / total)
    bar = "#" * filled + "." * (width - filled)
    parts = ", ".join(f"{state} {counts[state]}" for state in STATES if counts[state])
    return f"{reference} [{bar}] {done}/{sum(counts.values())} done: {parts}"
