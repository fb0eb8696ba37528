"""Real `db_worker` processes against the test database, for engine tests."""

import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent


def database_url_for_subprocesses() -> str:
    settings = connection.settings_dict
    if connection.vendor == "sqlite":
        return f"sqlite:///{settings['NAME']}"
    host = settings.get("HOST") or "127.0.0.1"
    port = settings.get("PORT") or 5432
    password = f":{settings['PASSWORD']}" if settings.get("PASSWORD") else ""
    return f"postgres://{settings['USER']}{password}@{host}:{port}/{settings['NAME']}"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def subprocess_env(**settings) -> dict[str, str]:
    """The environment of an app process started by a test: the test
    database, the sandbox's credentials (none), no DEBUG, and `settings`."""
    return {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocesses(),
        "TELESIGN_CUSTOMER_ID": "",
        "TELESIGN_API_KEY": "",
        "SECRET_KEY": "test-only-secret-key-not-used-anywhere-else",
        "DEBUG": "false",
        "LOG_LEVEL": "WARNING",
        **{key: str(value) for key, value in settings.items()},
    }


class Workers:
    """Worker processes: `db_worker` (django-tasks' own) by default, or the
    app's `run_worker`. Their stderr goes to `log` if given."""

    def __init__(
        self,
        *,
        sandbox_url: str,
        command: str = "db_worker",
        log: Path | None = None,
        **settings,
    ):
        self.env = subprocess_env(TELESIGN_SANDBOX_URL=sandbox_url, **settings)
        self.command = command
        self.log = log
        self.processes: list[subprocess.Popen] = []

    def start(self, count: int = 1) -> list[subprocess.Popen]:
        started = []
        for _ in range(count):
            stderr = open(self.log, "ab") if self.log else subprocess.PIPE
            process = subprocess.Popen(
                [
                    sys.executable,
                    str(ROOT / "manage.py"),
                    self.command,
                    "--queue-name",
                    "*",
                    "--no-reload",
                    "--no-startup-delay",
                    "--interval",
                    "0.2",
                ],
                cwd=ROOT,
                env=self.env,
                stdout=subprocess.DEVNULL,
                stderr=stderr,
            )
            if self.log:
                stderr.close()  # the child has its own copy
            started.append(process)
        self.processes += started
        return started

    def kill(self, process: subprocess.Popen) -> None:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=10)

    def stop(self) -> None:
        for process in self.processes:
            if process.poll() is None:
                process.send_signal(signal.SIGKILL)
        for process in self.processes:
            process.wait(timeout=10)


def wait_for(condition, *, timeout: float, interval: float = 0.2, what: str = ""):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval)
    raise AssertionError(f"timed out after {timeout} s waiting for {what}")


def start_run_worker(**settings) -> subprocess.Popen:
    """One `run_worker` process (db_worker with heartbeat and callback
    applier) against the test database, with extra settings."""
    env = {
        **os.environ,
        "DATABASE_URL": database_url_for_subprocesses(),
        "LOG_LEVEL": "WARNING",
        **{key: str(value) for key, value in settings.items()},
    }
    return subprocess.Popen(
        [sys.executable, str(ROOT / "manage.py"), "run_worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
