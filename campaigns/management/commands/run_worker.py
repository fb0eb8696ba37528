"""A task worker that reports itself: Django's `db_worker` plus a heartbeat."""

import os
import socket
import threading

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import close_old_connections, connection
from django.utils import timezone

from campaigns.services.operations import worker_heartbeat_beat, worker_heartbeat_stop


class Command(BaseCommand):
    help = (
        "Run a task worker (db_worker on every queue) that reports a heartbeat "
        "for /health/ and keeps the engine's periodic tick going."
    )

    def add_arguments(self, parser):
        parser.add_argument("--queue-name", default="*")
        parser.add_argument("--reload", action="store_true", help="development only")

    def handle(self, *args, queue_name, reload, **options):
        hostname = socket.gethostname()
        pid = os.getpid()
        name = f"{hostname}:{pid}"
        started_at = timezone.now()
        stop = threading.Event()

        def beat():
            while True:
                try:
                    worker_heartbeat_beat(
                        name=name, hostname=hostname, pid=pid, started_at=started_at
                    )
                except Exception:
                    self.stderr.write("heartbeat failed; retrying")
                finally:
                    close_old_connections()
                if stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
                    connection.close()
                    return

        thread = threading.Thread(target=beat, name="heartbeat", daemon=True)
        thread.start()
        try:
            call_command(
                "db_worker",
                queue_name=queue_name,
                reload=reload,
                stdout=self.stdout,
                stderr=self.stderr,
            )
        finally:
            stop.set()
            thread.join(timeout=5)
            worker_heartbeat_stop(name=name)
