"""The recipients export written as CSV by PostgreSQL itself:
`COPY (SELECT …) TO STDOUT`, so no row passes through Python.

The SELECT is the ORM query the export builds (campaigns.selectors.exports),
so its values, outcome labels included, reach the database as parameters.
PostgreSQL only.
"""

from collections.abc import Iterator

from django.db import connection
from django.db.models import QuerySet

# COPY hands over a row at a time: the stream passes on pieces this large.
PIECE_BYTES = 256 * 1024


def recipients_export_copy(rows: QuerySet) -> Iterator[bytes]:
    """The rows of `rows` (a values_list query) as CSV, without a header."""
    sql, params = rows.query.sql_with_params()
    with connection.cursor() as cursor:
        statement = f"COPY ({sql}) TO STDOUT WITH (FORMAT csv)"
        with cursor.cursor.copy(statement, params) as copy:
            pending = bytearray()
            for block in copy:
                pending += block
                if len(pending) >= PIECE_BYTES:
                    yield bytes(pending)
                    pending.clear()
            yield bytes(pending)
