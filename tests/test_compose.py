"""docker-compose.yml is a valid Compose file that runs every service."""

import json
from pathlib import Path

import jsonschema
import yaml

from bot.config import PROJECT_ROOT

SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"


def _compose():
    return yaml.safe_load((PROJECT_ROOT / "docker-compose.yml").read_text())


def test_compose_file_matches_compose_spec():
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema).validate(_compose())


def test_compose_runs_every_service():
    assert {"redis", "rasa", "actions", "gateway", "dispatcher", "calls-worker"} <= set(_compose()["services"])


def test_compose_services_share_the_endpoint_variables():
    import re

    lines = (PROJECT_ROOT / "endpoints.yml").read_text().splitlines()
    settings = "\n".join(line for line in lines if not line.lstrip().startswith("#"))
    needed = set(re.findall(r"\$\{(\w+)\}", settings))
    environment = _compose()["services"]["rasa"]["environment"]
    assert needed <= set(environment)
