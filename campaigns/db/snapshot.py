"""Several reads that see the database as of one moment.

A report is a dozen queries; a callback landing between two of them would
make them disagree (a deliveries chart counting one more Viber delivery than
the tile beside it). Inside `read_snapshot()` they all see the same data:
PostgreSQL runs them in one REPEATABLE READ transaction; SQLite's transaction
(IMMEDIATE, see config/settings.py) holds off writers until it ends.
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection, transaction


@contextmanager
def read_snapshot() -> Iterator[None]:
    """Reads inside see one snapshot of the database. Inside a transaction
    already open, they share that transaction's view instead."""
    if connection.in_atomic_block:
        yield
        return
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ")
        yield
