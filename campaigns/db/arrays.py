"""How a column's values travel to PostgreSQL as one array parameter.

Set-based statements send one array per column (`unnest(%s::integer[], …)`),
so a statement stays the same size however many rows it writes.
"""

from django.db import connection


def array_type(field) -> str:
    """The PostgreSQL element type for an array of this field's values."""
    db_type = (
        field.rel_db_type(connection)
        if field.is_relation
        else field.db_type(connection)
    )
    return "text" if db_type.startswith("varchar") else db_type


def column_arrays(rows, fields) -> list[list]:
    """One list of values per field, in the order of `fields`."""
    return [[getattr(row, field.attname) for row in rows] for field in fields]
