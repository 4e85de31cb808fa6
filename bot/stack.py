"""Starting the whole hotline on one machine: Redis, Rasa, actions, gateway.

``./hotline up`` and the test suite both use this module, so what the tests
run is what a person runs.
"""

import hashlib
import logging
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Dict, List, Optional
from urllib.parse import urlsplit

import requests

from bot.config import PROJECT_ROOT, Settings

logger = logging.getLogger(__name__)

MODELS_DIR = PROJECT_ROOT / "models"
MODEL_INPUTS = (
    "config.yml",
    "flows/domain.yml",
    "flows/rules.yml",
    "flows/stories.yml",
    "nlu_data",
    "bot/nlu",
    "requirements.txt",
)
TRAINING_DATA = ("flows/rules.yml", "flows/stories.yml", "nlu_data")

DEFAULT_GATEWAY_PORT = 5000
DEFAULT_RASA_PORT = 5005
DEFAULT_ACTIONS_PORT = 5055
DEFAULT_REDIS_PORT = 6390
STARTUP_TIMEOUT_SECONDS = 240
# Rasa needs a tracker only while a conversation runs; the relational store
# keeps the record, so trackers expire after a week.
TRACKER_TTL_SECONDS = 7 * 24 * 3600

# Rasa sends usage and crash reports to hosts of its own unless telemetry is off.
QUIET_RASA = {"RASA_TELEMETRY_ENABLED": "false", "TF_CPP_MIN_LOG_LEVEL": "2"}


class StackError(RuntimeError):
    """A service of the stack could not be started."""


def model_fingerprint(root: Path = PROJECT_ROOT) -> str:
    """Hash every input of training, so a changed file means a new model."""
    digest = hashlib.sha256()
    for name in MODEL_INPUTS:
        path = root / name
        files = sorted(p for p in path.rglob("*") if p.is_file() and "__pycache__" not in p.parts) if path.is_dir() else [path]
        for file in files:
            digest.update(str(file.relative_to(root)).encode())
            digest.update(file.read_bytes())
    return digest.hexdigest()[:12]


def ensure_model(models_dir: Path = MODELS_DIR, log_path: Optional[Path] = None) -> Path:
    """Return the model trained from the current files, training it if missing."""
    name = f"hotline-{model_fingerprint()}"
    model = models_dir / f"{name}.tar.gz"
    if model.exists():
        logger.info("Model %s: up to date", model.name)
        return model

    logger.info("Model %s: training, this takes a few minutes", model.name)
    command = [
        sys.executable, "-m", "rasa", "train",
        "--config", "config.yml",
        "--domain", "flows/domain.yml",
        "--data", *TRAINING_DATA,
        "--out", str(models_dir),
        "--fixed-model-name", name,
    ]
    output = open(log_path, "ab") if log_path else subprocess.DEVNULL
    try:
        completed = subprocess.run(command, cwd=PROJECT_ROOT, env=child_env({}), stdout=output, stderr=subprocess.STDOUT)
    finally:
        if log_path:
            output.close()
    if completed.returncode != 0 or not model.exists():
        raise StackError(f"rasa train failed with exit code {completed.returncode}; see {log_path or 'its output'}")
    return model


def rasa_key_prefix(redis_prefix: str) -> str:
    return "".join(ch for ch in redis_prefix if ch.isalnum()) + "rasa"


def child_env(extra: Dict[str, str]) -> Dict[str, str]:
    env = dict(os.environ)
    env.update(QUIET_RASA)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(PROJECT_ROOT), env.get("PYTHONPATH")]))
    env.update(extra)
    return env


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def find_redis_server() -> str:
    """Return the redis-server binary, installing Debian's package if none is found."""
    found = shutil.which("redis-server")
    if found:
        return found
    if os.geteuid() == 0 and shutil.which("apt-get"):
        logger.info("Redis: redis-server not found, installing Debian's package")
        subprocess.run(["apt-get", "update", "-qq"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-qq", "redis-server"], check=True)
        found = shutil.which("redis-server")
        if found:
            return found
    raise StackError(
        "redis-server is not installed: install it (Debian and Ubuntu: apt-get install "
        "redis-server; macOS: brew install redis), or set REDIS_URL to a running Redis."
    )


@dataclass
class Ports:
    gateway: int = DEFAULT_GATEWAY_PORT
    rasa: int = DEFAULT_RASA_PORT
    actions: int = DEFAULT_ACTIONS_PORT
    redis: int = DEFAULT_REDIS_PORT

    @classmethod
    def free(cls) -> "Ports":
        return cls(gateway=free_port(), rasa=free_port(), actions=free_port(), redis=free_port())


@dataclass
class Stack:
    """The processes of one running hotline, started in dependency order."""

    settings: Settings
    ports: Ports
    var_dir: Path
    start_redis: bool = True
    campaigns: bool = True
    dispatch_interval: float = 10.0
    processes: Dict[str, subprocess.Popen] = field(default_factory=dict)

    @property
    def log_dir(self) -> Path:
        return self.var_dir / "logs"

    def log_path(self, service: str) -> Path:
        return self.log_dir / f"{service}.log"

    def service_env(self) -> Dict[str, str]:
        """Environment of every service: the settings, plus what Rasa's endpoints.yml reads."""
        redis_url = urlsplit(self.settings.redis_url)
        s = self.settings
        return {
            "HOTLINE_ENV": s.env,
            "DATABASE_URL": s.database_url,
            "REDIS_URL": s.redis_url,
            "REDIS_PREFIX": s.redis_prefix,
            "RASA_URL": s.rasa_url,
            "RASA_TOKEN": s.rasa_token,
            "PUBLIC_BASE_URL": s.public_base_url,
            "TWILIO_ACCOUNT_SID": s.twilio_account_sid,
            "TWILIO_AUTH_TOKEN": s.twilio_auth_token,
            "TWILIO_API_BASE_URL": s.twilio_api_base_url,
            "TWILIO_SMS_FROM": s.twilio_sms_from,
            "TWILIO_HANDLES_OPT_OUT": "true" if s.twilio_handles_opt_out else "false",
            "PSEUDONYM_KEY": s.pseudonym_key,
            "ENCRYPTION_KEYS": s.encryption_keys,
            "SECRET_KEY": s.secret_key,
            "NLG_TOKEN": s.nlg_token,
            "MISUNDERSTOOD_LIMIT": str(s.misunderstood_limit),
            "VOICE_RECORDING": "true" if s.voice_recording else "false",
            "CALLER_ID": s.caller_id,
            "QUIET_HOURS": s.quiet_hours,
            "BLOCKED_DAYS": s.blocked_days,
            "MAX_CALL_ATTEMPTS": str(s.max_attempts),
            "RETRY_AFTER_ERROR_MINUTES": str(s.retry_after_error_minutes),
            "CALLS_PER_SECOND": str(s.calls_per_second),
            "CALLBACK_DELAY_DAYS": str(s.callback_delay_days),
            "ROSTER_API_TOKEN": s.roster_api_token,
            "TRANSLATE_BASE_URL": s.translate_base_url,
            "ACTION_SERVER_URL": f"http://127.0.0.1:{self.ports.actions}/webhook",
            "NLG_URL": f"http://127.0.0.1:{self.ports.gateway}/rasa/nlg",
            "REDIS_HOST": redis_url.hostname or "127.0.0.1",
            "REDIS_PORT": str(redis_url.port or 6379),
            "REDIS_DB": (redis_url.path or "/0").lstrip("/") or "0",
            # Rasa takes an alphanumeric prefix only and appends ":tracker:"
            # or ":lock:" itself.
            "RASA_KEY_PREFIX": rasa_key_prefix(s.redis_prefix),
            # A lock left by a crashed turn expires after 15 s, not Rasa's default
            # 60 s, since Twilio gives up on a webhook after 15 s anyway.
            "TICKET_LOCK_LIFETIME": "15",
            "RASA_TRACKER_TTL_SECONDS": str(TRACKER_TTL_SECONDS),
            "SANIC_HOST": "127.0.0.1",
        }

    def _spawn(self, name: str, command: List[str]) -> subprocess.Popen:
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log = open(self.log_path(name), "ab")
        process = subprocess.Popen(
            command,
            cwd=PROJECT_ROOT,
            env=child_env(self.service_env()),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        log.close()
        self.processes[name] = process
        logger.info("Stack: %s started (pid %s), log in %s", name, process.pid, self.log_path(name))
        return process

    def start_redis_server(self) -> None:
        data_dir = self.var_dir / "redis"
        data_dir.mkdir(parents=True, exist_ok=True)
        self._spawn("redis", [
            find_redis_server(),
            "--bind", "127.0.0.1",
            "--port", str(self.ports.redis),
            "--dir", str(data_dir),
            "--save", "60 1",
            "--appendonly", "yes",
        ])
        self._wait_for_port("redis", self.ports.redis)

    def start_actions(self) -> None:
        self._spawn("actions", [
            sys.executable, "-m", "rasa_sdk", "--actions", "actions", "--port", str(self.ports.actions),
        ])

    def start_rasa(self, model: Path) -> None:
        self._spawn("rasa", [
            sys.executable, "-m", "rasa", "run",
            "--model", str(model),
            "--endpoints", "endpoints.yml",
            "--credentials", "credentials.yml",
            "--interface", "127.0.0.1",
            "--port", str(self.ports.rasa),
            "--enable-api",
            "--auth-token", self.settings.rasa_token,
        ])

    def start_gateway(self) -> None:
        self._spawn("gateway", [
            sys.executable, "-m", "gunicorn",
            "--bind", f"127.0.0.1:{self.ports.gateway}",
            "--workers", "2",
            "--threads", "8",
            "--timeout", "30",
            "--access-logfile", "-",
            # Path without the query string, which may carry ids.
            "--access-logformat", '%(h)s "%(m)s %(U)s" %(s)s %(b)s %(L)ss',
            "server:create_app()",
        ])

    def start_campaigns(self) -> None:
        """Start the dispatcher of due callbacks and one call worker."""
        self._spawn("dispatcher", [sys.executable, "-m", "bot.cli", "dispatch", "--interval", str(self.dispatch_interval)])
        self._spawn("calls-worker", [sys.executable, "-m", "bot.cli", "worker"])

    def up(self, model: Path) -> None:
        """Start every service and wait until each responds."""
        from bot.db.session import upgrade_schema

        if self.start_redis:
            self.start_redis_server()
        upgrade_schema(self.settings.database_url)
        self.start_actions()
        self.start_gateway()
        self.start_rasa(model)
        if self.campaigns:
            self.start_campaigns()
        self._wait_for_http("actions", f"http://127.0.0.1:{self.ports.actions}/health")
        self._wait_for_http("gateway", f"http://127.0.0.1:{self.ports.gateway}/healthz")
        self._wait_for_http("rasa", f"http://127.0.0.1:{self.ports.rasa}/status?token={self.settings.rasa_token}", model_loaded=True)

    def _check_alive(self, name: str) -> None:
        process = self.processes.get(name)
        if process is not None and process.poll() is not None:
            raise StackError(f"{name} exited with code {process.returncode}; see {self.log_path(name)}")

    def _wait_for_port(self, name: str, port: int) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            self._check_alive(name)
            with socket.socket() as probe:
                if probe.connect_ex(("127.0.0.1", port)) == 0:
                    return
            time.sleep(0.2)
        raise StackError(f"{name} did not open port {port} within {STARTUP_TIMEOUT_SECONDS} s")

    def _wait_for_http(self, name: str, url: str, model_loaded: bool = False) -> None:
        deadline = time.monotonic() + STARTUP_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            self._check_alive(name)
            try:
                response = requests.get(url, timeout=2)
                if response.ok and (not model_loaded or response.json().get("model_file")):
                    logger.info("Stack: %s is up", name)
                    return
            except (requests.RequestException, ValueError):
                pass
            time.sleep(0.5)
        raise StackError(f"{name} did not respond at {url.split('?')[0]} within {STARTUP_TIMEOUT_SECONDS} s; see {self.log_path(name)}")

    def exited(self) -> List[str]:
        """Return the services whose process has exited."""
        return [name for name, process in self.processes.items() if process.poll() is not None]

    def stop_service(self, name: str) -> None:
        process = self.processes.pop(name, None)
        if process is None or process.poll() is not None:
            return
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()
        logger.info("Stack: %s stopped", name)

    def down(self) -> None:
        for name in ("dispatcher", "calls-worker", "rasa", "gateway", "actions", "redis"):
            self.stop_service(name)
