"""The migrations build the schema the models describe, on SQLite and PostgreSQL."""

import os
import uuid

import pytest
from sqlalchemy import create_engine, inspect, text

from bot.db.models import Base
from bot.db.session import Database, upgrade_schema
from bot.privacy import Vault
from bot.workers import find_or_create_worker

POSTGRES_ADMIN_URL = os.environ.get("TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/postgres")


def _assert_schema_matches_models(url):
    inspector = inspect(create_engine(url))
    for table in Base.metadata.tables.values():
        columns = {column["name"] for column in inspector.get_columns(table.name)}
        assert columns == {column.name for column in table.columns}, table.name


def test_migrations_build_models_schema_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'migrated.db'}"
    upgrade_schema(url)
    _assert_schema_matches_models(url)


def test_migrations_are_idempotent(tmp_path):
    url = f"sqlite:///{tmp_path / 'twice.db'}"
    upgrade_schema(url)
    upgrade_schema(url)
    _assert_schema_matches_models(url)


@pytest.fixture
def postgres_url():
    try:
        admin = create_engine(POSTGRES_ADMIN_URL, isolation_level="AUTOCOMMIT")
        with admin.connect() as connection:
            name = f"hotline_test_{uuid.uuid4().hex[:8]}"
            connection.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as error:  # no server, or no rights: nothing to test against
        pytest.skip(f"PostgreSQL unavailable at TEST_POSTGRES_URL ({type(error).__name__})")
    url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
    yield url
    with admin.connect() as connection:
        connection.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


def test_migrations_build_models_schema_on_postgresql(postgres_url):
    upgrade_schema(postgres_url)
    _assert_schema_matches_models(postgres_url)

    database = Database(postgres_url)
    with database.session() as session:
        worker = find_or_create_worker(session, Vault("ZGV2LWVuY3J5cHRpb24ta2V5LW5vdC1zZWNyZXQtISE="), "wtest", "+447700900999", "GB")
        assert worker.id is not None
    database.dispose()


def test_upgrade_keeps_existing_rows_on_sqlite(tmp_path):
    url = f"sqlite:///{tmp_path / 'upgraded.db'}"
    upgrade_schema(url, "0001")
    engine = create_engine(url)
    with engine.begin() as connection:
        connection.execute(text(
            "INSERT INTO workers (id, pseudonym, phone_ciphertext, opted_out, created_at) "
            "VALUES (1, 'wtest', x'00', 0, '2026-12-01 10:00:00')"
        ))
        connection.execute(text(
            "INSERT INTO cases (id, reference_code, worker_id, category, severity, status, "
            "description_ciphertext, created_at, updated_at) "
            "VALUES (1, '12345678', 1, 'wages', 'normal', 'new', x'00', '2026-12-01', '2026-12-01')"
        ))
        connection.execute(text(
            "INSERT INTO escalations (id, worker_id, case_id, reason, severity, status, created_at) "
            "VALUES (1, 1, 1, 'critical_grievance', 'critical', 'queued', '2026-12-01')"
        ))

    upgrade_schema(url)

    with engine.connect() as connection:
        assert connection.execute(text("SELECT reference_code FROM cases")).scalar() == "12345678"
        assert connection.execute(text("SELECT case_id FROM escalations")).scalar() == 1
        assert connection.execute(text("PRAGMA foreign_key_check")).fetchall() == []
    engine.dispose()
    _assert_schema_matches_models(url)
