"""A private PostgreSQL server for tests that stop and restart the database:
`initdb` in a temporary directory, its own loopback port, torn down after.

Without PostgreSQL's server programs the tests that use it are skipped, and
fail instead when PG_RESTART_REQUIRED is set (CI sets it).
"""

import itertools
import os
import pwd
import shutil
import subprocess
import sys
import tempfile
from contextlib import contextmanager
from pathlib import Path

import pytest
from django.contrib.contenttypes.models import ContentType
from django.db import connections
from django.db.utils import ConnectionHandler
from environ import Env

from .workers import ROOT, free_port, subprocess_env

# The server refuses to run as root; a root test run starts it as this user.
SERVER_USER = "postgres"


def server_programs() -> Path | None:
    """The folder with initdb and pg_ctl: on the PATH, else Debian's newest."""
    found = shutil.which("initdb")
    if found:
        return Path(os.path.realpath(found)).parent
    versions = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/initdb"),
        key=lambda path: int(path.parent.parent.name),
    )
    return versions[-1].parent if versions else None


class PrivateServer:
    """One PostgreSQL cluster in a temporary directory, on its own port."""

    def __init__(self, programs: Path):
        self.programs = programs
        self.port = free_port()
        self.base = Path(tempfile.mkdtemp(prefix="pg-private-"))
        self.data = self.base / "data"
        self.log = self.base / "server.log"
        self.user = SERVER_USER if os.geteuid() == 0 else None
        if self.user:
            account = pwd.getpwnam(self.user)
            os.chown(self.base, account.pw_uid, account.pw_gid)

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        command = [str(self.programs / program), *args]
        if self.user:
            command = ["runuser", "-u", self.user, "--", *command]
        result = subprocess.run(
            command, capture_output=True, text=True, timeout=timeout, cwd=self.base
        )
        if result.returncode != 0:
            log = self.log.read_text() if self.log.exists() else ""
            raise RuntimeError(
                f"{program} failed: {result.stdout}{result.stderr}\n{log[-2000:]}"
            )

    def create(self) -> "PrivateServer":
        self._run(
            "initdb",
            "--pgdata", str(self.data),
            "--username", "postgres",
            "--auth", "trust",
            "--encoding", "UTF8",
            "--locale", "C",
            "--no-sync",
            "--no-instructions",
        )  # fmt: skip
        settings = {
            "port": self.port,
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": f"'{self.data}'",
            "shared_buffers": "'32MB'",
            "max_connections": 60,
            # Durability against a crash of the machine is not what is tested
            # (committed work survives a server restart without fsync).
            "fsync": "off",
            "full_page_writes": "off",
        }
        with open(self.data / "postgresql.conf", "a") as conf:
            conf.writelines(f"{name} = {value}\n" for name, value in settings.items())
        return self

    def start(self) -> None:
        self._run(
            "pg_ctl",
            "start",
            "-w",
            "-t",
            "30",
            "-D",
            str(self.data),
            "-l",
            str(self.log),
        )

    def stop(self, mode: str = "fast") -> None:
        """Stop the server: `fast` ends every session as a deploy's restart
        does; `immediate` as a crash does (recovery on the next start)."""
        self._run("pg_ctl", "stop", "-w", "-t", "30", "-m", mode, "-D", str(self.data))

    def restart(self, mode: str = "fast") -> None:
        self.stop(mode)
        self.start()

    def destroy(self) -> None:
        if (self.data / "postmaster.pid").exists():
            try:
                self.stop("immediate")
            except RuntimeError:
                pass
        shutil.rmtree(self.base, ignore_errors=True)

    def url(self, database: str = "postgres") -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{database}"

    def create_database(self, name: str, *, template: str = "template1") -> str:
        """A new database (a copy of `template`); returns its URL."""
        with orm_on(self.url("postgres")) as connection:
            with connection.cursor() as cursor:
                cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
        return self.url(name)


def private_server_or_skip() -> PrivateServer:
    programs = server_programs()
    message = ""
    if programs is None or not (programs / "pg_ctl").exists():
        message = "PostgreSQL's server programs (initdb, pg_ctl) are not installed"
    elif os.geteuid() == 0 and not _user_exists(SERVER_USER):
        message = f"running as root, and there is no {SERVER_USER!r} user to run it"
    if message:
        if os.environ.get("PG_RESTART_REQUIRED"):
            pytest.fail(message)
        pytest.skip(message)
    return PrivateServer(programs)


def _user_exists(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def migrate(url: str) -> None:
    result = subprocess.run(
        [sys.executable, str(ROOT / "manage.py"), "migrate", "-v0"],
        cwd=ROOT,
        env=subprocess_env(DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert result.returncode == 0, result.stdout + result.stderr


_databases = itertools.count(1)


@pytest.fixture(scope="session")
def private_server(django_db_blocker):
    """A private PostgreSQL server with a migrated template database, started
    for the first test that asks and stopped at the end of the run."""
    server = private_server_or_skip()
    try:
        server.create().start()
        with django_db_blocker.unblock():
            migrate(server.create_database("migrated"))
        yield server
    finally:
        server.destroy()


@pytest.fixture
def private_database(private_server, django_db_blocker):
    """A fresh copy of the migrated database on the private server; the
    test's ORM uses it (and the processes it starts, through
    `database_url_for_subprocesses`)."""
    with django_db_blocker.unblock():
        url = private_server.create_database(
            f"test_{next(_databases)}", template="migrated"
        )
        with orm_on(url):
            yield url


@contextmanager
def orm_on(url: str):
    """This thread's default database connection points at `url` for the
    block (Django's ORM, the services and the factories use it), then back."""
    handler = ConnectionHandler({"default": Env.db_url_config(url)})
    private = handler.create_connection("default")
    previous = connections["default"]
    connections["default"] = private
    ContentType.objects.clear_cache()
    try:
        yield private
    finally:
        private.close()
        connections["default"] = previous
        ContentType.objects.clear_cache()
