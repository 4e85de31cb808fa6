"""Fixtures: the whole hotline, started once, and fictional workers texting it.

The session starts its own Redis, action server, Rasa server (with the model
trained from this checkout) and gateway, on free loopback ports, with a
SQLite database in a temporary folder. Twilio's REST API is played by
``TwilioDouble`` on loopback.
"""

import itertools
import os
from pathlib import Path

import pytest
import redis as redis_lib

from bot.config import load_settings
from bot.db.session import Database
from bot.privacy import Vault
from bot.simulator.twilio_double import TwilioDouble
from bot.stack import Ports, Stack, ensure_model
from tests.helpers import HOTLINE_NUMBER, TEST_ACCOUNT_SID, TEST_AUTH_TOKEN, Phone

# Numbers from ranges kept free for fiction: UK 07700 900000-900999, and
# North American 555-0100 to 555-0199.
_uk_fictional = (f"+447700900{n:03d}" for n in itertools.count(100))
_us_fictional = (f"+1{area}5550{n:03d}"[:12] for area in ("202", "312", "415", "617") for n in range(100, 200))


def fictional_number(kind: str = "uk") -> str:
    return next(_uk_fictional if kind == "uk" else _us_fictional)


@pytest.fixture(scope="session")
def test_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("hotline")


@pytest.fixture(scope="session")
def twilio() -> TwilioDouble:
    double = TwilioDouble(account_sid=TEST_ACCOUNT_SID, auth_token=TEST_AUTH_TOKEN).start()
    yield double
    double.stop()


@pytest.fixture(scope="session")
def translator():
    from bot.simulator.translate_double import TranslateDouble

    double = TranslateDouble().start()
    yield double
    double.stop()


@pytest.fixture(scope="session")
def ports() -> Ports:
    return Ports.free()


@pytest.fixture(scope="session")
def database_url(test_dir):
    """A fresh database: SQLite by default, or one on the server of TEST_STACK_POSTGRES_URL."""
    server = os.environ.get("TEST_STACK_POSTGRES_URL")
    if not server:
        yield f"sqlite:///{test_dir / 'hotline.db'}"
        return
    import uuid

    from sqlalchemy import create_engine, text

    name = f"hotline_stack_{uuid.uuid4().hex[:8]}"
    admin = create_engine(server, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f'CREATE DATABASE "{name}"'))
    yield server.rsplit("/", 1)[0] + f"/{name}"
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(scope="session")
def settings(test_dir, ports, twilio, translator, database_url):
    return load_settings(
        environ={},
        env="test",
        database_url=database_url,
        redis_url=f"redis://127.0.0.1:{ports.redis}/0",
        rasa_url=f"http://127.0.0.1:{ports.rasa}",
        public_base_url=f"http://127.0.0.1:{ports.gateway}",
        twilio_account_sid=TEST_ACCOUNT_SID,
        twilio_auth_token=TEST_AUTH_TOKEN,
        twilio_api_base_url=twilio.base_url,
        twilio_sms_from=HOTLINE_NUMBER,
        pseudonym_key="test-pseudonym-key",
        nlg_token="test-nlg-token",
        rasa_token="test-rasa-token",
        roster_api_token="test-roster-token",
        translate_base_url=translator.base_url,
        calls_per_second=20.0,
    )


@pytest.fixture(scope="session")
def model(test_dir) -> Path:
    return ensure_model(log_path=test_dir / "train.log")


@pytest.fixture(scope="session")
def stack(settings, ports, test_dir, model):
    running = Stack(settings=settings, ports=ports, var_dir=test_dir, dispatch_interval=0.5)
    try:
        running.up(model)
        yield running
    finally:
        running.down()


@pytest.fixture(scope="session")
def db(settings, stack) -> Database:
    database = Database(settings.database_url)
    yield database
    database.dispose()


@pytest.fixture(scope="session")
def vault(settings) -> Vault:
    return Vault(settings.encryption_keys)


@pytest.fixture(scope="session")
def redis_client(settings, stack):
    client = redis_lib.Redis.from_url(settings.redis_url, decode_responses=True)
    yield client
    client.close()


@pytest.fixture
def phone(settings, stack, twilio) -> Phone:
    return Phone(number=fictional_number("uk"), settings=settings, twilio=twilio)


@pytest.fixture
def us_phone(settings, stack, twilio) -> Phone:
    return Phone(number=fictional_number("us"), settings=settings, twilio=twilio)


def pytest_collection_modifyitems(config, items):
    # Tests that need no running stack go first, so they fail fast.
    items.sort(key=lambda item: "stack" in getattr(item, "fixturenames", ()))


os.environ.setdefault("RASA_TELEMETRY_ENABLED", "false")
