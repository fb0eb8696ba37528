"""Writing some fields of many rows in one statement: UPDATE … FROM unnest."""

from django.db import connection

from .arrays import array_type, column_arrays


def rows_update(model, fields: list[str], rows) -> None:
    """Write `fields` of many rows of `model` at once.

    On PostgreSQL one UPDATE … FROM unnest(arrays) statement (one array per
    column, so the statement stays small whatever the batch; `bulk_update`
    would build one CASE per field with a branch per row); elsewhere one UPDATE
    per row, sent together.
    """
    rows = list(rows)
    if not rows:
        return
    columns = [model._meta.get_field(name) for name in fields]
    if connection.vendor == "postgresql":
        _rows_update_from_arrays(model, columns, rows)
    else:
        _rows_update_each(model, columns, rows)


def _rows_update_from_arrays(model, columns, rows) -> None:
    pk = model._meta.pk
    names = ", ".join([pk.column, *(c.column for c in columns)])
    assignments = ", ".join(f"{c.column} = v.{c.column}" for c in columns)
    unnest = ", ".join(f"%s::{array_type(c)}[]" for c in [pk, *columns])
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {model._meta.db_table} AS t SET {assignments} "  # noqa: S608 - names from model metadata
            f"FROM unnest({unnest}) AS v({names}) WHERE t.{pk.column} = v.{pk.column}",
            column_arrays(rows, [pk, *columns]),
        )


def _rows_update_each(model, columns, rows) -> None:
    pk = model._meta.pk
    assignments = ", ".join(f"{c.column} = %s" for c in columns)
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {model._meta.db_table} SET {assignments} WHERE {pk.column} = %s",  # noqa: S608 - names from model metadata
            [[*_prepared(row, columns), row.pk] for row in rows],
        )


def _prepared(row, columns) -> list:
    """The row's values of these columns, adapted for the database."""
    return [c.get_db_prep_save(getattr(row, c.attname), connection) for c in columns]
