import os
import signal
import subprocess
import sys
import time
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
        processes = {name: subprocess.Popen(cmd) for name, cmd in commands.items()}
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
