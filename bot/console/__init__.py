"""The agents' console: sign-in, the escalation queue, and account management.

Pages are rendered on the server with Jinja, which escapes every value.
"""

import logging
from datetime import timedelta

from flask import Blueprint, abort, current_app, flash, g, redirect, render_template, request, url_for

from bot.console.accounts import AccountError, ROLES, allowed, authenticate, create_account, record
from bot.console.auth import check_csrf, csrf_token, current_account, requires, sign_in
from bot.cases import CATEGORIES, STATUSES
from bot.console.calls import MaskedCallError, place_masked_call
from bot.console.cases import CaseChangeError, case_notes, case_view, change_case
from bot.console.queue import claim, format_duration, queue_rows
from bot.console.reveal import RevealError, decide_reveal, pending_reveals, request_reveal, show_number
from bot.db.models import Account, Case, Escalation, RevealRequest

logger = logging.getLogger(__name__)

blueprint = Blueprint("console", __name__, url_prefix="/console", template_folder="templates")
SESSION_LIFETIME = timedelta(hours=8)


def _services():
    return current_app.extensions["hotline"]


@blueprint.app_context_processor
def _template_helpers():
    return {"csrf_token": csrf_token, "format_duration": format_duration}


@blueprint.get("/")
def home():
    account = current_account()
    if account is None:
        return redirect(url_for("console.sign_in_form"))
    if allowed(account.role, "view_queue"):
        return redirect(url_for("console.queue"))
    if allowed(account.role, "manage_accounts"):
        return redirect(url_for("console.accounts"))
    return render_template("console/home.html", account=account)


@blueprint.get("/sign-in")
def sign_in_form():
    return render_template("console/sign_in.html", error=None)


@blueprint.post("/sign-in")
def sign_in_submit():
    check_csrf()
    with _services().db.session() as session:
        account, error = authenticate(session, request.form.get("username", ""), request.form.get("password", ""))
        if account is not None:
            sign_in(account)
    if error:
        return render_template("console/sign_in.html", error=error), 401
    target = request.args.get("next", "")
    # Only a path of this console, never another site.
    if not target.startswith("/console/") or target.startswith("//"):
        target = url_for("console.home")
    return redirect(target)


@blueprint.post("/sign-out")
def sign_out():
    from flask import session

    check_csrf()
    account_id = session.get("account_id")
    session.clear()
    if account_id is not None:
        with _services().db.session() as db_session:
            record(db_session, account_id, "signed_out")
    return redirect(url_for("console.sign_in_form"))


@blueprint.get("/queue")
@requires("view_queue")
def queue():
    services = _services()
    with services.db.session() as session:
        rows = queue_rows(session, services.settings)
    return render_template("console/queue.html", account=g.account, rows=rows)


@blueprint.post("/escalations/<int:escalation_id>/claim")
@requires("claim_escalation")
def claim_escalation(escalation_id: int):
    services = _services()
    with services.db.session() as session:
        claimed = claim(session, services, escalation_id, g.account)
    if not claimed:
        flash(f"Escalation {escalation_id}, or another one of the same worker, was already claimed by someone else.")
    return redirect(url_for("console.queue"))


@blueprint.get("/escalations/<int:escalation_id>")
@requires("read_case")
def escalation(escalation_id: int):
    services = _services()
    with services.db.session() as session:
        view = case_view(session, services.vault, escalation_id, g.account.language, services.settings.translate_base_url)
        if view is None:
            abort(404)
        record(session, g.account.id, "read_case", subject=f"escalation:{escalation_id}")
        notes = case_notes(session, services.vault, view.case.id) if view.case else []
        approved = session.query(RevealRequest).filter_by(
            escalation_id=escalation_id, requested_by=g.account.id, status="approved"
        ).all()
        return render_template(
            "console/escalation.html", account=g.account, view=view, notes=notes,
            categories=CATEGORIES, statuses=STATUSES, approved=approved,
        )


@blueprint.post("/escalations/<int:escalation_id>/case")
@requires("manage_case")
def update_case(escalation_id: int):
    services = _services()
    with services.db.session() as session:
        escalation = session.get(Escalation, escalation_id)
        case = session.get(Case, escalation.case_id) if escalation and escalation.case_id else None
        if case is None:
            abort(404)
        try:
            changed = change_case(
                session, services.vault, case, g.account,
                request.form.get("note", ""), request.form.get("category", ""), request.form.get("status", ""),
            )
        except CaseChangeError as error:
            flash(str(error))
            return redirect(url_for("console.escalation", escalation_id=escalation_id))
    if changed:
        flash(f"Saved: {', '.join(changed)}.")
    return redirect(url_for("console.escalation", escalation_id=escalation_id))


@blueprint.post("/escalations/<int:escalation_id>/call")
@requires("call_worker")
def call_worker(escalation_id: int):
    services = _services()
    with services.db.session() as session:
        escalation = session.get(Escalation, escalation_id)
        if escalation is None:
            abort(404)
        account = session.get(Account, g.account.id)
        try:
            place_masked_call(session, services, escalation, account)
        except MaskedCallError as error:
            flash(str(error))
        else:
            flash("Your phone will ring now; answer it to be connected to the worker.")
    return redirect(url_for("console.escalation", escalation_id=escalation_id))


@blueprint.post("/escalations/<int:escalation_id>/reveal")
@requires("request_reveal")
def ask_reveal(escalation_id: int):
    with _services().db.session() as session:
        try:
            request_reveal(session, escalation_id, g.account, request.form.get("reason", ""))
        except RevealError as error:
            flash(str(error))
        else:
            flash("Asked a supervisor to approve showing the number.")
    return redirect(url_for("console.escalation", escalation_id=escalation_id))


@blueprint.get("/reveals")
@requires("approve_reveal")
def reveals():
    with _services().db.session() as session:
        pending = pending_reveals(session)
    return render_template("console/reveals.html", account=g.account, pending=pending)


@blueprint.post("/reveals/<int:request_id>")
@requires("approve_reveal")
def decide(request_id: int):
    with _services().db.session() as session:
        try:
            decide_reveal(session, request_id, g.account, request.form.get("decision") == "approve")
        except RevealError as error:
            flash(str(error))
    return redirect(url_for("console.reveals"))


@blueprint.post("/reveals/<int:request_id>/show")
@requires("request_reveal")
def show(request_id: int):
    services = _services()
    with services.db.session() as session:
        number = show_number(session, services.vault, request_id, g.account)
    if number is None:
        abort(403, description="this number was not approved for you, or it was shown already")
    return render_template("console/number.html", account=g.account, number=number)


@blueprint.get("/accounts")
@requires("manage_accounts")
def accounts():
    with _services().db.session() as session:
        listed = session.query(Account).order_by(Account.username).all()
    return render_template("console/accounts.html", account=g.account, accounts=listed, roles=ROLES, error=None)


@blueprint.post("/accounts")
@requires("manage_accounts")
def create_account_submit():
    form = request.form
    with _services().db.session() as session:
        try:
            created = create_account(
                session, form.get("username", ""), form.get("password", ""), form.get("role", ""),
                form.get("language", "en"), phone=form.get("phone") or None, vault=_services().vault,
            )
        except AccountError as error:
            listed = session.query(Account).order_by(Account.username).all()
            return render_template("console/accounts.html", account=g.account, accounts=listed, roles=ROLES, error=str(error)), 422
        record(session, g.account.id, "created_account", subject=f"account:{created.id}", detail=created.role)
    return redirect(url_for("console.accounts"))


@blueprint.post("/accounts/<int:account_id>/active")
@requires("manage_accounts")
def set_account_active(account_id: int):
    active = request.form.get("active") == "yes"
    with _services().db.session() as session:
        target = session.get(Account, account_id)
        if target is None:
            abort(404)
        if target.id == g.account.id and not active:
            flash("You cannot deactivate your own account.")
            return redirect(url_for("console.accounts"))
        target.active = active
        if active:
            target.failed_logins, target.locked_until = 0, None
        record(session, g.account.id, "activated_account" if active else "deactivated_account", subject=f"account:{target.id}")
    return redirect(url_for("console.accounts"))


@blueprint.errorhandler(403)
def forbidden(error):
    return render_template("console/error.html", message=error.description), 403
