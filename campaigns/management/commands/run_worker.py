"""A task worker that reports itself and outlives database restarts:
Django's `db_worker` plus a heartbeat, waiting for the database when its
connection is lost instead of exiting."""

import logging
import os
import socket
import threading

from django.conf import settings
from django.core.management.base import CommandError
from django.db import close_old_connections, connection
from django.utils import timezone
from django.utils.autoreload import DJANGO_AUTORELOAD_ENV, run_with_reloader
from django_tasks_db.compat import TASKS_LOGGER
from django_tasks_db.management.commands.db_worker import Command as DbWorkerCommand
from django_tasks_db.management.commands.db_worker import Worker

from campaigns.services import callbacks_apply_pending
from campaigns.services.operations import worker_heartbeat_beat, worker_heartbeat_stop
from campaigns.services.reconnect import (
    DATABASE_FAULTS,
    connection_lost,
    database_retry,
    database_wait,
)

logger = logging.getLogger(__name__)


class ReconnectingWorker(Worker):
    """db_worker's loop, which ends the process at the first database error
    outside a task, kept going through a lost connection: it waits for the
    database and goes on where it was."""

    def run(self) -> None:
        while True:
            try:
                return super().run()
            except DATABASE_FAULTS:
                if not connection_lost():
                    raise
                logger.warning("database connection lost: waiting for the database")
                database_wait()
                logger.warning("database reachable again: taking tasks")
                self.startup_delay = False

    def run_task(self, db_task_result) -> None:
        """A task that failed because the connection was lost could not be
        marked failed then: it is, once the database is back (a campaign's
        sending is picked up again by the engine's tick)."""
        try:
            super().run_task(db_task_result)
        except DATABASE_FAULTS as fault:
            if not connection_lost():
                raise
            failure = fault
            database_retry(
                lambda: db_task_result.set_failed(failure),
                what=f"recording task {db_task_result.id} as failed",
            )


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
                except DATABASE_FAULTS as fault:
                    logger.warning("heartbeat failed: database unavailable (%s)", fault)
                except Exception:
                    logger.exception("heartbeat failed")
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
                except DATABASE_FAULTS as fault:
                    logger.warning(
                        "applying callbacks failed: database unavailable (%s)", fault
                    )
                    applied = 0
                except Exception:
                    logger.exception("applying callbacks failed")
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
            self.work(**options)
        finally:
            stop.set()
            for thread in threads:
                thread.join(timeout=10)
            database_retry(
                lambda: worker_heartbeat_stop(name=name),
                what="withdrawing the heartbeat",
                patience=10,
            )

    def work(
        self,
        *,
        queue_name: str,
        exclude_queues: str,
        reload: bool,
        batch: bool,
        **options,
    ) -> None:
        """db_worker's `handle`, with the worker that outlives database
        restarts."""
        self.configure_logging(options["verbosity"])
        queue_names = queue_name.split(",")
        excluded = exclude_queues.split(",") if exclude_queues else []
        if excluded and "*" not in queue_names:
            raise CommandError("--exclude-queues can only be used with --queue-name=*")
        worker = ReconnectingWorker(
            queue_names=queue_names,
            excluded_queue_names=excluded,
            interval=options["interval"],
            batch=batch,
            backend_name=options["backend_name"],
            startup_delay=options["startup_delay"],
            max_tasks=options["max_tasks"],
            worker_id=options["worker_id"],
        )
        if reload and not batch:
            if os.environ.get(DJANGO_AUTORELOAD_ENV) == "true":
                worker.configure_signals()  # only in the child that works
            run_with_reloader(worker.run)
        else:
            worker.configure_signals()
            worker.run()
