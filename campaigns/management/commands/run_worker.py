"""A task worker that reports itself: Django's `db_worker` plus a heartbeat."""

import logging
import os
import socket
import threading

from django.conf import settings
from django.db import close_old_connections, connection
from django.utils import timezone
from django_tasks_db.compat import TASKS_LOGGER
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand

from campaigns.services import callbacks_apply_pending
from campaigns.services.operations import worker_heartbeat_beat, worker_heartbeat_stop


class Command(DbWorkerCommand):
    help = (
        "Run a task worker (db_worker's options; every queue by default) that "
        "reports a heartbeat for /health/ and keeps the engine's tick going."
    )

    def add_arguments(self, parser):
        super().add_arguments(parser)
        parser.set_defaults(queue_name="*")

    def configure_logging(self, verbosity: int) -> None:
        super().configure_logging(verbosity)
        # db_worker logs a line per task run at INFO; the engine logs its own
        # summaries, so keep TASKS_LOG_LEVEL unless asked for more.
        if verbosity <= 1:
            logging.getLogger(TASKS_LOGGER).setLevel(settings.TASKS_LOG_LEVEL)

    def handle(self, *args, **options):
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
                    logging.getLogger(__name__).exception("heartbeat failed")
                finally:
                    close_old_connections()
                if stop.wait(settings.WORKER_HEARTBEAT_SECONDS):
                    connection.close()
                    return

        def apply_callbacks():
            # With CALLBACK_APPLY=deferred, stored callbacks are applied here,
            # in batches, within about a second of arriving.
            while not stop.is_set():
                try:
                    applied = callbacks_apply_pending(max_seconds=5.0)
                except Exception:
                    logging.getLogger(__name__).exception("applying callbacks failed")
                    applied = 0
                finally:
                    close_old_connections()
                if not applied and stop.wait(settings.CALLBACK_APPLY_INTERVAL):
                    break
            connection.close()

        threads = [threading.Thread(target=beat, name="heartbeat", daemon=True)]
        if settings.CALLBACK_APPLY == "deferred":
            threads.append(
                threading.Thread(target=apply_callbacks, name="callbacks", daemon=True)
            )
        for thread in threads:
            thread.start()
        try:
            super().handle(*args, **options)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            worker_heartbeat_stop(name=name)
