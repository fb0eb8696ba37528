import os
import signal
import subprocess
import sys
import time

from django.conf import settings
from django.core.management.base import BaseCommand


class Command(BaseCommand):
    help = (
        "Run the whole app on embedded defaults: web server and task worker "
        "(Ctrl-C stops them all)."
    )

    def add_arguments(self, parser):
        parser.add_argument("--port", type=int, default=8000)

    def handle(self, *args, port, **options):
        manage = [sys.executable, str(settings.BASE_DIR / "manage.py")]
        processes = {
            "web": subprocess.Popen(
                [*manage, "runserver", f"127.0.0.1:{port}", "--noreload"]
            ),
            "worker": subprocess.Popen(
                [*manage, "db_worker", "--queue-name", "*", "--no-reload"]
            ),
        }
        self.stdout.write(
            self.style.SUCCESS(
                f"\nThe app is starting. Open http://127.0.0.1:{port}/admin/ "
                "(Ctrl-C stops everything).\n"
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
