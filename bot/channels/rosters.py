"""The roster API: ``POST /api/rosters``, for auditors' tools, with a bearer token.

The body is a roster as JSON (``{"audit": {...}, "workers": [...]}``), as
CSV (``Content-Type: text/csv``), or a form upload with the CSV in a
``roster`` file field. A valid roster returns 201 with what was created;
an invalid one returns 422 with every bad row and imports nothing.
"""

import logging

from flask import Blueprint, current_app, request

from bot.campaigns.importer import import_roster
from bot.channels.bearer import has_bearer_token
from bot.campaigns.roster import RosterError, RowError, parse_csv, parse_json

logger = logging.getLogger(__name__)

blueprint = Blueprint("rosters", __name__, url_prefix="/api")
MAX_ROSTER_BYTES = 20 * 1024 * 1024


def _parse():
    rules = current_app.config["HOTLINE"].calling_rules()
    if request.is_json:
        document = request.get_json(silent=True)
        if document is None:
            raise RosterError([RowError(0, "the body is not valid JSON")])
        return parse_json(document, rules)
    upload = request.files.get("roster")
    if upload is not None:
        return parse_csv(upload.read().decode("utf-8-sig"), rules)
    if request.mimetype in ("text/csv", "text/plain"):
        return parse_csv(request.get_data(as_text=True), rules)
    raise RosterError([])


@blueprint.post("/rosters")
def upload_roster():
    if not has_bearer_token(current_app.config["HOTLINE"].roster_api_token):
        logger.warning("Roster API: request with a missing or invalid token rejected")
        return {"error": "missing or invalid bearer token; set Authorization: Bearer <ROSTER_API_TOKEN>"}, 401
    if (request.content_length or 0) > MAX_ROSTER_BYTES:
        return {"error": f"roster larger than {MAX_ROSTER_BYTES} bytes; split it per audit"}, 413

    try:
        roster = _parse()
        services = current_app.extensions["hotline"]
        with services.db.session() as session:
            summary = import_roster(session, services.vault, services.settings, roster)
    except UnicodeDecodeError:
        return {"error": "the CSV is not UTF-8 text"}, 422
    except RosterError as error:
        if not error.errors:
            return {"error": "expected JSON, text/csv, or a form upload with a roster file field"}, 415
        logger.info("Roster API: roster rejected with %s bad rows", len(error.errors))
        return {"errors": [{"line": e.line, "reason": e.reason} for e in error.errors]}, 422
    return summary.as_dict(), 201
