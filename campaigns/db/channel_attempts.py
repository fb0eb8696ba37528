"""Writing the channel attempts a batch of callbacks changed, in one statement:
INSERT … SELECT FROM unnest … ON CONFLICT."""

from django.db import connection

from ..models import ChannelAttempt
from .arrays import array_type, column_arrays

# An attempt is one channel of one recipient (unique_recipient_channel).
IDENTITY = ["recipient", "channel"]


def channel_attempts_upsert(
    attempts: list[ChannelAttempt], *, fields: list[str]
) -> None:
    """Insert new attempts and write `fields` of known ones (known by recipient
    and channel), in one statement, as `bulk_create(update_conflicts=True)`
    would."""
    if not attempts:
        return
    if connection.vendor != "postgresql":
        ChannelAttempt.objects.bulk_create(
            attempts,
            update_conflicts=True,
            unique_fields=IDENTITY,
            update_fields=fields,
        )
        return
    # One array per column: the ORM's VALUES list costs more Python to build
    # than the database takes to run the statement. Every column is inserted,
    # as the ORM does; on a conflict only `fields` are written.
    columns = [f for f in ChannelAttempt._meta.concrete_fields if not f.primary_key]
    identity = [ChannelAttempt._meta.get_field(name) for name in IDENTITY]
    written = [ChannelAttempt._meta.get_field(name) for name in fields]
    names = ", ".join(c.column for c in columns)
    unnest = ", ".join(f"%s::{array_type(c)}[]" for c in columns)
    conflict = ", ".join(c.column for c in identity)
    updates = ", ".join(f"{c.column} = EXCLUDED.{c.column}" for c in written)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ChannelAttempt._meta.db_table} ({names}) "  # noqa: S608 - names from model metadata
            f"SELECT * FROM unnest({unnest}) "
            f"ON CONFLICT ({conflict}) DO UPDATE SET {updates}",
            column_arrays(attempts, columns),
        )
