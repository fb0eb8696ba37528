"""Telesign's answers written back to the recipients that were sent.

One statement per set of columns for many rows at once: on PostgreSQL one
UPDATE … FROM unnest(arrays) (one round trip, however many rows), elsewhere
one prepared UPDATE run for each row (executemany); both a fraction of the
cost of `bulk_update`'s giant CASE expression. `claimed_by = worker` in the
WHERE clause skips any recipient whose claim expired and went to another
worker.
"""

from collections.abc import Sequence
from datetime import datetime

from django.db import connection
from django.db.models import DateTimeField

from ..models import Recipient
from .arrays import array_type


def recipients_claimed_update(
    *, columns: Sequence[str], rows: Sequence[Sequence]
) -> None:
    """Each row is the values of `columns`, then a recipient id and a worker
    id: set those columns and clear the claim time on that recipient if the
    worker still holds it."""
    if not rows:
        return
    fields = [Recipient._meta.get_field(column) for column in columns]
    if connection.vendor == "postgresql":
        _update_from_arrays(fields, rows)
        return
    quote = connection.ops.quote_name
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


def _update_from_arrays(fields, rows: Sequence[Sequence]) -> None:
    """PostgreSQL: every row in one UPDATE … FROM unnest, one array per column
    (the recipient ids and worker ids last)."""
    quote = connection.ops.quote_name
    names = [quote(field.column) for field in fields]
    arrays = [f"%s::{array_type(field)}[]" for field in fields]
    pk = Recipient._meta.pk
    arrays += [f"%s::{array_type(pk)}[]", "%s::text[]"]
    columns = [list(values) for values in zip(*rows, strict=True)]
    assignments = ", ".join(f"{name} = v.{name}" for name in names)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {quote(Recipient._meta.db_table)} AS t"  # noqa: S608 - names from model metadata
            f" SET {assignments}, claimed_at = NULL"
            f" FROM unnest({', '.join(arrays)}) AS v({', '.join(names)}, id, worker)"
            " WHERE t.id = v.id AND t.claimed_by = v.worker",
            columns,
        )


def _with_db_datetimes(row: Sequence, dated: list[int]) -> list:
    """The row with its datetimes as the database takes them (on SQLite, UTC
    text without an offset, as the ORM writes them)."""
    row = list(row)
    for i in dated:
        if isinstance(row[i], datetime):
            row[i] = connection.ops.adapt_datetimefield_value(row[i])
    return row
