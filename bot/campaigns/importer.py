"""Importing a validated roster: the audit, its workers and their callbacks.

Each worker's first attempt is planned before anything is written, so a
worker whose window can never be called under the quiet hours fails the
roster instead of being skipped. A callback that already exists for the
same audit and worker is left as it is, which makes importing twice safe.
A corrected roster updates callbacks not yet called, and a withdrawn
consent stops any further call.
"""

import logging
from dataclasses import dataclass, field
from datetime import datetime, time, timezone
from typing import List, Optional
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.campaigns.roster import Roster, RosterError, RowError
from bot.campaigns.schedule import NoSlotError, Preference, first_attempt
from bot.config import Settings
from bot.db.models import Audit, Callback, Factory, Worker
from bot.privacy import Vault, number_country, pseudonymise

logger = logging.getLogger(__name__)


@dataclass
class ImportSummary:
    audit: str
    created: int = 0
    updated: int = 0
    unchanged: int = 0
    late: int = 0
    not_consented: int = 0
    callback_ids: List[int] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {
            "audit": self.audit,
            "created": self.created,
            "updated": self.updated,
            "unchanged": self.unchanged,
            "late": self.late,
            "not_consented": self.not_consented,
        }


# The window of a callback created without a roster (by an agent, say).
DEFAULT_WINDOW = (time(9, 0), time(20, 0))


def preference_of(callback: Callback) -> Preference:
    """Return the worker's window of a callback, or the default window when it has none."""
    start = time.fromisoformat(callback.window_start) if callback.window_start else DEFAULT_WINDOW[0]
    end = time.fromisoformat(callback.window_end) if callback.window_end else DEFAULT_WINDOW[1]
    return Preference(window_start=start, window_end=end, preferred_date=callback.preferred_date)


def _find_or_create_audit(session: Session, roster: Roster) -> Audit:
    info = roster.audit
    audit = session.execute(select(Audit).where(Audit.reference == info.reference)).scalar_one_or_none()
    if audit is not None:
        if audit.last_day != info.last_day or audit.timezone != info.timezone or audit.country != info.country:
            raise RosterError([RowError(2, (
                f"audit {info.reference} was imported before with another last day, "
                "country or time zone; correct the roster or use a new audit id"
            ))])
        return audit

    factory = None
    if info.factory_code:
        factory = session.execute(select(Factory).where(Factory.code == info.factory_code)).scalar_one_or_none()
    audit = Audit(
        reference=info.reference,
        factory_id=factory.id if factory else None,
        factory_code=info.factory_code,
        supplier_reference=info.supplier_reference,
        country=info.country,
        timezone=info.timezone,
        last_day=info.last_day,
    )
    session.add(audit)
    session.flush()
    return audit


_LOOKUP_CHUNK = 500


def _workers_by_pseudonym(session: Session, vault: Vault, settings: Settings, entries) -> dict:
    """Return the roster's workers by E.164 number, creating the new ones in bulk."""
    pseudonyms = {entry.e164: pseudonymise(entry.e164, settings.pseudonym_key) for entry in entries}
    found = {}
    values = list(pseudonyms.values())
    for start in range(0, len(values), _LOOKUP_CHUNK):
        chunk = values[start:start + _LOOKUP_CHUNK]
        for worker in session.execute(select(Worker).where(Worker.pseudonym.in_(chunk))).scalars():
            found[worker.pseudonym] = worker
    new = []
    for entry in entries:
        pseudonym = pseudonyms[entry.e164]
        if pseudonym not in found:
            worker = Worker(
                pseudonym=pseudonym,
                phone_ciphertext=vault.encrypt(entry.e164),
                country=number_country(entry.e164),
                language=entry.language,
            )
            found[pseudonym] = worker
            new.append(worker)
        elif found[pseudonym].language is None:
            found[pseudonym].language = entry.language
    session.add_all(new)
    session.flush()
    return {e164: found[pseudonym] for e164, pseudonym in pseudonyms.items()}


def _apply_changes(callback: Callback, entry, due, late) -> bool:
    """Bring a callback in line with a corrected roster row; return whether it changed.

    A withdrawn consent always stops further calls. Other corrections apply
    only while no call has been placed.
    """
    if not entry.consent and callback.consent:
        callback.consent = False
        if callback.status in ("scheduled", "reschedule_requested"):
            callback.status, callback.due_at = "opted_out", None
        return True
    wanted = (entry.language, entry.window_start.strftime("%H:%M"), entry.window_end.strftime("%H:%M"), entry.preferred_date)
    current = (callback.language, callback.window_start, callback.window_end, callback.preferred_date)
    if wanted == current and entry.consent == callback.consent:
        return False
    if callback.status != "scheduled" or callback.attempts:
        return False
    callback.language, callback.window_start, callback.window_end, callback.preferred_date = wanted
    callback.consent, callback.due_at, callback.late = True, due, late
    return True


def import_roster(
    session: Session, vault: Vault, settings: Settings, roster: Roster, now: Optional[datetime] = None
) -> ImportSummary:
    """Store the roster's audit and one scheduled callback per new worker.

    Raises:
        RosterError: a worker cannot be scheduled, or the audit clashes with
            an earlier import. Nothing is written then.
    """
    now = now or datetime.now(timezone.utc)
    zone = ZoneInfo(roster.audit.timezone)
    rules = settings.calling_rules()

    plans, errors = [], []
    for entry in roster.workers:
        preference = Preference(entry.window_start, entry.window_end, entry.preferred_date)
        try:
            due, late = first_attempt(
                roster.audit.last_day, preference, rules, zone, now, settings.callback_delay_days
            )
        except NoSlotError as error:
            errors.append(RowError(entry.line, str(error)))
            continue
        plans.append((entry, due, late))
    if errors:
        raise RosterError(errors)

    summary = ImportSummary(audit=roster.audit.reference)
    with session.begin_nested():
        audit = _find_or_create_audit(session, roster)
        workers = _workers_by_pseudonym(session, vault, settings, [entry for entry, _, _ in plans])
        existing = {
            callback.worker_id: callback
            for callback in session.execute(select(Callback).where(Callback.audit_id == audit.id)).scalars()
        }
        created = []
        for entry, due, late in plans:
            worker = workers[entry.e164]
            if worker.id in existing:
                if _apply_changes(existing[worker.id], entry, due, late):
                    summary.updated += 1
                else:
                    summary.unchanged += 1
                continue
            callback = Callback(
                audit_id=audit.id,
                worker_id=worker.id,
                language=entry.language,
                status="scheduled" if entry.consent else "opted_out",
                window_start=entry.window_start.strftime("%H:%M"),
                window_end=entry.window_end.strftime("%H:%M"),
                preferred_date=entry.preferred_date,
                consent=entry.consent,
                due_at=due if entry.consent else None,
                late=late and entry.consent,
            )
            created.append(callback)
            summary.created += 1
            summary.late += int(callback.late)
            summary.not_consented += int(not entry.consent)
        session.add_all(created)
        session.flush()
        summary.callback_ids = [callback.id for callback in existing.values()] + [callback.id for callback in created]

    logger.info(
        "Audit %s: roster imported, %s callbacks created, %s unchanged, %s late",
        audit.reference, summary.created, summary.unchanged, summary.late,
    )
    return summary
