"""Riding out a lost database connection (a restart, a failover, a dropped
network link) instead of dying of it.

Once the server has gone away, every statement on the old connection fails.
`database_retry` runs a step; when the step fails because the connection is
lost, it closes the connection, waits until the database answers again
(`database_wait`) and runs the step again. A step is retried only outside a
transaction: inside one, the whole transaction was lost, so the fault goes up
to whoever started it.

Errors the database raises on a working connection (a deadlock, a lock
timeout, SQLite's "database is locked") are not lost connections: they go up
unchanged.
"""

import logging
import threading
import time
from collections.abc import Callable

from django.db import InterfaceError, OperationalError, connection

logger = logging.getLogger(__name__)

# What a statement raises when the server is gone, stopping or starting.
DATABASE_FAULTS = (OperationalError, InterfaceError)

FIRST_PAUSE = 0.1
LONGEST_PAUSE = 2.0


def connection_lost() -> bool:
    """After a database error: is this thread's connection gone (rather than
    the statement refused on a working one)?"""
    return connection.connection is None or not connection.is_usable()


def database_wait(
    *, stop: threading.Event | None = None, patience: float | None = None
) -> bool:
    """Close this thread's connection and open a new one as soon as the
    database answers, trying again with growing pauses (up to 2 s).

    True once connected; False if `stop` is set or `patience` seconds pass
    first (None: wait as long as it takes).
    """
    started = time.monotonic()
    pause = FIRST_PAUSE
    while True:
        connection.close()
        try:
            connection.ensure_connection()
            if connection.is_usable():
                return True
        except DATABASE_FAULTS:
            pass
        if patience is not None and time.monotonic() - started > patience:
            return False
        if stop is not None:
            if stop.wait(pause):
                return False
        else:
            time.sleep(pause)
        pause = min(pause * 2, LONGEST_PAUSE)


def database_retry[T](
    step: Callable[[], T],
    *,
    what: str,
    stop: threading.Event | None = None,
    patience: float | None = None,
) -> T:
    """Run `step`; each time it fails because the database connection was
    lost, wait for the database (see `database_wait`) and run it again.

    `step` must be safe to run again after it failed: what it wrote was rolled
    back with its transaction, and what it had not written yet it still holds.
    Outside a transaction only; the fault goes up unchanged when `stop` is set
    or the database stays away for longer than `patience` seconds.
    """
    while True:
        try:
            return step()
        except DATABASE_FAULTS:
            if connection.in_atomic_block or not connection_lost():
                raise
            logger.warning("database connection lost while %s: waiting for it", what)
            lost_at = time.monotonic()
            if not database_wait(stop=stop, patience=patience):
                raise
            logger.warning(
                "database reachable again after %.1f s: %s goes on",
                time.monotonic() - lost_at,
                what,
            )
