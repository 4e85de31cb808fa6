"""Commands behind ``./hotline``: up, simulate, train, migrate, imports and campaigns."""

import argparse
import csv
import logging
import os
import signal
import sys
import threading
import xml.etree.ElementTree as ElementTree
from dataclasses import replace
from pathlib import Path

from bot.config import VAR_DIR, load_settings
from bot.errors import ConfigError
from bot.logs import configure_logging

logger = logging.getLogger("hotline")

SIMULATOR_TWILIO_PORT = 5099
SUPERVISE_SECONDS = 5
# A number from the range the UK regulator keeps free for drama and tests.
SIMULATOR_DEFAULT_NUMBER = "+447700900123"


def _port(name: str, default: int) -> int:
    value = os.environ.get(name, str(default))
    if not value.isdigit():
        raise ConfigError(f"{name}={value!r} is invalid: use a port number.")
    return int(value)


def command_up(args) -> int:
    """Start Redis (unless REDIS_URL is set), Rasa, the action server and the gateway."""
    from bot.stack import DEFAULT_REDIS_PORT, Ports, Stack, ensure_model

    ports = Ports(
        gateway=_port("GATEWAY_PORT", 5000),
        rasa=_port("RASA_PORT", 5005),
        actions=_port("ACTIONS_PORT", 5055),
        redis=_port("LOCAL_REDIS_PORT", DEFAULT_REDIS_PORT),
    )
    own_redis = not os.environ.get("REDIS_URL")
    overrides = {
        "rasa_url": f"http://127.0.0.1:{ports.rasa}",
    }
    if own_redis:
        overrides["redis_url"] = f"redis://127.0.0.1:{ports.redis}/0"
    if not os.environ.get("PUBLIC_BASE_URL"):
        overrides["public_base_url"] = f"http://127.0.0.1:{ports.gateway}"
    settings = load_settings(**overrides)
    if not settings.is_production and not os.environ.get("TWILIO_API_BASE_URL"):
        # Development never reaches the real Twilio: the simulator plays it here.
        settings = replace(settings, twilio_api_base_url=f"http://127.0.0.1:{SIMULATOR_TWILIO_PORT}")

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    model = ensure_model(log_path=VAR_DIR / "train.log")
    stack = Stack(settings=settings, ports=ports, var_dir=VAR_DIR, start_redis=own_redis)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        stack.up(model)
        print(
            f"\nHotline is up ({settings.env}).\n"
            f"  SMS webhook:    {settings.public_base_url}/twilio/sms\n"
            f"  Status webhook: {settings.public_base_url}/twilio/status\n"
            f"  Logs:           {stack.log_dir}\n"
            f"Talk to it:  ./hotline simulate    Stop: Ctrl-C\n",
            flush=True,
        )
        while not stopping.wait(SUPERVISE_SECONDS):
            exited = stack.exited()
            if exited:
                for name in exited:
                    logger.error("Stack: %s exited with code %s; see %s", name, stack.processes[name].returncode, stack.log_path(name))
                return 1
    except KeyboardInterrupt:
        pass
    finally:
        stack.down()
    return 0


def _twiml_messages(xml_text: str):
    root = ElementTree.fromstring(xml_text)
    return [(element.text or "", element.get("action")) for element in root.iter("Message")]


def command_simulate(args) -> int:
    """Hold an SMS conversation with the running gateway, as a worker would."""
    from bot.simulator.signing import new_sid, post_signed, sms_params
    from bot.simulator.twilio_double import TwilioDouble

    settings = load_settings()
    gateway = args.gateway.rstrip("/")
    public = (os.environ.get("PUBLIC_BASE_URL") or gateway).rstrip("/")
    if args.voice or args.callback is not None:
        return command_simulate_call(args, settings, gateway, public)

    def show(message):
        if message.to == args.number:
            print(f"hotline> {message.body}", flush=True)

    def show_call(call):
        # The worker's number is not printed: the callback id is enough to answer.
        query = dict(part.split("=", 1) for part in call.url.split("?", 1)[-1].split("&") if "=" in part)
        print(
            f"(the hotline is placing callback {query.get('callback', '?')}: answer it in another terminal with "
            f"./hotline simulate --callback {query.get('callback', '?')} --number <that worker's number>)",
            flush=True,
        )

    double = TwilioDouble(
        account_sid=settings.twilio_account_sid,
        auth_token=settings.twilio_auth_token,
        port=args.twilio_port,
        on_message=show,
        on_call=show_call,
    )
    try:
        double.start()
    except OSError as error:
        print(f"Port {args.twilio_port} for Twilio's REST API is taken ({error}); long replies will not show.", file=sys.stderr)
        double = None

    print(f"Texting {gateway}/twilio/sms from {args.number}. Empty line or Ctrl-D ends.", flush=True)
    try:
        for line in sys.stdin:
            body = line.rstrip("\n")
            if not body:
                break
            params = sms_params(settings.twilio_account_sid, args.number, settings.twilio_sms_from, body)
            response = post_signed(
                settings.twilio_auth_token, f"{public}/twilio/sms", params, target_url=f"{gateway}/twilio/sms"
            )
            if response.status_code != 200:
                print(f"gateway returned {response.status_code}: {response.text[:200]}", file=sys.stderr)
                continue
            for text, action in _twiml_messages(response.text):
                print(f"hotline> {text}", flush=True)
                if action:
                    # Twilio reports the reply sent, which releases the next part.
                    status = {"MessageSid": new_sid("SM"), "MessageStatus": "sent",
                              "AccountSid": settings.twilio_account_sid}
                    target = gateway + action[len(public):] if action.startswith(public) else action
                    post_signed(settings.twilio_auth_token, action, status, target_url=target)
    except KeyboardInterrupt:
        pass
    finally:
        if double is not None:
            double.stop()
    return 0


def command_simulate_call(args, settings, gateway: str, public: str) -> int:
    """Walk the voice menus of the running gateway from a terminal."""
    from bot.simulator.voice import SimulatedCall

    call = SimulatedCall(
        auth_token=settings.twilio_auth_token,
        account_sid=settings.twilio_account_sid,
        public_base=public,
        gateway=gateway,
        worker_number=args.number,
        hotline_number=settings.twilio_sms_from,
        callback_id=args.callback,
    )
    print(
        f"Calling {gateway}/twilio/voice from {args.number}. Type digits (1, *, 1234#) to press "
        "them, words to say them, an empty line for silence, /hangup to end.",
        flush=True,
    )
    call.start()
    try:
        while True:
            for kind, line in call.heard():
                print(f"{'plays' if kind == 'play' else 'says'}> {line}", flush=True)
            if call.ended:
                print("(call ended)", flush=True)
                break
            print(f"({call.expects()})", flush=True)
            entry = sys.stdin.readline()
            if not entry or entry.strip() == "/hangup":
                break
            entry = entry.strip()
            if not entry:
                call.silence()
            elif all(ch in "0123456789*#" for ch in entry):
                call.press(entry.rstrip("#"))
            else:
                call.say(entry)
    except KeyboardInterrupt:
        pass
    finally:
        call.hang_up()
    return 0


def command_train(args) -> int:
    from bot.stack import ensure_model

    VAR_DIR.mkdir(parents=True, exist_ok=True)
    print(ensure_model(log_path=VAR_DIR / "train.log"))
    return 0


def command_migrate(args) -> int:
    from bot.db.session import upgrade_schema

    upgrade_schema(load_settings().database_url)
    return 0


def command_import_factories(args) -> int:
    """Import factories from a CSV file with the columns code, name and country."""
    from bot.db.models import Factory
    from bot.db.session import Database, upgrade_schema

    settings = load_settings()
    upgrade_schema(settings.database_url)
    database = Database(settings.database_url)
    added = updated = 0
    with open(args.csv_file, newline="", encoding="utf-8") as handle, database.session() as session:
        reader = csv.DictReader(handle)
        missing = {"code", "name"} - set(reader.fieldnames or [])
        if missing:
            print(f"{args.csv_file}: missing column(s) {', '.join(sorted(missing))}", file=sys.stderr)
            return 2
        for line, row in enumerate(reader, start=2):
            code = (row.get("code") or "").strip().upper()
            name = (row.get("name") or "").strip()
            if not code or not name:
                print(f"{args.csv_file}:{line}: code and name are required", file=sys.stderr)
                return 2
            factory = session.query(Factory).filter_by(code=code).one_or_none()
            if factory is None:
                session.add(Factory(code=code, name=name, country=(row.get("country") or "").strip().upper() or None))
                added += 1
            else:
                factory.name = name
                updated += 1
    print(f"{added} factories added, {updated} updated")
    return 0


def command_import_roster(args) -> int:
    """Import an auditor's roster (CSV, or JSON with "audit" and "workers")."""
    import json

    from bot.campaigns.importer import import_roster
    from bot.campaigns.roster import RosterError, parse_csv, parse_json
    from bot.db.session import Database, upgrade_schema
    from bot.privacy import Vault

    settings = load_settings()
    upgrade_schema(settings.database_url)
    try:
        text = args.roster_file.read_text(encoding="utf-8-sig")
    except OSError as error:
        print(f"{args.roster_file}: cannot be read ({error.strerror})", file=sys.stderr)
        return 2
    except UnicodeDecodeError:
        print(f"{args.roster_file}: not UTF-8 text; save the roster as UTF-8 CSV", file=sys.stderr)
        return 2
    try:
        rules = settings.calling_rules()
        roster = parse_json(json.loads(text), rules) if args.roster_file.suffix == ".json" else parse_csv(text, rules)
        database = Database(settings.database_url)
        with database.session() as session:
            summary = import_roster(session, Vault(settings.encryption_keys), settings, roster)
    except (RosterError, json.JSONDecodeError) as error:
        rows = getattr(error, "errors", None) or [str(error)]
        print(f"{args.roster_file}: roster rejected, nothing imported:", file=sys.stderr)
        for row in rows:
            print(f"  {row}", file=sys.stderr)
        return 2
    print(
        f"Audit {summary.audit}: callbacks scheduled {summary.created - summary.not_consented} "
        f"(late {summary.late}), without consent and not called {summary.not_consented}, "
        f"updated {summary.updated}, already imported {summary.unchanged}"
    )
    return 0


def command_callbacks(args) -> int:
    """List an audit's callbacks with their state and next attempt."""
    from bot.campaigns.reports import callback_rows, format_rows
    from bot.db.session import Database

    database = Database(load_settings().database_url)
    try:
        with database.session() as session:
            print(format_rows(callback_rows(session, args.audit)))
    except LookupError as error:
        print(str(error), file=sys.stderr)
        return 2
    return 0


def command_progress(args) -> int:
    """Show a campaign's progress, refreshed until every callback is done with --watch."""
    import time

    from bot.campaigns.reports import format_progress, progress
    from bot.db.session import Database

    database = Database(load_settings().database_url)
    try:
        while True:
            with database.session() as session:
                counts = progress(session, args.audit)
            line = format_progress(args.audit, counts)
            pending = counts["scheduled"] + counts["dialing"] + counts["in_progress"] + counts["reschedule_requested"]
            if not args.watch:
                print(line)
                return 0
            print("\r" + line, end="", flush=True)
            if not pending:
                print()
                return 0
            time.sleep(args.interval)
    except LookupError as error:
        print(str(error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print()
        return 0


def command_dispatch(args) -> int:
    """Queue due callbacks for the rq workers, every few seconds."""
    import time

    from bot.campaigns.dialer import dispatch_due, recover_stuck
    from bot.services import Services

    services = Services(load_settings())
    logger.info("Dispatcher: started, every %s s", args.interval)
    try:
        while True:
            try:
                recover_stuck(services)
                dispatch_due(services)
            except Exception:  # a database or Redis outage must not stop the loop
                logger.exception("Dispatcher: dispatch failed, retrying in %s s", args.interval)
            if args.once:
                return 0
            time.sleep(args.interval)
    except KeyboardInterrupt:
        return 0


def command_worker(args) -> int:
    """Run an rq worker that places the queued calls."""
    from rq import Worker

    from bot.campaigns.dialer import QUEUE_NAME, rq_connection

    settings = load_settings()
    worker = Worker([QUEUE_NAME], connection=rq_connection(settings.redis_url))
    worker.work(burst=args.burst, with_scheduler=False)
    return 0


def command_create_account(args) -> int:
    """Create a console account; the password is read from standard input."""
    import getpass

    from bot.console.accounts import AccountError, create_account
    from bot.db.session import Database, upgrade_schema
    from bot.privacy import Vault

    settings = load_settings()
    upgrade_schema(settings.database_url)
    password = getpass.getpass("Password: ") if sys.stdin.isatty() else sys.stdin.readline().rstrip("\n")
    database = Database(settings.database_url)
    try:
        with database.session() as session:
            account = create_account(
                session, args.username, password, args.role, args.language,
                phone=args.phone, vault=Vault(settings.encryption_keys),
            )
            print(f"Account {account.username} ({account.role}) created")
    except AccountError as error:
        print(f"Account not created: {error}", file=sys.stderr)
        return 2
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hotline", description="Confidential worker-voice hotline")
    commands = parser.add_subparsers(dest="command", required=True)

    commands.add_parser("up", help="start the whole hotline on this machine").set_defaults(run=command_up)

    simulate = commands.add_parser("simulate", help="text the running hotline from a terminal")
    simulate.add_argument("--number", default=SIMULATOR_DEFAULT_NUMBER, help="the worker's phone number, E.164 (default: a fictional UK number)")
    simulate.add_argument("--gateway", default=f"http://127.0.0.1:{os.environ.get('GATEWAY_PORT', '5000')}", help="where the gateway listens")
    simulate.add_argument("--twilio-port", type=int, default=SIMULATOR_TWILIO_PORT, help="port on which to play Twilio's REST API")
    simulate.add_argument("--voice", action="store_true", help="place a phone call instead of texting")
    simulate.add_argument("--callback", type=int, help="answer the post-audit callback with this id (implies --voice)")
    simulate.set_defaults(run=command_simulate)

    commands.add_parser("train", help="train the Rasa model if the flows or NLU data changed").set_defaults(run=command_train)
    commands.add_parser("migrate", help="bring the database schema up to date").set_defaults(run=command_migrate)

    roster = commands.add_parser("import-roster", help="import an auditor's roster (CSV, or .json)")
    roster.add_argument("roster_file", type=Path)
    roster.set_defaults(run=command_import_roster)

    callbacks = commands.add_parser("callbacks", help="list an audit's callbacks, their state and next attempt")
    callbacks.add_argument("audit", help="the audit id of the roster")
    callbacks.set_defaults(run=command_callbacks)

    watch = commands.add_parser("progress", help="show a campaign's progress")
    watch.add_argument("audit", help="the audit id of the roster")
    watch.add_argument("--watch", action="store_true", help="refresh until every callback is done")
    watch.add_argument("--interval", type=float, default=2.0, help="seconds between refreshes (default 2)")
    watch.set_defaults(run=command_progress)

    dispatch = commands.add_parser("dispatch", help="queue due callbacks for the call workers")
    dispatch.add_argument("--interval", type=float, default=10.0, help="seconds between passes (default 10)")
    dispatch.add_argument("--once", action="store_true", help="make one pass and exit")
    dispatch.set_defaults(run=command_dispatch)

    worker = commands.add_parser("worker", help="run a call worker (rq) that places queued calls")
    worker.add_argument("--burst", action="store_true", help="exit once the queue is empty")
    worker.set_defaults(run=command_worker)

    account = commands.add_parser("create-account", help="create a console account (password on standard input)")
    account.add_argument("username")
    account.add_argument("--role", required=True, choices=("agent", "supervisor", "analyst", "administrator"))
    account.add_argument("--language", default="en", help="the language the agent reads (default en)")
    account.add_argument("--phone", help="the agent's phone for masked calls, international form")
    account.set_defaults(run=command_create_account)

    factories = commands.add_parser("import-factories", help="import factories from CSV (code,name,country)")
    factories.add_argument("csv_file", type=Path)
    factories.set_defaults(run=command_import_factories)
    return parser


def main(argv=None) -> int:
    configure_logging(os.environ.get("LOG_LEVEL", "INFO"))
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except ConfigError as error:
        print(f"Configuration error: {error}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
