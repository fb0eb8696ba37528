"""Telesign's answers written back to the recipients that were sent.

One prepared UPDATE per set of columns, run for many rows at once
(executemany): a fraction of the cost of `bulk_update`'s giant CASE
expression. `claimed_by = worker` in the WHERE clause skips any recipient
whose claim expired and went to another worker.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.db.models import DateTimeField

from ..models import Recipient


def recipients_claimed_update(
    *, columns: Sequence[str], rows: Sequence[Sequence]
) -> None:
    """Each row is the values of `columns`, then a recipient id and a worker
    id: set those columns and clear the claim time on that recipient if the
    worker still holds it."""
    if not rows:
        return
    quote = connection.ops.quote_name
    fields = [Recipient._meta.get_field(column) for column in columns]
    dated = [i for i, f in enumerate(fields) if isinstance(f, DateTimeField)]
    if dated:
        rows = [_with_db_datetimes(row, dated) for row in rows]
    assignments = ", ".join(f"{quote(field.column)} = %s" for field in fields)
    table = quote(Recipient._meta.db_table)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {table} SET {assignments}, claimed_at = NULL"  # noqa: S608
            " WHERE id = %s AND claimed_by = %s",
            rows,
        )


def _with_db_datetimes(row: Sequence, dated: list[int]) -> list:
    """The row with its datetimes as the database takes them (on SQLite, UTC
    text without an offset, as the ORM writes them)."""
    row = list(row)
    for i in dated:
        if isinstance(row[i], datetime):
            row[i] = connection.ops.adapt_datetimefield_value(row[i])
    return row
