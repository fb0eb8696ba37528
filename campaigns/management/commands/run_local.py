import ctypes
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlparse

from django.conf import settings
from django.core.management.base import BaseCommand
from django.urls import reverse

from campaigns.services import engine_tick_ensure
from campaigns.telesign import telesign_uses_sandbox


class Command(BaseCommand):
    help = (
        "Run the whole app on embedded defaults: web server, task worker and, "
        "without Telesign credentials, the Telesign sandbox (Ctrl-C stops all)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, port, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        commands = {
            "web": [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"],
            "worker": [*manage, "run_worker", "--no-reload"],
        }
        if telesign_uses_sandbox():
            sandbox_port = urlparse(settings.TELESIGN_SANDBOX_URL).port or 8025
            commands["sandbox"] = [
                *manage,
                "telesign_sandbox",
                "--port",
                str(sandbox_port),
                "--callback-url",
                f"http://127.0.0.1:{port}{reverse('telesign_callbacks')}",
            ]
        # Ctrl-C, and a plain `kill` from a process manager, stop all three
        # (a shell starting us in the background would have SIGINT ignored).
        signal.signal(signal.SIGINT, signal.default_int_handler)
        signal.signal(signal.SIGTERM, _interrupt)
        signal.signal(signal.SIGHUP, _interrupt)
        parent = os.getppid()
        _terminate_when_parent_dies()
        processes = {
            name: subprocess.Popen(cmd, preexec_fn=_terminate_when_parent_dies)
            for name, cmd in commands.items()
        }
        engine_tick_ensure()
        mode = (
            "the local Telesign sandbox (no credentials set)"
            if telesign_uses_sandbox()
            else settings.TELESIGN_BASE_URL
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"\nRunning {', '.join(processes)}; messages go to {mode}.\n"
                f"Open http://127.0.0.1:{port}/admin/ (Ctrl-C stops everything).\n"
            )
        )
        try:
            while all(p.poll() is None for p in processes.values()):
                if _parent_stopping(parent):
                    raise KeyboardInterrupt
                time.sleep(0.5)
            stopped = [name for name, p in processes.items() if p.poll() is not None]
            self.stderr.write(f"{', '.join(stopped)} stopped; stopping the rest.")
        except KeyboardInterrupt:
            self.stdout.write("\nStopping…")
        finally:
            # A second Ctrl-C must not interrupt the orderly stop.
            signal.signal(signal.SIGINT, signal.SIG_IGN)
            signal.signal(signal.SIGTERM, signal.SIG_IGN)
            for process in processes.values():
                if process.poll() is None:
                    process.send_signal(signal.SIGTERM)
            deadline = time.monotonic() + 10
            for process in processes.values():
                remaining = max(0.1, deadline - time.monotonic())
                try:
                    process.wait(timeout=remaining)
                except subprocess.TimeoutExpired:
                    process.kill()
        os._exit(0)


def _interrupt(signum, frame):
    raise KeyboardInterrupt


# Signals that stop `make run`. A supervisor may send them to make's own pid
# only; GNU make passes SIGTERM on to its children, but for the others it
# assumes the terminal signalled the whole process group, and waits for its
# children to stop by themselves.
STOP_SIGNALS = (signal.SIGHUP, signal.SIGINT, signal.SIGQUIT, signal.SIGTERM)
PR_SET_PDEATHSIG = 1


def _terminate_when_parent_dies() -> None:
    """Have Linux send this process SIGTERM when its parent dies, even by
    SIGKILL: run_local when make dies, web, worker and sandbox when run_local
    does. Elsewhere nothing happens (see _parent_stopping)."""
    try:
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    except (AttributeError, OSError):
        pass


def _parent_stopping(parent: int) -> bool:
    """Whether the process that started us has gone, or is make handling a
    stop signal (its handler blocks that signal while it waits for us)."""
    if os.getppid() != parent:
        return True
    try:
        name = Path(f"/proc/{parent}/comm").read_text().strip()
        status = Path(f"/proc/{parent}/status").read_text()
    except OSError:
        return False
    blocked = re.search(r"^SigBlk:\s*([0-9a-f]+)$", status, re.MULTILINE)
    if name not in {"make", "gmake"} or blocked is None:
        return False
    mask = int(blocked[1], 16)
    return any(mask >> (signum - 1) & 1 for signum in STOP_SIGNALS)
