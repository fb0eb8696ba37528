"""The smallest statement that proves the database answers, for /health/."""

from django.db import connection


def database_ping() -> None:
    """Run `SELECT 1`; raises django.db.DatabaseError when the database is down."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
